//! The seal image: a PNG decoded into RGB and an alpha channel.

use crate::StampError;

/// Largest side of a seal image in pixels (a seal printed 3 cm wide at 600 dpi is about
/// 700 pixels).
pub const MAX_SEAL_SIDE: u32 = 1024;

/// Largest PNG file accepted.
pub const MAX_SEAL_BYTES: usize = 8 << 20;

/// A decoded seal image.
#[derive(Clone, PartialEq, Eq)]
pub struct SealImage {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) rgb: Vec<u8>,
    /// `None` when every pixel is opaque.
    pub(crate) alpha: Option<Vec<u8>>,
}

impl std::fmt::Debug for SealImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("transparent", &self.alpha.is_some())
            .finish()
    }
}

impl SealImage {
    /// Decodes a PNG (any colour type and depth; palette and `tRNS` transparency included).
    pub fn from_png(bytes: &[u8]) -> Result<Self, StampError> {
        let bad = |e: &dyn std::fmt::Display| StampError::Image(format!("not a usable PNG: {e}"));
        if bytes.len() > MAX_SEAL_BYTES {
            return Err(StampError::Image(format!(
                "the PNG has {} bytes; at most {MAX_SEAL_BYTES} are accepted",
                bytes.len()
            )));
        }
        let limit = usize::try_from(u64::from(MAX_SEAL_SIDE) * u64::from(MAX_SEAL_SIDE) * 8)
            .unwrap_or(usize::MAX);
        let mut decoder = png::Decoder::new_with_limits(
            std::io::Cursor::new(bytes),
            png::Limits { bytes: limit },
        );
        decoder.set_transformations(
            png::Transformations::normalize_to_color8() | png::Transformations::ALPHA,
        );
        let mut reader = decoder.read_info().map_err(|e| bad(&e))?;
        let (w, h) = {
            let info = reader.info();
            (info.width, info.height)
        };
        if w == 0 || h == 0 || w > MAX_SEAL_SIDE || h > MAX_SEAL_SIDE {
            return Err(StampError::Image(format!(
                "the seal is {w}×{h} pixels; each side must be between 1 and {MAX_SEAL_SIDE}"
            )));
        }
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| StampError::Image("the PNG is too large".into()))?;
        let mut buf = vec![0; size];
        let info = reader.next_frame(&mut buf).map_err(|e| bad(&e))?;
        buf.truncate(info.buffer_size());
        let pixels = usize::try_from(u64::from(w) * u64::from(h))
            .map_err(|_| StampError::Image("the PNG is too large".into()))?;
        let mut rgb = Vec::with_capacity(pixels.saturating_mul(3));
        let mut alpha = Vec::with_capacity(pixels);
        match info.color_type {
            png::ColorType::Rgba => {
                for p in buf.chunks_exact(4) {
                    if let [r, g, b, a] = p {
                        rgb.extend_from_slice(&[*r, *g, *b]);
                        alpha.push(*a);
                    }
                }
            }
            png::ColorType::GrayscaleAlpha => {
                for p in buf.chunks_exact(2) {
                    if let [v, a] = p {
                        rgb.extend_from_slice(&[*v, *v, *v]);
                        alpha.push(*a);
                    }
                }
            }
            png::ColorType::Rgb => rgb = buf,
            png::ColorType::Grayscale => {
                for v in &buf {
                    rgb.extend_from_slice(&[*v, *v, *v]);
                }
            }
            png::ColorType::Indexed => {
                return Err(StampError::Image("the palette was not expanded".into()))
            }
        }
        if rgb.len() != pixels.saturating_mul(3) || !(alpha.is_empty() || alpha.len() == pixels) {
            return Err(StampError::Image(
                "the PNG's pixel data is incomplete".into(),
            ));
        }
        let alpha = (!alpha.is_empty() && alpha.iter().any(|a| *a != 255)).then_some(alpha);
        Ok(SealImage {
            width: w,
            height: h,
            rgb,
            alpha,
        })
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(color: png::ColorType, depth: png::BitDepth, w: u32, h: u32, data: &[u8]) -> Vec<u8> {
        encode_with(color, depth, w, h, data, |_| {})
    }

    fn encode_with(
        color: png::ColorType,
        depth: png::BitDepth,
        w: u32,
        h: u32,
        data: &[u8],
        extra: impl FnOnce(&mut png::Encoder<'_, &mut Vec<u8>>),
    ) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(color);
            enc.set_depth(depth);
            extra(&mut enc);
            let mut wr = enc.write_header().unwrap();
            wr.write_image_data(data).unwrap();
        }
        out
    }

    #[test]
    fn rgba_splits_into_rgb_and_alpha() {
        let png = encode(
            png::ColorType::Rgba,
            png::BitDepth::Eight,
            2,
            1,
            &[10, 20, 30, 0, 40, 50, 60, 255],
        );
        let img = SealImage::from_png(&png).unwrap();
        assert_eq!(img.size(), (2, 1));
        assert_eq!(img.rgb, vec![10, 20, 30, 40, 50, 60]);
        assert_eq!(img.alpha, Some(vec![0, 255]));
    }

    #[test]
    fn opaque_images_have_no_mask() {
        let png = encode(
            png::ColorType::Rgba,
            png::BitDepth::Eight,
            1,
            1,
            &[1, 2, 3, 255],
        );
        assert_eq!(SealImage::from_png(&png).unwrap().alpha, None);
        let png = encode(
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            2,
            1,
            &[7, 9],
        );
        let img = SealImage::from_png(&png).unwrap();
        assert_eq!(img.rgb, vec![7, 7, 7, 9, 9, 9]);
        assert_eq!(img.alpha, None);
    }

    #[test]
    fn sixteen_bit_gray_alpha_is_reduced_to_eight() {
        let png = encode(
            png::ColorType::GrayscaleAlpha,
            png::BitDepth::Sixteen,
            1,
            1,
            &[0x80, 0x00, 0x40, 0x00],
        );
        let img = SealImage::from_png(&png).unwrap();
        assert_eq!(img.rgb, vec![0x80, 0x80, 0x80]);
        assert_eq!(img.alpha, Some(vec![0x40]));
    }

    #[test]
    fn palette_with_transparency_expands() {
        let png = encode_with(
            png::ColorType::Indexed,
            png::BitDepth::Eight,
            2,
            1,
            &[0, 1],
            |e| {
                e.set_palette(vec![255, 0, 0, 0, 0, 255]);
                e.set_trns(vec![0, 255]);
            },
        );
        let img = SealImage::from_png(&png).unwrap();
        assert_eq!(img.rgb, vec![255, 0, 0, 0, 0, 255]);
        assert_eq!(img.alpha, Some(vec![0, 255]));
    }

    #[test]
    fn garbage_and_huge_images_are_refused() {
        assert!(matches!(
            SealImage::from_png(b"\x89PNG\r\n\x1a\nxx"),
            Err(StampError::Image(_))
        ));
        let big = encode(
            png::ColorType::Grayscale,
            png::BitDepth::One,
            MAX_SEAL_SIDE + 1,
            1,
            &vec![0; usize::try_from(MAX_SEAL_SIDE / 8 + 1).unwrap()],
        );
        let e = SealImage::from_png(&big).unwrap_err();
        assert!(e.to_string().contains("pixels"), "{e}");
    }
}
