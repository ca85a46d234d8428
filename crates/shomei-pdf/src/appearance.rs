//! A visible signature's appearance (ISO 32000-1 §12.5.5): a form XObject drawn in the
//! widget's rectangle, with its embedded fonts (§9.7, Type0 / Identity-H, with a
//! `/ToUnicode` map so the text can be extracted, §9.10) and images (§8.9, alpha as an
//! `/SMask`, §11.6.5.3).
//!
//! This crate only writes the objects; laying out text, subsetting fonts and decoding
//! images is the caller's (the `shomei-stamp` crate).

use std::io::Write;

use crate::error::PdfError;
use crate::object::{Dictionary, Object, ObjectId, Stream};

/// What a visible signature looks like and where it goes.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Appearance {
    /// Page the widget is placed on, 0-based.
    pub page: usize,
    /// The widget's rectangle in the page's default user space: `[llx, lly, urx, ury]`.
    pub rect: [f64; 4],
    /// The appearance's content stream (uncompressed), drawing in the box
    /// `[0 0 width height]` of the rectangle.
    pub content: Vec<u8>,
    /// Fonts the content uses, by resource name.
    pub fonts: Vec<AppearanceFont>,
    /// Images the content uses, by resource name.
    pub images: Vec<AppearanceImage>,
}

impl Appearance {
    /// An appearance with the given content and no resources yet.
    pub fn new(page: usize, rect: [f64; 4], content: Vec<u8>) -> Self {
        Appearance {
            page,
            rect,
            content,
            fonts: Vec::new(),
            images: Vec::new(),
        }
    }

    /// Width and height of the rectangle.
    pub fn size(&self) -> (f64, f64) {
        let [a, b, c, d] = self.rect;
        ((c - a).abs(), (d - b).abs())
    }
}

/// How a font program's glyphs are described.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FontOutlines {
    /// TrueType (`glyf`) outlines: a `/CIDFontType2` with the whole (subset) font file as
    /// `/FontFile2`.
    TrueType,
    /// A CID-keyed bare CFF table: a `/CIDFontType0` with `/FontFile3 /Subtype /CIDFontType0C`.
    Cff,
}

/// An embedded CID font used with the `Identity-H` encoding: each glyph is drawn by its
/// 2-byte CID, and CIDs are the program's glyph ids.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct AppearanceFont {
    /// Resource name used in the content (`F1` for `/F1 10 Tf`).
    pub resource_name: String,
    /// PostScript name with its subset tag, e.g. `ABCDEF+IPAexGothic`.
    pub base_font: String,
    /// The kind of outlines in `program`.
    pub outlines: FontOutlines,
    /// The (subset) font program.
    pub program: Vec<u8>,
    /// Advance width of each CID from 0, in thousandths of an em.
    pub widths: Vec<u32>,
    /// The `/ToUnicode` CMap (uncompressed).
    pub to_unicode: Vec<u8>,
    /// Font bounding box in thousandths of an em.
    pub bbox: [i32; 4],
    /// Ascent, thousandths of an em.
    pub ascent: i32,
    /// Descent (negative), thousandths of an em.
    pub descent: i32,
    /// Height of capital letters, thousandths of an em.
    pub cap_height: i32,
}

impl AppearanceFont {
    /// A font with the given program and metrics.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        resource_name: String,
        base_font: String,
        outlines: FontOutlines,
        program: Vec<u8>,
        widths: Vec<u32>,
        to_unicode: Vec<u8>,
        bbox: [i32; 4],
        ascent: i32,
        descent: i32,
        cap_height: i32,
    ) -> Self {
        AppearanceFont {
            resource_name,
            base_font,
            outlines,
            program,
            widths,
            to_unicode,
            bbox,
            ascent,
            descent,
            cap_height,
        }
    }
}

