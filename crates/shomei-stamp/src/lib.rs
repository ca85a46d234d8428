#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod font;
mod image;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use shomei_core::time::UtcTime;
use shomei_pdf::{Appearance, AppearanceImage, PdfError};

pub use font::{StampFont, DEFAULT_FONT_FILES, MAX_FONT_BYTES};
pub use image::{SealImage, MAX_SEAL_BYTES, MAX_SEAL_SIDE};

/// Longest free text, in characters.
pub const MAX_TEXT_CHARS: usize = 400;
/// Most lines of free text.
pub const MAX_TEXT_LINES: usize = 6;
/// Smallest font size the text may shrink to, in points; a smaller rectangle is refused.
pub const MIN_FONT_SIZE: f64 = 4.0;
/// Largest font size used, in points.
pub const MAX_FONT_SIZE: f64 = 14.0;

/// Why a stamp cannot be made.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StampError {
    /// The font file cannot be used.
    #[error("stamp font: {0}")]
    Font(String),
    /// The text has a character the font cannot draw.
    #[error("the stamp font {font} has no glyph for {ch:?} (U+{code:04X}); choose another font or leave the character out", code = u32::from(*ch))]
    MissingGlyph {
        /// The character.
        ch: char,
        /// The font's PostScript name.
        font: String,
    },
    /// The seal image cannot be used.
    #[error("stamp image: {0}")]
    Image(String),
    /// The text or rectangle is not acceptable.
    #[error("stamp: {0}")]
    Invalid(String),
    /// Writing the appearance failed.
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

/// Where a visible signature goes and what it shows besides the signer and time.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// Page, 0-based.
    pub page: usize,
    /// Rectangle in the page's user space, `[llx, lly, urx, ury]` (points from the
    /// lower-left corner).
    pub rect: [f64; 4],
    /// Free text shown under the signer and time (`\n` separates lines).
    pub text: Option<String>,
    /// Seal image drawn at the right of the rectangle.
    pub seal: Option<Arc<SealImage>>,
    /// Font for all the text.
    pub font: Arc<StampFont>,
    /// Offset from UTC of the time shown, in minutes (`540` for Japan). The signature's
    /// `/M` stays in UTC.
    pub utc_offset_minutes: i32,
}

impl Stamp {
    /// A stamp at `rect` on `page` (0-based) with no free text and no seal, time in UTC.
    pub fn new(page: usize, rect: [f64; 4], font: Arc<StampFont>) -> Self {
        Stamp {
            page,
            rect,
            text: None,
            seal: None,
            font,
            utc_offset_minutes: 0,
        }
    }

