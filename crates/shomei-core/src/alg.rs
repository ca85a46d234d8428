//! Digest and signature algorithms with their OIDs.

use const_oid::ObjectIdentifier;
use serde::{Deserialize, Serialize};
use std::fmt;

/// OIDs used across the crates (RFC 5754, RFC 8017, RFC 5758, RFC 4055).
pub mod oid {
    use const_oid::ObjectIdentifier;

    /// id-sha256 (RFC 5754).
    pub const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// id-sha384 (RFC 5754).
    pub const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
    /// id-sha512 (RFC 5754).
    pub const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
    /// rsaEncryption (RFC 8017).
    pub const RSA_ENCRYPTION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    /// sha256WithRSAEncryption.
    pub const SHA256_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
    /// sha384WithRSAEncryption.
    pub const SHA384_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
    /// sha512WithRSAEncryption.
    pub const SHA512_WITH_RSA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
    /// id-RSASSA-PSS (RFC 4055).
    pub const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
    /// id-mgf1 (RFC 8017).
    pub const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
    /// id-ecPublicKey (RFC 5480).
    pub const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    /// secp256r1 / P-256.
    pub const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    /// secp384r1 / P-384.
    pub const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    /// ecdsa-with-SHA256 (RFC 5758).
    pub const ECDSA_WITH_SHA256: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
    /// ecdsa-with-SHA384.
    pub const ECDSA_WITH_SHA384: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
    /// ecdsa-with-SHA512.
    pub const ECDSA_WITH_SHA512: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
}

/// A hash algorithm accepted for signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// Every supported digest algorithm, strongest last.
    pub const ALL: [DigestAlgorithm; 3] = [Self::Sha256, Self::Sha384, Self::Sha512];

    /// The algorithm's OID (RFC 5754).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => oid::SHA256,
            Self::Sha384 => oid::SHA384,
            Self::Sha512 => oid::SHA512,
        }
    }

    /// Looks an algorithm up by OID.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.oid() == *oid)
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The lower-case name used on the command line (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DigestAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(Self::Sha256),
            "sha384" => Ok(Self::Sha384),
            "sha512" => Ok(Self::Sha512),
            _ => Err(format!(
                "unknown digest algorithm '{s}' (expected sha256, sha384 or sha512)"
            )),
        }
    }
}

/// The kind of key behind a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA with the modulus length in bits.
    Rsa {
        /// Modulus length in bits.
        bits: u32,
    },
    /// ECDSA over NIST P-256.
    EcP256,
    /// ECDSA over NIST P-384.
    EcP384,
}

impl KeyKind {
    /// Largest signature value this key can produce, in bytes (ECDSA as DER).
    pub fn max_signature_len(self) -> usize {
        match self {
            Self::Rsa { bits } => usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX),
            // DER SEQUENCE of two INTEGERs, each up to field size + 1 sign byte.
            Self::EcP256 => 72,
            Self::EcP384 => 104,
        }
    }

    /// Every signature algorithm a key of this kind can make: for RSA, PKCS#1 v1.5 and
    /// PSS with each digest; for EC, ECDSA with each digest.
    pub fn signature_algorithms(self) -> Vec<SignatureAlgorithm> {
        let all = DigestAlgorithm::ALL.into_iter();
        match self {
            Self::Rsa { .. } => all
                .clone()
                .map(SignatureAlgorithm::RsaPkcs1v15)
                .chain(all.map(SignatureAlgorithm::RsaPss))
                .collect(),
            Self::EcP256 | Self::EcP384 => all.map(SignatureAlgorithm::Ecdsa).collect(),
        }
    }

    /// The digest conventionally paired with this key (the curve's strength for EC).
    pub fn default_digest(self) -> DigestAlgorithm {
        match self {
            Self::EcP384 => DigestAlgorithm::Sha384,
            _ => DigestAlgorithm::Sha256,
        }
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa { bits } => write!(f, "RSA-{bits}"),
            Self::EcP256 => f.write_str("ECDSA P-256"),
            Self::EcP384 => f.write_str("ECDSA P-384"),
        }
    }
}

/// A signature scheme: padding or curve family plus the digest that was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 8.2).
    RsaPkcs1v15(DigestAlgorithm),
    /// RSASSA-PSS with MGF1 over the same digest and a salt as long as the digest.
    RsaPss(DigestAlgorithm),
    /// ECDSA; the curve is the key's.
    Ecdsa(DigestAlgorithm),
}

impl SignatureAlgorithm {
    /// The digest the signer receives.
    pub fn digest(self) -> DigestAlgorithm {
        match self {
            Self::RsaPkcs1v15(d) | Self::RsaPss(d) | Self::Ecdsa(d) => d,
        }
    }

