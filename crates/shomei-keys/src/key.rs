//! Private keys held by aws-lc-rs, and signing a precomputed digest with them.
//!
//! aws-lc-rs keeps the key in its own memory and wipes it when the key pair is
//! dropped (`EVP_PKEY_free` clears private components), so no copy of the key
//! bytes is kept here once the key pair exists.

use crate::error::KeyError;
use crate::format::KeyEncoding;
use aws_lc_rs::digest as lc_digest;
use aws_lc_rs::encoding::{AsBigEndian, EcPublicKeyCompressedBin};
use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, SliceReader};
use shomei_core::alg::oid;
use shomei_core::chain::ChainCert;
use shomei_core::{
    Digest, DigestAlgorithm, KeyKind, SignatureAlgorithm, SignatureValue, SignerError,
};
use subtle::ConstantTimeEq;

/// An elliptic curve shomei signs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
}

impl Curve {
    /// The aws-lc-rs algorithm used to load and sign. Its digest is only a label:
    /// see [`ecdsa_input`] for how other digests are signed.
    fn signing_alg(self) -> &'static lc::EcdsaSigningAlgorithm {
        match self {
            Self::P256 => &lc::ECDSA_P256_SHA256_ASN1_SIGNING,
            Self::P384 => &lc::ECDSA_P384_SHA384_ASN1_SIGNING,
        }
    }

    /// The byte length of the group order (256 and 384 bits are whole bytes).
    fn order_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }

    /// The digest whose length equals the order length.
    fn native_digest(self) -> &'static lc_digest::Algorithm {
        match self {
            Self::P256 => &lc_digest::SHA256,
            Self::P384 => &lc_digest::SHA384,
        }
    }

    fn key_kind(self) -> KeyKind {
        match self {
            Self::P256 => KeyKind::EcP256,
            Self::P384 => KeyKind::EcP384,
        }
    }
}

/// A loaded private key.
pub(crate) enum PrivateKey {
    Rsa(RsaKeyPair),
    Ec(Curve, EcdsaKeyPair),
}

impl PrivateKey {
    /// Loads DER in the given encoding.
    pub(crate) fn from_der(encoding: KeyEncoding, der: &[u8]) -> Result<Self, KeyError> {
        match encoding {
            KeyEncoding::Pkcs8 => Self::from_pkcs8(der),
            KeyEncoding::Pkcs1Rsa => RsaKeyPair::from_der(der)
                .map(Self::Rsa)
                .map_err(|e| rejected("RSA", &e)),
            KeyEncoding::Sec1Ec => Self::from_sec1(der),
        }
    }