    /// Reads a placement `PAGE,X,Y,W,H`: page from 1, the lower-left corner and the size in
    /// points (1/72 inch) from the page's lower-left corner. Returns the 0-based page and
    /// the rectangle `[x, y, x + w, y + h]`.
    pub fn parse_placement(spec: &str) -> Result<(usize, [f64; 4]), StampError> {
        let bad = || {
            StampError::Invalid(format!(
                "{spec:?} is not PAGE,X,Y,WIDTH,HEIGHT (page from 1, points from the lower-left corner)"
            ))
        };
        let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
        let [page, x, y, w, h] = parts.as_slice() else {
            return Err(bad());
        };
        let page: usize = page.parse().map_err(|_| bad())?;
        let num = |s: &str| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && v.abs() < 1e6)
        };
        let (Some(x), Some(y), Some(w), Some(h)) = (num(x), num(y), num(w), num(h)) else {
            return Err(bad());
        };
        if page == 0 || w <= 0.0 || h <= 0.0 {
            return Err(bad());
        }
        Ok((page.saturating_sub(1), [x, y, x + w, y + h]))
    }

    /// Reads a UTC offset `+09:00`, `-05:30`, `+9` or `Z` into minutes.
    pub fn parse_utc_offset(spec: &str) -> Result<i32, StampError> {
        let bad = || StampError::Invalid(format!("{spec:?} is not a UTC offset such as +09:00"));
        if spec == "Z" || spec == "UTC" {
            return Ok(0);
        }
        let (sign, rest) = match spec.as_bytes().first() {
            Some(b'+') => (1, spec.get(1..).ok_or_else(bad)?),
            Some(b'-') => (-1, spec.get(1..).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let h: i32 = h.parse().map_err(|_| bad())?;
        let m: i32 = m.parse().map_err(|_| bad())?;
        if !(0..=14).contains(&h) || !(0..60).contains(&m) {
            return Err(bad());
        }
        Ok(sign * (h * 60 + m))
    }

    /// Checks the free text: length, line count, no control characters but `\n`.
    pub fn check_text(text: &str) -> Result<(), StampError> {
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(StampError::Invalid(format!(
                "the text is longer than {MAX_TEXT_CHARS} characters"
            )));
        }
        if text.lines().count() > MAX_TEXT_LINES {
            return Err(StampError::Invalid(format!(
                "the text has more than {MAX_TEXT_LINES} lines"
            )));
        }
        if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n') {
            return Err(StampError::Invalid(format!(
                "the text contains the control character U+{:04X}",
                u32::from(c)
            )));
        }
        Ok(())
    }

    /// The lines the stamp shows: signer, time, then the free text.
    pub fn lines(&self, signer: &str, time: SystemTime) -> Result<Vec<String>, StampError> {
        let offset = i64::from(self.utc_offset_minutes);
        if offset.abs() > 14 * 60 {
            return Err(StampError::Invalid(
                "the UTC offset must be within ±14 hours".into(),
            ));
        }
        let shifted = if offset >= 0 {
            time.checked_add(Duration::from_secs(offset.unsigned_abs() * 60))
        } else {
            time.checked_sub(Duration::from_secs(offset.unsigned_abs() * 60))
        };
        let t = shifted
            .and_then(UtcTime::from_system_time)
            .ok_or_else(|| StampError::Invalid("the signing time is out of range".into()))?;
        let zone = if offset == 0 {
            "UTC".to_string()
        } else {
            let sign = if offset < 0 { '-' } else { '+' };
            format!(
                "{sign}{:02}:{:02}",
                offset.unsigned_abs() / 60,
                offset.unsigned_abs() % 60
            )
        };
        let signer: String = signer.chars().filter(|c| !c.is_control()).collect();
        let mut lines = vec![
            format!("署名 Signed by: {signer}"),
            format!(
                "日時 Date: {:04}-{:02}-{:02} {:02}:{:02}:{:02} {zone}",
                t.year, t.month, t.day, t.hour, t.minute, t.second
            ),
        ];
        if let Some(text) = &self.text {
            Self::check_text(text)?;
            lines.extend(text.lines().map(str::to_owned));
        }
        Ok(lines)
    }

    /// The appearance for a signature by `signer` at `time`.
    pub fn render(&self, signer: &str, time: SystemTime) -> Result<Appearance, StampError> {
        let lines = self.lines(signer, time)?;
        self.render_lines(&lines)
    }

    /// The appearance showing exactly `lines`, laid out in the rectangle: the text
    /// shrinks (down to [`MIN_FONT_SIZE`]) to fit beside the seal.
    pub fn render_lines(&self, lines: &[String]) -> Result<Appearance, StampError> {
        let [x0, y0, x1, y1] = self.rect;
        let (w, h) = (x1 - x0, y1 - y0);
        if !self.rect.iter().all(|v| v.is_finite()) || w < 10.0 || h < 10.0 {
            return Err(StampError::Invalid(
                "the rectangle must be at least 10 × 10 points, given as x, y, width, height"
                    .into(),
            ));
        }
        let pad = (w.min(h) * 0.06).clamp(2.0, 8.0);
        let seal_side = match &self.seal {
            Some(_) => (h - 2.0 * pad).min(w * 0.4),
            None => 0.0,
        };
        let text_w = w
            - 2.0 * pad
            - if seal_side > 0.0 {
                seal_side + pad
            } else {
                0.0
            };

        let mut enc = font::Encoder::new(&self.font)?;
        let encoded = lines
            .iter()
            .map(|l| enc.line(l))
            .collect::<Result<Vec<_>, _>>()?;
        let n = f64::from(u32::try_from(encoded.len()).unwrap_or(u32::MAX)).max(1.0);
        let leading = 1.25;
        let mut size = ((h - 2.0 * pad) / (n * leading)).min(MAX_FONT_SIZE);
        for l in &encoded {
            if l.width_em > 0.0 {
                size = size.min(text_w / l.width_em);
            }
        }
        if size < MIN_FONT_SIZE || text_w <= 0.0 {
            let widest = encoded.iter().map(|l| l.width_em).fold(0.0, f64::max);
            return Err(StampError::Invalid(format!(
                "the rectangle ({w:.0} × {h:.0} pt) is too small for the text at {MIN_FONT_SIZE} pt: \
                 it needs about {:.0} × {:.0} pt",
                widest * MIN_FONT_SIZE + 2.0 * pad + if seal_side > 0.0 { seal_side + pad } else { 0.0 },
                n * leading * MIN_FONT_SIZE + 2.0 * pad
            )));
        }

        let mut c = String::new();
        // A white card with a thin border: the stamp reads the same on any page.
        let _ = writeln!(
            c,
            "q 1 1 1 rg 0.16 0.29 0.55 RG 0.8 w 0.4 0.4 {:.2} {:.2} re B Q",
            w - 0.8,
            h - 0.8
        );
        if let Some(seal) = &self.seal {
            let (iw, ih) = seal.size();
            let (iw, ih) = (f64::from(iw), f64::from(ih));
            let scale = (seal_side / iw).min(seal_side / ih);
            let (dw, dh) = (iw * scale, ih * scale);
            let sx = w - pad - seal_side + (seal_side - dw) / 2.0;
            let sy = (h - dh) / 2.0;
            let _ = writeln!(c, "q {dw:.3} 0 0 {dh:.3} {sx:.3} {sy:.3} cm /Im1 Do Q");
        }
        let block = n * leading * size;
        let top = (h + block) / 2.0;
        let _ = writeln!(c, "BT /F1 {size:.3} Tf 0.1 0.1 0.1 rg");
        for (i, l) in encoded.iter().enumerate() {
            let i = f64::from(u32::try_from(i).unwrap_or(0));
            let baseline = top - (i + 1.0) * leading * size + 0.3 * size;
            let _ = writeln!(c, "1 0 0 1 {pad:.3} {baseline:.3} Tm <{}> Tj", l.hex);
        }
        c.push_str("ET\n");

        let mut appearance = Appearance::new(self.page, self.rect, c.into_bytes());
        appearance.fonts.push(enc.finish("F1")?);
        if let Some(seal) = &self.seal {
            appearance.images.push(AppearanceImage::new(
                "Im1".into(),
                seal.width,
                seal.height,
                seal.rgb.clone(),
                seal.alpha.clone(),
            )?);
        }
        Ok(appearance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_and_offsets() {
        assert_eq!(
            Stamp::parse_placement("2, 300,600.5,200,80").unwrap(),
            (1, [300.0, 600.5, 500.0, 680.5])
        );
        for bad in [
            "0,1,1,10,10",
            "1,1,1,0,10",
            "1,1,1,10",
            "x,1,1,10,10",
            "1,NaN,1,10,10",
        ] {
            assert!(Stamp::parse_placement(bad).is_err(), "{bad}");
        }
        assert_eq!(Stamp::parse_utc_offset("+09:00").unwrap(), 540);
        assert_eq!(Stamp::parse_utc_offset("-05:30").unwrap(), -330);
        assert_eq!(Stamp::parse_utc_offset("Z").unwrap(), 0);
        assert!(Stamp::parse_utc_offset("+15:00").is_err());
        assert!(Stamp::parse_utc_offset("09:00").is_err());
    }

    #[test]
    fn text_checks() {
        assert!(Stamp::check_text("承認済み\nApproved").is_ok());
        assert!(Stamp::check_text("a\tb").is_err());
        assert!(Stamp::check_text(&"x\n".repeat(MAX_TEXT_LINES + 1)).is_err());
        assert!(Stamp::check_text(&"あ".repeat(MAX_TEXT_CHARS + 1)).is_err());
    }
}
