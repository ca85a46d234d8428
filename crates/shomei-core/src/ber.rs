//! BER to DER, for reading CMS signatures and time-stamp tokens from producers that
//! write indefinite lengths or constructed strings (X.690 8.1.3.6, 8.7.3; many Java
//! producers do). Lengths become definite, constructed OCTET/BIT STRINGs become
//! primitive. What a signature covers is unaffected: CMS signs the DER of the signed
//! attributes and the content octets of the eContent, both the same after conversion.

/// Why a value is not BER this reader accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("BER: {message} at byte {at}")]
pub struct BerError {
    /// What is wrong.
    pub message: &'static str,
    /// Byte position in the input.
    pub at: usize,
}

/// Nesting deeper than this is refused: CMS structures nest about 15 levels deep.
const MAX_DEPTH: usize = 64;

fn err(message: &'static str, at: usize) -> BerError {
    BerError { message, at }
}

fn encode_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let sig = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | u8::try_from(sig.len()).unwrap_or(0));
        out.extend_from_slice(sig);
    }
}

/// Reads one TLV at `pos`; appends its DER form (or, with `flatten`, only its content
/// octets) to `out`; returns the position after it.
fn convert(
    input: &[u8],
    pos: usize,
    depth: usize,
    out: &mut Vec<u8>,
    flatten: bool,
) -> Result<usize, BerError> {
    if depth > MAX_DEPTH {
        return Err(err("nesting too deep", pos));
    }
    let tag = *input.get(pos).ok_or_else(|| err("truncated tag", pos))?;
    if tag & 0x1f == 0x1f {
        return Err(err("high tag numbers are not used in CMS", pos));
    }
    let mut p = pos.checked_add(1).ok_or_else(|| err("overflow", pos))?;
    let first = *input.get(p).ok_or_else(|| err("truncated length", p))?;
    p = p.saturating_add(1);
    let length: Option<usize> = if first == 0x80 {
        None
    } else if first & 0x80 == 0 {
        Some(usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        if n > 4 {
            return Err(err("length too large", p));
        }
        let mut l = 0usize;
        for _ in 0..n {
            let b = *input.get(p).ok_or_else(|| err("truncated length", p))?;
            l = l
                .checked_mul(256)
                .and_then(|v| v.checked_add(usize::from(b)))
                .ok_or_else(|| err("length overflow", p))?;
            p = p.saturating_add(1);
        }
        Some(l)
    };
    let constructed = tag & 0x20 != 0;
    let is_string = matches!(tag & 0xdf, 0x03 | 0x04); // BIT STRING / OCTET STRING, either form
    if !constructed {
        let l = length.ok_or_else(|| err("indefinite length on a primitive value", pos))?;
        let end = p
            .checked_add(l)
            .filter(|e| *e <= input.len())
            .ok_or_else(|| err("value runs past the end", p))?;
        let body = input.get(p..end).unwrap_or_default();
        if flatten {
            out.extend_from_slice(body);
        } else {
            out.push(tag);
            encode_len(l, out);
            out.extend_from_slice(body);
        }
        return Ok(end);
    }
    // Constructed: convert the children into a buffer first, then write the header.
    let mut body = Vec::new();
    let child_flatten = is_string;
    let end = match length {
        Some(l) => {
            let end = p
                .checked_add(l)
                .filter(|e| *e <= input.len())
                .ok_or_else(|| err("value runs past the end", p))?;
            while p < end {
                p = convert(input, p, depth.saturating_add(1), &mut body, child_flatten)?;
            }
            if p != end {
                return Err(err("children overrun their parent", p));
            }
            end
        }
        None => loop {
            if input.get(p..p.saturating_add(2)) == Some(&[0u8, 0u8][..]) {
                break p.saturating_add(2);
            }
            if p >= input.len() {
                return Err(err("missing end-of-contents", p));
            }
            p = convert(input, p, depth.saturating_add(1), &mut body, child_flatten)?;
        },
    };
    if flatten {
        out.extend_from_slice(&body);
    } else if is_string {
        out.push(tag & !0x20);
        encode_len(body.len(), out);
        out.extend_from_slice(&body);
    } else {
        out.push(tag);
        encode_len(body.len(), out);
        out.extend_from_slice(&body);
    }
    Ok(end)
}

/// Converts the BER value at the start of `input` to DER (trailing bytes, such as a
/// PDF `/Contents` zero padding, are ignored).
pub fn ber_to_der(input: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut out = Vec::with_capacity(input.len());
    convert(input, 0, 0, &mut out, false)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_and_constructed_strings_become_der() {
        // SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { "ab", "c" }, INTEGER 5 }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x02,
            0x01, 0x05, 0x00, 0x00, 0x00, 0x00,
        ];
        let der = ber_to_der(&ber).unwrap();
        assert_eq!(
            der,
            [0x30, 0x08, 0x04, 0x03, b'a', b'b', b'c', 0x02, 0x01, 0x05]
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x04, 0x80, 0, 0],
        ] {
            assert!(ber_to_der(bad).is_err(), "{bad:?}");
        }
        let mut deep = [0x30, 0x80].repeat(100);
        deep.extend([0u8; 200]);
        assert!(ber_to_der(&deep).is_err());
    }
}
