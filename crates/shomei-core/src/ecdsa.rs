//! ECDSA signature encodings: `Ecdsa-Sig-Value` DER (CMS, X.509) and the fixed
//! `r‖s` form (XMLDSig, PKCS#11, many CSC services).
//!
//! ```text
//! Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }   -- RFC 5480 / X9.62
//! ```

use der::{asn1::UintRef, Decode, Encode, Sequence};

#[derive(Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// Converts a fixed-size `r‖s` value to DER. `None` if the length is odd or zero.
pub fn fixed_to_der(fixed: &[u8]) -> Option<Vec<u8>> {
    if fixed.is_empty() || !fixed.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let value = EcdsaSigValue {
        r: UintRef::new(r).ok()?,
        s: UintRef::new(s).ok()?,
    };
    value.to_der().ok()
}

/// Converts DER to fixed `r‖s`, each padded to `field_len` bytes.
pub fn der_to_fixed(der_sig: &[u8], field_len: usize) -> Option<Vec<u8>> {
    let value = EcdsaSigValue::from_der(der_sig).ok()?;
    let mut out = vec![0u8; field_len.checked_mul(2)?];
    for (i, int) in [value.r, value.s].iter().enumerate() {
        let bytes = int.as_bytes();
        if bytes.len() > field_len {
            return None;
        }
        let end = field_len.checked_mul(i + 1)?;
        let start = end.checked_sub(bytes.len())?;
        out.get_mut(start..end)?.copy_from_slice(bytes);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_high_bit_and_leading_zero() {
        let mut fixed = vec![0u8; 64];
        fixed[0] = 0x80; // r needs a sign byte in DER
        fixed[32] = 0x00; // s has leading zeros
        fixed[33] = 0x00;
        fixed[34] = 0x05;
        let der = fixed_to_der(&fixed).unwrap();
        assert_eq!(der_to_fixed(&der, 32).unwrap(), fixed);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(der_to_fixed(&[0x30, 0x01], 32).is_none());
        assert!(fixed_to_der(&[1, 2, 3]).is_none());
    }
}
