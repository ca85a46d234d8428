//! A font for stamps: glyph lookup, metrics and subsetting.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::Digest as _;
use shomei_pdf::{AppearanceFont, FontOutlines};
use ttf_parser::{name_id, Face, GlyphId, Tag};

use crate::StampError;

/// Largest font file accepted (Noto CJK collections are about 20 MB).
pub const MAX_FONT_BYTES: usize = 64 << 20;

/// Fonts Debian installs that cover Japanese and Latin: IPAex Gothic
/// (`fonts-ipaexfont-gothic`, TrueType outlines) and Noto Sans CJK JP (`fonts-noto-cjk`,
/// CFF outlines, face 0 of the collection). Each entry is a path and a face index.
pub const DEFAULT_FONT_FILES: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf", 0),
    ("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
];

/// A parsed font file (TrueType or CFF outlines, possibly one face of a collection).
pub struct StampFont {
    data: Vec<u8>,
    index: u32,
    postscript_name: String,
    outlines: FontOutlines,
}

impl std::fmt::Debug for StampFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StampFont")
            .field("postscript_name", &self.postscript_name)
            .field("index", &self.index)
            .field("outlines", &self.outlines)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl StampFont {
    /// Reads face `index` of a font file (0 unless it is a `.ttc` collection) and checks
    /// that it can be embedded as a subset.
    pub fn new(data: Vec<u8>, index: u32) -> Result<Self, StampError> {
        if data.len() > MAX_FONT_BYTES {
            return Err(StampError::Font(format!(
                "the font file has {} bytes; at most {MAX_FONT_BYTES} are read",
                data.len()
            )));
        }
        let face = Face::parse(&data, index)
            .map_err(|e| StampError::Font(format!("face {index} cannot be read: {e}")))?;
        let raw = face.raw_face();
        let has = |t: &[u8; 4]| raw.table(Tag::from_bytes(t)).is_some();
        let outlines = if has(b"glyf") {
            FontOutlines::TrueType
        } else if has(b"CFF ") {
            FontOutlines::Cff
        } else {
            return Err(StampError::Font(
                "the font has neither TrueType nor CFF outlines (CFF2 and bitmap fonts are not \
                 supported)"
                    .into(),
            ));
        };
        if !face.is_subsetting_allowed() {
            return Err(StampError::Font(
                "the font's licence bits (OS/2 fsType) do not allow embedding a subset".into(),
            ));
        }
        let postscript_name = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            .map(|n| {
                n.chars()
                    .filter(|c| c.is_ascii_graphic() && !"()<>[]{}/%#".contains(*c))
                    .collect::<String>()
            })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "StampFont".into());
        Ok(StampFont {
            data,
            index,
            postscript_name,
            outlines,
        })
    }

    /// Reads a font file: `PATH` or `PATH#INDEX` (a face of a `.ttc` collection).
    pub fn from_file(spec: &str) -> Result<Self, StampError> {
        let (path, index) = match spec.rsplit_once('#') {
            Some((p, i)) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) => (
                p,
                i.parse()
                    .map_err(|_| StampError::Font(format!("{spec}: bad face index")))?,
            ),
            _ => (spec, 0),
        };
        let meta = std::fs::metadata(path)
            .map_err(|e| StampError::Font(format!("{path}: cannot read: {e}")))?;
        if meta.len() > u64::try_from(MAX_FONT_BYTES).unwrap_or(u64::MAX) {
            return Err(StampError::Font(format!(
                "{path}: the file is larger than {MAX_FONT_BYTES} bytes"
            )));
        }
        let data = std::fs::read(path)
            .map_err(|e| StampError::Font(format!("{path}: cannot read: {e}")))?;
        Self::new(data, index).map_err(|e| match e {
            StampError::Font(m) => StampError::Font(format!("{path}: {m}")),
            other => other,
        })
    }

    /// The first of [`DEFAULT_FONT_FILES`] that is installed.
    pub fn system_default() -> Result<Self, StampError> {
        for (path, index) in DEFAULT_FONT_FILES {
            if std::path::Path::new(path).is_file() {
                return Self::from_file(&format!("{path}#{index}"));
            }
        }
        Err(StampError::Font(format!(
            "no Japanese font is installed (looked for {}); install Debian's \
             fonts-ipaexfont-gothic or fonts-noto-cjk, or name a font file",
            DEFAULT_FONT_FILES
                .iter()
                .map(|(p, _)| *p)
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// The font's PostScript name.
    pub fn postscript_name(&self) -> &str {
        &self.postscript_name
    }

    fn face(&self) -> Result<Face<'_>, StampError> {
        Face::parse(&self.data, self.index).map_err(|e| StampError::Font(e.to_string()))
    }
}

/// Text being encoded with one font: glyphs are renumbered as they are first used.
pub(crate) struct Encoder<'a> {
    font: &'a StampFont,
    face: Face<'a>,
    remapper: subsetter::GlyphRemapper,
    unicode: BTreeMap<u16, char>,
}

/// One line, encoded: its glyph codes (new glyph ids) and its width in ems.
pub(crate) struct EncodedLine {
    pub(crate) hex: String,
    pub(crate) width_em: f64,
}

impl<'a> Encoder<'a> {
    pub(crate) fn new(font: &'a StampFont) -> Result<Self, StampError> {
        Ok(Encoder {
            font,
            face: font.face()?,
            remapper: subsetter::GlyphRemapper::new(),
            unicode: BTreeMap::new(),
        })
    }

    fn advance_em(&self, gid: u16) -> f64 {
        let upem = f64::from(self.face.units_per_em().max(1));
        f64::from(self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0)) / upem
    }

    /// Encodes a line; refuses characters the font has no glyph for.
    pub(crate) fn line(&mut self, text: &str) -> Result<EncodedLine, StampError> {
        let mut hex = String::with_capacity(text.len().saturating_mul(4));
        let mut width_em = 0.0;
        for ch in text.chars() {
            let gid = match self.face.glyph_index(ch) {
                Some(g) if g.0 != 0 => g.0,
                _ => {
                    return Err(StampError::MissingGlyph {
                        ch,
                        font: self.font.postscript_name.clone(),
                    })
                }
            };
            let cid = self.remapper.remap(gid);
            self.unicode.entry(cid).or_insert(ch);
            width_em += self.advance_em(gid);
            let _ = write!(hex, "{cid:04X}");
        }
        Ok(EncodedLine { hex, width_em })
    }

    /// Subsets the font to the glyphs used so far and describes it for the PDF writer.
    pub(crate) fn finish(self, resource_name: &str) -> Result<AppearanceFont, StampError> {
        let subset = subsetter::subset(&self.font.data, self.font.index, &self.remapper)
            .map_err(|e| StampError::Font(format!("subsetting failed: {e}")))?;
        let program = match self.font.outlines {
            FontOutlines::Cff => ttf_parser::RawFace::parse(&subset, 0)
                .ok()
                .and_then(|f| f.table(Tag::from_bytes(b"CFF ")))
                .map(<[u8]>::to_vec)
                .ok_or_else(|| StampError::Font("the subset has no CFF table".into()))?,
            _ => subset,
        };
        let old_gids: Vec<u16> = self.remapper.remapped_gids().collect();
        let widths = old_gids
            .iter()
            .map(|g| thousandths(self.advance_em(*g)))
            .map(|w| u32::try_from(w).unwrap_or(0))
            .collect();
        // A subset tag (ISO 32000-1 §9.6.4) from the glyph set: six capital letters.
        let digest = sha2::Sha256::digest(
            old_gids
                .iter()
                .flat_map(|g| g.to_be_bytes())
                .collect::<Vec<_>>(),
        );
        let tag: String = digest
            .iter()
            .take(6)
            .map(|b| char::from(b'A'.saturating_add(b % 26)))
            .collect();
        let upem = f64::from(self.face.units_per_em().max(1));
        let scale = |v: i16| i32::try_from(thousandths(f64::from(v) / upem)).unwrap_or(0);
        let bb = self.face.global_bounding_box();
        let ascent = scale(self.face.ascender());
        Ok(AppearanceFont::new(
            resource_name.into(),
            format!("{tag}+{}", self.font.postscript_name),
            self.font.outlines,
            program,
            widths,
            to_unicode_cmap(&self.unicode).into_bytes(),
            [
                scale(bb.x_min),
                scale(bb.y_min),
                scale(bb.x_max),
                scale(bb.y_max),
            ],
            ascent,
            scale(self.face.descender()),
            self.face.capital_height().map_or(ascent, scale),
        ))
    }
}