    /// Loads an unencrypted PKCS#8 `PrivateKeyInfo`, dispatching on its algorithm.
    pub(crate) fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let (algorithm, parameters) = pkcs8_algorithm(der)?;
        if algorithm == oid::RSA_ENCRYPTION {
            return RsaKeyPair::from_pkcs8(der)
                .map(Self::Rsa)
                .map_err(|e| rejected("RSA", &e));
        }
        if algorithm == oid::EC_PUBLIC_KEY {
            let curve = match parameters {
                Some(c) if c == oid::SECP256R1 => Curve::P256,
                Some(c) if c == oid::SECP384R1 => Curve::P384,
                Some(c) => {
                    return Err(KeyError::UnsupportedKeyType(format!(
                        "EC key on curve {} ({c}); shomei signs with P-256 and P-384",
                        curve_name(&c)
                    )))
                }
                None => {
                    return Err(KeyError::UnsupportedKeyType(
                        "EC key without a named curve; shomei signs with P-256 and P-384".into(),
                    ))
                }
            };
            return EcdsaKeyPair::from_pkcs8(curve.signing_alg(), der)
                .map(|k| Self::Ec(curve, k))
                .map_err(|e| rejected("EC", &e));
        }
        Err(KeyError::UnsupportedKeyType(format!(
            "{} ({algorithm}); shomei signs with RSA, ECDSA P-256 and ECDSA P-384",
            algorithm_name(&algorithm)
        )))
    }

    /// Loads an RFC 5915 `ECPrivateKey`. The curve is whichever of ours accepts it:
    /// aws-lc-rs checks the key's curve against the algorithm.
    fn from_sec1(der: &[u8]) -> Result<Self, KeyError> {
        let mut last = None;
        for curve in [Curve::P256, Curve::P384] {
            match EcdsaKeyPair::from_private_key_der(curve.signing_alg(), der) {
                Ok(k) => return Ok(Self::Ec(curve, k)),
                Err(e) => last = Some(e),
            }
        }
        Err(KeyError::UnsupportedKeyType(format!(
            "EC key that is not on P-256 or P-384, or is damaged ({})",
            last.map_or("rejected", |e| e.description_())
        )))
    }

    /// Whether `cert` certifies this key: same key type, same public key. The
    /// comparison runs in constant time.
    pub(crate) fn check_matches(&self, cert: &ChainCert) -> Result<KeyKind, KeyError> {
        let cert_kind = cert.key_kind()?;
        let mismatch = |detail: String| KeyError::KeyCertMismatch {
            subject: cert.subject(),
            detail,
        };
        let same_type = match (self, cert_kind) {
            (Self::Rsa(_), KeyKind::Rsa { .. }) => true,
            (Self::Ec(c, _), k) => c.key_kind() == k,
            _ => false,
        };
        if !same_type {
            return Err(mismatch(format!(
                "the key is {}, the certificate holds a {cert_kind} key",
                self.type_name()
            )));
        }
        let cert_bits = cert.public_key_bits();
        let equal = match self {
            // Both are the DER of a PKCS#1 RSAPublicKey; DER is canonical.
            Self::Rsa(k) => k.public_key().as_ref().ct_eq(cert_bits),
            Self::Ec(c, k) => {
                let uncompressed = k.public_key().as_ref();
                if cert_bits.len() == uncompressed.len() {
                    uncompressed.ct_eq(cert_bits)
                } else if cert_bits.len() == c.order_len() + 1 {
                    // A certificate may carry the compressed point (RFC 5480 2.2).
                    let compressed: Result<EcPublicKeyCompressedBin<'_>, _> =
                        k.public_key().as_be_bytes();
                    match compressed {
                        Ok(p) => p.as_ref().ct_eq(cert_bits),
                        Err(_) => 0.into(),
                    }
                } else {
                    0.into()
                }
            }
        };
        if bool::from(equal) {
            Ok(cert_kind)
        } else {
            Err(mismatch("the public keys differ".into()))
        }
    }

    /// The kind of this key (RSA with its modulus length, or the curve).
    pub(crate) fn kind(&self) -> KeyKind {
        match self {
            Self::Rsa(k) => KeyKind::Rsa {
                bits: u32::try_from(k.public_modulus_len() * 8).unwrap_or(u32::MAX),
            },
            Self::Ec(curve, _) => curve.key_kind(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Self::Rsa(_) => "RSA",
            Self::Ec(Curve::P256, _) => "ECDSA P-256",
            Self::Ec(Curve::P384, _) => "ECDSA P-384",
        }
    }

    /// Signs one digest. The caller has checked that `alg` is advertised and that
    /// the digest's algorithm is `alg.digest()`.
    pub(crate) fn sign(
        &self,
        alg: SignatureAlgorithm,
        digest: &Digest,
    ) -> Result<SignatureValue, SignerError> {
        match self {
            Self::Rsa(key) => {
                let padding = rsa_padding(alg).ok_or(SignerError::UnsupportedAlgorithm(alg))?;
                let mismatch = || SignerError::DigestMismatch(digest.algorithm());
                let lc_alg = lc_digest_alg(digest.algorithm()).ok_or_else(mismatch)?;
                let lc_d = lc_digest::Digest::import_less_safe(digest.as_bytes(), lc_alg)
                    .map_err(|_| mismatch())?;
                let mut sig = vec![0u8; key.public_modulus_len()];
                key.sign_digest(padding, &lc_d, &mut sig)
                    .map_err(|_| SignerError::Device("RSA signing failed".into()))?;
                Ok(SignatureValue::Rsa(sig))
            }
            Self::Ec(curve, key) => {
                if !matches!(alg, SignatureAlgorithm::Ecdsa(_)) {
                    return Err(SignerError::UnsupportedAlgorithm(alg));
                }
                let input = ecdsa_input(*curve, digest.as_bytes());
                let lc_d = lc_digest::Digest::import_less_safe(&input, curve.native_digest())
                    .map_err(|_| SignerError::DigestMismatch(digest.algorithm()))?;
                let sig = key
                    .sign_digest(&lc_d)
                    .map_err(|_| SignerError::Device("ECDSA signing failed".into()))?;
                Ok(SignatureValue::EcdsaDer(sig.as_ref().to_vec()))
            }
        }
    }
}

/// The value ECDSA actually signs for `hash` on `curve`, laid out as the curve's
/// native digest so aws-lc-rs (which only signs a digest labelled with the key
/// pair's own hash) accepts it.
///
/// ECDSA signs `e`, the integer of the leftmost min(N, hashlen) bits of the hash,
/// N being the bit length of the group order (FIPS 186-5 6.4.1 step 2–3; SEC 1
/// v2 4.1.3 step 5). For P-256 and P-384, N is a whole number of bytes, so:
/// a longer hash is cut to its first N/8 bytes; a shorter one is left-padded with
/// zero bytes, which leaves its integer value unchanged. Either way the signature
/// is the standard ECDSA signature over `hash` with its own hash algorithm, and
/// verifies as such (the tests check this with separate verifiers).
fn ecdsa_input(curve: Curve, hash: &[u8]) -> Vec<u8> {
    let n = curve.order_len();
    match hash.get(..n) {
        Some(head) => head.to_vec(),
        None => {
            let mut padded = vec![0u8; n.saturating_sub(hash.len())];
            padded.extend_from_slice(hash);
            padded
        }
    }
}