    /// Whether a key of `kind` can produce this signature.
    pub fn fits_key(self, kind: KeyKind) -> bool {
        match self {
            Self::RsaPkcs1v15(_) | Self::RsaPss(_) => matches!(kind, KeyKind::Rsa { .. }),
            Self::Ecdsa(_) => matches!(kind, KeyKind::EcP256 | KeyKind::EcP384),
        }
    }

    /// The single-OID form (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`); RSA-PSS
    /// returns `id-RSASSA-PSS`, whose parameters come from [`Self::pss_params_der`].
    pub fn oid(self) -> ObjectIdentifier {
        use DigestAlgorithm::*;
        match self {
            Self::RsaPkcs1v15(Sha256) => oid::SHA256_WITH_RSA,
            Self::RsaPkcs1v15(Sha384) => oid::SHA384_WITH_RSA,
            Self::RsaPkcs1v15(Sha512) => oid::SHA512_WITH_RSA,
            Self::RsaPss(_) => oid::RSASSA_PSS,
            Self::Ecdsa(Sha256) => oid::ECDSA_WITH_SHA256,
            Self::Ecdsa(Sha384) => oid::ECDSA_WITH_SHA384,
            Self::Ecdsa(Sha512) => oid::ECDSA_WITH_SHA512,
        }
    }

    /// DER of `RSASSA-PSS-params` (RFC 4055) for PSS; `None` otherwise.
    ///
    /// ```text
    /// RSASSA-PSS-params ::= SEQUENCE {
    ///   hashAlgorithm      [0] HashAlgorithm DEFAULT sha1,
    ///   maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1,
    ///   saltLength         [2] INTEGER DEFAULT 20,
    ///   trailerField       [3] TrailerField DEFAULT trailerFieldBC }
    /// ```
    pub fn pss_params_der(self) -> Option<Vec<u8>> {
        let Self::RsaPss(d) = self else { return None };
        use der::Encode;
        let hash = spki::AlgorithmIdentifierOwned {
            oid: d.oid(),
            parameters: Some(der::Any::null()),
        };
        let mgf = spki::AlgorithmIdentifierOwned {
            oid: oid::MGF1,
            parameters: Some(der::Any::encode_from(&hash).ok()?),
        };
        let salt = u32::try_from(d.output_len()).ok()?;
        let hash_der = hash.to_der().ok()?;
        let mgf_der = mgf.to_der().ok()?;
        let salt_der = salt.to_der().ok()?;
        let mut body = Vec::new();
        body.extend(explicit(0, &hash_der));
        body.extend(explicit(1, &mgf_der));
        body.extend(explicit(2, &salt_der));
        Some(tlv(0x30, &body))
    }

    /// The AlgorithmIdentifier for CMS `signatureAlgorithm` / X.509, as DER-ready value.
    pub fn algorithm_identifier(self) -> spki::AlgorithmIdentifierOwned {
        match self {
            Self::RsaPkcs1v15(_) => spki::AlgorithmIdentifierOwned {
                oid: self.oid(),
                parameters: Some(der::Any::null()),
            },
            Self::RsaPss(_) => spki::AlgorithmIdentifierOwned {
                oid: self.oid(),
                parameters: self
                    .pss_params_der()
                    .and_then(|d| der::Any::from_der_bytes(&d)),
            },
            Self::Ecdsa(_) => spki::AlgorithmIdentifierOwned {
                oid: self.oid(),
                parameters: None,
            },
        }
    }

    /// Human-readable name (`RSA-PSS/SHA-256`).
    pub fn name(self) -> String {
        match self {
            Self::RsaPkcs1v15(d) => format!("RSA-PKCS1v1.5/{d}"),
            Self::RsaPss(d) => format!("RSA-PSS/{d}"),
            Self::Ecdsa(d) => format!("ECDSA/{d}"),
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Encodes a DER tag-length-value.
pub(crate) fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(body);
    out
}

fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, inner)
}

trait AnyExt: Sized {
    fn from_der_bytes(bytes: &[u8]) -> Option<Self>;
}

impl AnyExt for der::Any {
    fn from_der_bytes(bytes: &[u8]) -> Option<Self> {
        use der::Decode;
        der::Any::from_der(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pss_params_round_trip_through_der() {
        let der = SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256)
            .pss_params_der()
            .unwrap();
        // SEQUENCE { [0] {sha256, NULL}, [1] {mgf1, {sha256, NULL}}, [2] 32 }
        assert_eq!(der[0], 0x30);
        assert!(der.windows(3).any(|w| w == [0xa2, 0x03, 0x02]));
        assert_eq!(*der.last().unwrap(), 32);
    }

    #[test]
    fn digest_names_parse() {
        assert_eq!(
            "SHA-384".parse::<DigestAlgorithm>(),
            Ok(DigestAlgorithm::Sha384)
        );
        assert!("md5".parse::<DigestAlgorithm>().is_err());
    }
}