/// An 8-bit RGB image, with an optional 8-bit alpha channel.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppearanceImage {
    /// Resource name used in the content (`Im1` for `/Im1 Do`).
    pub resource_name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height × 3` bytes, rows top to bottom.
    pub rgb: Vec<u8>,
    /// `width × height` bytes of opacity, if the image is not opaque.
    pub alpha: Option<Vec<u8>>,
}

impl AppearanceImage {
    /// An image; fails when the buffers do not match the size.
    pub fn new(
        resource_name: String,
        width: u32,
        height: u32,
        rgb: Vec<u8>,
        alpha: Option<Vec<u8>>,
    ) -> Result<Self, PdfError> {
        let pixels = usize::try_from(u64::from(width).saturating_mul(u64::from(height)))
            .map_err(|_| PdfError::OutOfRange("image size"))?;
        if pixels == 0
            || rgb.len() != pixels.saturating_mul(3)
            || alpha.as_ref().is_some_and(|a| a.len() != pixels)
        {
            return Err(PdfError::InvalidRequest(
                "the image's pixel data does not match its size".into(),
            ));
        }
        Ok(AppearanceImage {
            resource_name,
            width,
            height,
            rgb,
            alpha,
        })
    }
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data)?;
    Ok(e.finish()?)
}

fn compressed(mut dict: Dictionary, data: &[u8]) -> Result<Object, PdfError> {
    dict.set("Filter", Object::name("FlateDecode"));
    Ok(Object::Stream(Stream {
        dict,
        data: deflate(data)?,
    }))
}

fn number(v: f64) -> Object {
    Object::Real(v)
}

fn int(v: impl Into<i64>) -> Object {
    Object::Integer(v.into())
}

fn valid_resource_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 32 && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Checks an appearance before anything is written.
pub(crate) fn check(appearance: &Appearance) -> Result<(), PdfError> {
    let (w, h) = appearance.size();
    if !appearance.rect.iter().all(|v| v.is_finite()) || w < 1.0 || h < 1.0 {
        return Err(PdfError::InvalidRequest(
            "the stamp's rectangle must be at least 1 × 1 point".into(),
        ));
    }
    let names = appearance
        .fonts
        .iter()
        .map(|f| &f.resource_name)
        .chain(appearance.images.iter().map(|i| &i.resource_name));
    let mut seen = std::collections::HashSet::new();
    for n in names {
        if !valid_resource_name(n) || !seen.insert(n.as_str()) {
            return Err(PdfError::InvalidRequest(format!(
                "appearance resource name {n:?} is empty, not alphanumeric or used twice"
            )));
        }
    }
    for f in &appearance.fonts {
        let tag_ok = f
            .base_font
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>[]{}/%#".contains(&b));
        if f.base_font.is_empty() || !tag_ok {
            return Err(PdfError::InvalidRequest(format!(
                "font name {:?} is not a PDF name",
                f.base_font
            )));
        }
    }
    Ok(())
}

/// Writes the appearance's objects with ids from `alloc`; returns the form XObject's id
/// and every object to write.
pub(crate) fn objects(
    appearance: &Appearance,
    alloc: &mut dyn FnMut() -> ObjectId,
) -> Result<(ObjectId, Vec<(ObjectId, Object)>), PdfError> {
    let (w, h) = appearance.size();
    let form_id = alloc();
    let mut out = Vec::new();
    let mut font_res = Dictionary::new();
    for f in &appearance.fonts {
        let type0_id = alloc();
        let cid_id = alloc();
        let desc_id = alloc();
        let file_id = alloc();
        let tu_id = alloc();
        font_res.set(f.resource_name.as_bytes(), Object::Reference(type0_id));

        let mut type0 = Dictionary::new();
        type0.set("Type", Object::name("Font"));
        type0.set("Subtype", Object::name("Type0"));
        let type0_name = match f.outlines {
            // §9.7.6.1: for a CIDFontType0 the Type0 font's name is the CIDFont's name,
            // a hyphen and the CMap's name.
            FontOutlines::Cff => format!("{}-Identity-H", f.base_font),
            FontOutlines::TrueType => f.base_font.clone(),
        };
        type0.set("BaseFont", Object::name(&type0_name));
        type0.set("Encoding", Object::name("Identity-H"));
        type0.set(
            "DescendantFonts",
            Object::Array(vec![Object::Reference(cid_id)]),
        );
        type0.set("ToUnicode", Object::Reference(tu_id));
        out.push((type0_id, Object::Dictionary(type0)));

        let mut sysinfo = Dictionary::new();
        sysinfo.set("Registry", Object::String(b"Adobe".to_vec()));
        sysinfo.set("Ordering", Object::String(b"Identity".to_vec()));
        sysinfo.set("Supplement", int(0));
        let mut cid = Dictionary::new();
        cid.set("Type", Object::name("Font"));
        cid.set(
            "Subtype",
            Object::name(match f.outlines {
                FontOutlines::TrueType => "CIDFontType2",
                FontOutlines::Cff => "CIDFontType0",
            }),
        );
        cid.set("BaseFont", Object::name(&f.base_font));
        cid.set("CIDSystemInfo", Object::Dictionary(sysinfo));
        cid.set("FontDescriptor", Object::Reference(desc_id));
        cid.set("DW", int(1000));
        // §9.7.4.3: `c [w0 w1 …]` gives consecutive CIDs from c.
        let widths = f.widths.iter().map(|w| int(*w)).collect();
        cid.set("W", Object::Array(vec![int(0), Object::Array(widths)]));
        if f.outlines == FontOutlines::TrueType {
            cid.set("CIDToGIDMap", Object::name("Identity"));
        }
        out.push((cid_id, Object::Dictionary(cid)));

        let mut desc = Dictionary::new();
        desc.set("Type", Object::name("FontDescriptor"));
        desc.set("FontName", Object::name(&f.base_font));
        // Symbolic: the font's glyphs are addressed by CID, not a standard Latin set.
        desc.set("Flags", int(4));
        desc.set(
            "FontBBox",
            Object::Array(f.bbox.iter().map(|v| int(*v)).collect()),
        );
        desc.set("ItalicAngle", int(0));
        desc.set("Ascent", int(f.ascent));
        desc.set("Descent", int(f.descent));
        desc.set("CapHeight", int(f.cap_height));
        desc.set("StemV", int(80));
        let (file_key, mut file_dict) = match f.outlines {
            FontOutlines::TrueType => ("FontFile2", Dictionary::new()),
            FontOutlines::Cff => {
                let mut d = Dictionary::new();
                d.set("Subtype", Object::name("CIDFontType0C"));
                ("FontFile3", d)
            }
        };
        desc.set(file_key, Object::Reference(file_id));
        out.push((desc_id, Object::Dictionary(desc)));
        if f.outlines == FontOutlines::TrueType {
            file_dict.set(
                "Length1",
                int(i64::try_from(f.program.len()).unwrap_or(i64::MAX)),
            );
        }
        out.push((file_id, compressed(file_dict, &f.program)?));
        out.push((tu_id, compressed(Dictionary::new(), &f.to_unicode)?));
    }
    let mut image_res = Dictionary::new();
    for img in &appearance.images {
        let img_id = alloc();
        image_res.set(img.resource_name.as_bytes(), Object::Reference(img_id));
        let mut d = Dictionary::new();
        d.set("Type", Object::name("XObject"));
        d.set("Subtype", Object::name("Image"));
        d.set("Width", int(img.width));
        d.set("Height", int(img.height));
        d.set("ColorSpace", Object::name("DeviceRGB"));
        d.set("BitsPerComponent", int(8));
        if let Some(alpha) = &img.alpha {
            let mask_id = alloc();
            d.set("SMask", Object::Reference(mask_id));
            let mut m = Dictionary::new();
            m.set("Type", Object::name("XObject"));
            m.set("Subtype", Object::name("Image"));
            m.set("Width", int(img.width));
            m.set("Height", int(img.height));
            m.set("ColorSpace", Object::name("DeviceGray"));
            m.set("BitsPerComponent", int(8));
            out.push((mask_id, compressed(m, alpha)?));
        }
        out.push((img_id, compressed(d, &img.rgb)?));
    }
    let mut resources = Dictionary::new();
    if !font_res.is_empty() {
        resources.set("Font", Object::Dictionary(font_res));
    }
    if !image_res.is_empty() {
        resources.set("XObject", Object::Dictionary(image_res));
    }
    let mut form = Dictionary::new();
    form.set("Type", Object::name("XObject"));
    form.set("Subtype", Object::name("Form"));
    form.set(
        "BBox",
        Object::Array(vec![int(0), int(0), number(w), number(h)]),
    );
    form.set("Resources", Object::Dictionary(resources));
    out.insert(0, (form_id, compressed(form, &appearance.content)?));
    Ok((form_id, out))
}