fn rsa_padding(alg: SignatureAlgorithm) -> Option<&'static dyn lc::RsaEncoding> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    Some(match alg {
        SignatureAlgorithm::RsaPkcs1v15(Sha256) => &lc::RSA_PKCS1_SHA256,
        SignatureAlgorithm::RsaPkcs1v15(Sha384) => &lc::RSA_PKCS1_SHA384,
        SignatureAlgorithm::RsaPkcs1v15(Sha512) => &lc::RSA_PKCS1_SHA512,
        // Salt as long as the digest (aws-lc-rs's default), MGF1 with the same hash:
        // what shomei-core's PSS parameters declare.
        SignatureAlgorithm::RsaPss(Sha256) => &lc::RSA_PSS_SHA256,
        SignatureAlgorithm::RsaPss(Sha384) => &lc::RSA_PSS_SHA384,
        SignatureAlgorithm::RsaPss(Sha512) => &lc::RSA_PSS_SHA512,
        _ => return None,
    })
}

fn lc_digest_alg(d: DigestAlgorithm) -> Option<&'static lc_digest::Algorithm> {
    match d {
        DigestAlgorithm::Sha256 => Some(&lc_digest::SHA256),
        DigestAlgorithm::Sha384 => Some(&lc_digest::SHA384),
        DigestAlgorithm::Sha512 => Some(&lc_digest::SHA512),
        _ => None,
    }
}

/// Turns an aws-lc-rs refusal into a message a person can act on.
fn rejected(kind: &str, e: &KeyRejected) -> KeyError {
    match e.description_() {
        "TooSmall" => KeyError::UnsupportedKeyType(format!(
            "{kind} key shorter than 2048 bits (too weak to sign with)"
        )),
        "TooLarge" => KeyError::UnsupportedKeyType(format!("{kind} key longer than 8192 bits")),
        other => KeyError::InvalidKey(format!("{kind} key rejected: {other}")),
    }
}

/// Reads the algorithm OID and, when it is an OID, its parameter (the named
/// curve for EC keys) from a PKCS#8 structure:
///
/// ```text
/// PrivateKeyInfo ::= SEQUENCE {
///   version                   Version,
///   privateKeyAlgorithm       AlgorithmIdentifier {{PrivateKeyAlgorithms}},
///   privateKey                OCTET STRING,
///   attributes           [0]  Attributes OPTIONAL }
/// ```
fn pkcs8_algorithm(der: &[u8]) -> Result<(ObjectIdentifier, Option<ObjectIdentifier>), KeyError> {
    let malformed =
        |e: der::Error| KeyError::NotAKey(format!("the PKCS#8 structure does not decode: {e}"));
    let outer = AnyRef::from_der(der).map_err(malformed)?;
    let mut reader = SliceReader::new(outer.value()).map_err(malformed)?;
    let _version = AnyRef::decode(&mut reader).map_err(malformed)?;
    let algorithm =
        spki::AlgorithmIdentifier::<AnyRef<'_>>::decode(&mut reader).map_err(malformed)?;
    // The remaining fields are aws-lc-rs's to check.
    let parameter = algorithm
        .parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    Ok((algorithm.oid, parameter))
}

fn curve_name(oid: &ObjectIdentifier) -> &'static str {
    match oid.to_string().as_str() {
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        s if s.starts_with("1.3.36.3.3.2.8.1.1.") => "brainpool",
        _ => "unknown",
    }
}

fn algorithm_name(oid: &ObjectIdentifier) -> &'static str {
    match oid.to_string().as_str() {
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS-restricted RSA key",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.10046.2.1" | "1.2.840.113549.1.3.1" => "Diffie-Hellman",
        _ => "unknown key algorithm",
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_input_truncates_long_hashes() {
        let h: Vec<u8> = (0u8..64).collect();
        assert_eq!(ecdsa_input(Curve::P256, &h), h[..32].to_vec());
        assert_eq!(ecdsa_input(Curve::P384, &h), h[..48].to_vec());
    }

    #[test]
    fn ecdsa_input_pads_short_hashes_on_the_left() {
        let h = [0xffu8; 32];
        let input = ecdsa_input(Curve::P384, &h);
        assert_eq!(input.len(), 48);
        assert!(input[..16].iter().all(|b| *b == 0));
        assert_eq!(&input[16..], &h);
        assert_eq!(ecdsa_input(Curve::P256, &h), h.to_vec());
    }
}
