//! Stream decoding: FlateDecode with PNG/TIFF predictors (ISO 32000-1 §7.4.4).
//! Only what object streams and xref streams use in practice.

use std::io::Read;

use crate::error::PdfError;
use crate::limits::MAX_DECODED_STREAM;
use crate::object::{Dictionary, Object};

/// Decodes `data` according to the stream dictionary's /Filter and /DecodeParms.
/// `offset` is the stream object's position, for errors.
pub(crate) fn decode(dict: &Dictionary, data: &[u8], offset: u64) -> Result<Vec<u8>, PdfError> {
    let filters: Vec<&[u8]> = match dict.get(b"Filter") {
        None => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(a)) => a.iter().filter_map(Object::as_name).collect(),
        Some(_) => {
            return Err(PdfError::Decode {
                offset,
                message: "/Filter is neither a name nor an array".into(),
            })
        }
    };
    let parms: Vec<Option<&Dictionary>> = match dict.get(b"DecodeParms") {
        Some(Object::Dictionary(d)) => vec![Some(d)],
        Some(Object::Array(a)) => a.iter().map(Object::as_dict).collect(),
        _ => Vec::new(),
    };
    let mut current = data.to_vec();
    for (i, f) in filters.iter().enumerate() {
        let parm = parms.get(i).copied().flatten();
        current = match *f {
            b"FlateDecode" | b"Fl" => {
                let inflated = inflate(&current, offset)?;
                predict(inflated, parm, offset)?
            }
            other => {
                return Err(PdfError::Unsupported {
                    offset,
                    message: format!("stream filter /{}", String::from_utf8_lossy(other)),
                })
            }
        };
    }
    Ok(current)
}

fn too_big(offset: u64) -> PdfError {
    PdfError::Budget {
        what: "decoded stream size",
        limit: u64::try_from(MAX_DECODED_STREAM).unwrap_or(u64::MAX),
        offset,
    }
}

fn inflate(data: &[u8], offset: u64) -> Result<Vec<u8>, PdfError> {
    let limit = u64::try_from(MAX_DECODED_STREAM)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut dec = flate2::read::ZlibDecoder::new(data).take(limit);
    let mut out = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match dec.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            // Damaged trailers (bad Adler-32, missing end) are common; keep what inflated,
            // as other readers do, but refuse a stream that yields nothing.
            Err(e) => {
                if out.is_empty() {
                    return Err(PdfError::Decode {
                        offset,
                        message: format!("FlateDecode failed: {e}"),
                    });
                }
                break;
            }
        }
        if out.len() > MAX_DECODED_STREAM {
            return Err(too_big(offset));
        }
    }
    Ok(out)
}

fn int_param(parm: Option<&Dictionary>, key: &[u8], default: i64) -> i64 {
    parm.and_then(|p| p.get(key))
        .and_then(Object::as_i64)
        .unwrap_or(default)
}

fn predict(data: Vec<u8>, parm: Option<&Dictionary>, offset: u64) -> Result<Vec<u8>, PdfError> {
    let predictor = int_param(parm, b"Predictor", 1);
    if predictor <= 1 {
        return Ok(data);
    }
    let bad = |m: &str| PdfError::Decode {
        offset,
        message: m.to_owned(),
    };
    let colors = usize::try_from(int_param(parm, b"Colors", 1)).map_err(|_| bad("bad /Colors"))?;
    let bpc = usize::try_from(int_param(parm, b"BitsPerComponent", 8))
        .map_err(|_| bad("bad /BitsPerComponent"))?;
    let columns =
        usize::try_from(int_param(parm, b"Columns", 1)).map_err(|_| bad("bad /Columns"))?;
    if colors == 0
        || colors > 32
        || !matches!(bpc, 1 | 2 | 4 | 8 | 16)
        || columns == 0
        || columns > (1 << 24)
    {
        return Err(bad("predictor parameters out of range"));
    }
    let bits_per_pixel = colors
        .checked_mul(bpc)
        .ok_or_else(|| bad("predictor overflow"))?;
    let bpp = bits_per_pixel.div_ceil(8).max(1);
    let row_len = columns
        .checked_mul(bits_per_pixel)
        .ok_or_else(|| bad("predictor overflow"))?
        .div_ceil(8);
    if predictor == 2 {
        if bpc != 8 {
            return Err(PdfError::Unsupported {
                offset,
                message: "TIFF predictor with other than 8 bits per component".into(),
            });
        }
        let mut out = data;
        for row in out.chunks_mut(row_len) {
            for i in bpp..row.len() {
                let left = row.get(i.wrapping_sub(bpp)).copied().unwrap_or(0);
                if let Some(b) = row.get_mut(i) {
                    *b = b.wrapping_add(left);
                }
            }
        }
        return Ok(out);
    }
    // PNG predictors (10..=15): each row starts with its own filter-type byte.
    let stride = row_len
        .checked_add(1)
        .ok_or_else(|| bad("predictor overflow"))?;
    let mut out = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row_len];
    for chunk in data.chunks(stride) {
        let Some((&ftype, raw)) = chunk.split_first() else {
            break;
        };
        let mut row = vec![0u8; row_len];
        for i in 0..raw.len().min(row_len) {
            let x = raw.get(i).copied().unwrap_or(0);
            let a = if i >= bpp {
                row.get(i.wrapping_sub(bpp)).copied().unwrap_or(0)
            } else {
                0
            };
            let b = prev.get(i).copied().unwrap_or(0);
            let c = if i >= bpp {
                prev.get(i.wrapping_sub(bpp)).copied().unwrap_or(0)
            } else {
                0
            };
            let v = match ftype {
                0 => x,
                1 => x.wrapping_add(a),
                2 => x.wrapping_add(b),
                3 => x.wrapping_add(
                    u8::try_from((u16::from(a).saturating_add(u16::from(b))) / 2).unwrap_or(0),
                ),
                4 => x.wrapping_add(paeth(a, b, c)),
                _ => return Err(bad("unknown PNG predictor row type")),
            };
            if let Some(slot) = row.get_mut(i) {
                *slot = v;
            }
        }
        out.extend_from_slice(&row);
        prev = row;
    }
    Ok(out)
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let p = ia + ib - ic;
    let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn flate_with_png_up() {
        // Two rows of 3 columns with PNG "Up" filter.
        let raw = [2u8, 1, 2, 3, 2, 1, 1, 1];
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&raw).unwrap();
        let data = enc.finish().unwrap();
        let mut parms = Dictionary::new();
        parms.set("Predictor", Object::Integer(12));
        parms.set("Columns", Object::Integer(3));
        let mut dict = Dictionary::new();
        dict.set("Filter", Object::name("FlateDecode"));
        dict.set("DecodeParms", Object::Dictionary(parms));
        assert_eq!(decode(&dict, &data, 0).unwrap(), vec![1, 2, 3, 2, 3, 4]);
    }

    #[test]
    fn garbage_flate_is_error() {
        let mut dict = Dictionary::new();
        dict.set("Filter", Object::name("FlateDecode"));
        assert!(decode(&dict, b"not zlib at all", 0).is_err());
    }
}