/// `v` ems in thousandths, rounded.
fn thousandths(v: f64) -> i64 {
    let t = (v * 1000.0).round();
    if t.is_finite() && t.abs() < 1e9 {
        // In range by the check above.
        #[allow(clippy::as_conversions)]
        let t = t as i64;
        t
    } else {
        0
    }
}

/// A `/ToUnicode` CMap (ISO 32000-1 §9.10.3, syntax of Adobe TN 5014) mapping each CID to
/// its character, UTF-16BE (a surrogate pair outside the BMP).
pub(crate) fn to_unicode_cmap(map: &BTreeMap<u16, char>) -> String {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &char)> = map.iter().collect();
    // At most 100 entries per block (TN 5014).
    for block in entries.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", block.len());
        for (cid, ch) in block {
            let mut units = [0u16; 2];
            let utf16: String = ch
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(out, "<{cid:04X}> <{utf16}>");
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_unicode_writes_bmp_and_surrogate_pairs() {
        let mut m = BTreeMap::new();
        m.insert(1, '署');
        m.insert(2, 'A');
        m.insert(0x28, '𠮷');
        let cmap = to_unicode_cmap(&m);
        assert!(cmap.contains("3 beginbfchar\n<0001> <7F72>\n<0002> <0041>\n<0028> <D842DFB7>\n"));
    }

    #[test]
    fn blocks_hold_at_most_100_entries() {
        let m: BTreeMap<u16, char> = (1..=150u16)
            .map(|i| (i, char::from_u32(0x4e00 + u32::from(i)).unwrap()))
            .collect();
        let cmap = to_unicode_cmap(&m);
        assert!(cmap.contains("100 beginbfchar"));
        assert!(cmap.contains("50 beginbfchar"));
    }

    #[test]
    fn a_file_that_is_not_a_font_is_refused() {
        let e = StampFont::new(b"not a font".to_vec(), 0).unwrap_err();
        assert!(matches!(e, StampError::Font(_)), "{e}");
    }
}
