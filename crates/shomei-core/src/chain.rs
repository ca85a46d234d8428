//! Certificate chains: the signing certificate first, then its issuers.

use crate::alg::{oid, KeyKind};
use der::{Decode, Encode};
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

/// Why a chain could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No certificate in the input.
    #[error("no certificate found")]
    Empty,
    /// The bytes are not a certificate.
    #[error("certificate {index} is not valid DER X.509: {source}")]
    Der {
        /// Position in the input (0 = first).
        index: usize,
        /// The decoder's message, with its byte position.
        source: der::Error,
    },
    /// PEM armour could not be read.
    #[error("PEM block {index} is damaged: {message}")]
    Pem {
        /// Position in the input.
        index: usize,
        /// What was wrong.
        message: String,
    },
    /// The key type is not one shomei signs with.
    #[error("unsupported public key: {0}")]
    UnsupportedKey(String),
}

/// One certificate with its original DER encoding kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainCert {
    der: Vec<u8>,
    cert: Certificate,
}

impl ChainCert {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, der::Error> {
        let cert = Certificate::from_der(der)?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    /// The DER encoding as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The decoded certificate.
    pub fn cert(&self) -> &Certificate {
        &self.cert
    }

    /// The DER of the SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>, der::Error> {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
    }

    /// The raw subject public key bits (PKCS#1 RSAPublicKey or an EC point).
    pub fn public_key_bits(&self) -> &[u8] {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
    }

    /// The subject, RFC 4514 style.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate().subject().to_string()
    }

    /// What kind of key the certificate holds.
    pub fn key_kind(&self) -> Result<KeyKind, ChainError> {
        let spki = self.cert.tbs_certificate().subject_public_key_info();
        if spki.algorithm.oid == oid::RSA_ENCRYPTION {
            let bits = rsa_modulus_bits(self.public_key_bits()).ok_or_else(|| {
                ChainError::UnsupportedKey("RSA public key could not be decoded".into())
            })?;
            return Ok(KeyKind::Rsa { bits });
        }
        if spki.algorithm.oid == oid::EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
            return match curve {
                Some(c) if c == oid::SECP256R1 => Ok(KeyKind::EcP256),
                Some(c) if c == oid::SECP384R1 => Ok(KeyKind::EcP384),
                other => Err(ChainError::UnsupportedKey(format!(
                    "elliptic curve {}",
                    other.map_or_else(|| "(missing)".to_string(), |o| o.to_string())
                ))),
            };
        }
        Err(ChainError::UnsupportedKey(format!(
            "algorithm {}",
            spki.algorithm.oid
        )))
    }
}

/// Reads the bit length of an RSA modulus from a PKCS#1 `RSAPublicKey`.
fn rsa_modulus_bits(pkcs1: &[u8]) -> Option<u32> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        _exponent: der::asn1::UintRef<'a>,
    }
    let key = RsaPublicKey::from_der(pkcs1).ok()?;
    let bytes = key.modulus.as_bytes();
    let first = *bytes.first()?;
    let len = u32::try_from(bytes.len()).ok()?;
    Some(len.checked_mul(8)? - first.leading_zeros())
}

/// The signing certificate followed by the certificates that issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateChain {
    certs: Vec<ChainCert>,
}

impl CertificateChain {
    /// Builds a chain; the first certificate is the signing certificate.
    pub fn new(certs: Vec<ChainCert>) -> Result<Self, ChainError> {
        if certs.is_empty() {
            return Err(ChainError::Empty);
        }
        Ok(Self { certs })
    }

    /// Parses one or more certificates given as PEM blocks or as a single DER value.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, ChainError> {
        Self::new(parse_certificates(bytes)?)
    }

    /// The signing certificate.
    pub fn signing_cert(&self) -> &ChainCert {
        // `new` refuses empty chains.
        #[allow(clippy::indexing_slicing)]
        &self.certs[0]
    }

    /// All certificates, signing certificate first.
    pub fn certs(&self) -> &[ChainCert] {
        &self.certs
    }

    /// Adds issuer certificates that are not in the chain yet.
    pub fn extend(&mut self, more: impl IntoIterator<Item = ChainCert>) {
        for c in more {
            if !self.certs.iter().any(|have| have.der == c.der) {
                self.certs.push(c);
            }
        }
    }
}

/// Parses PEM (any number of `CERTIFICATE` blocks) or one DER certificate.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<ChainCert>, ChainError> {
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    if bytes
        .get(text_start..)
        .is_some_and(|b| b.starts_with(b"-----BEGIN"))
    {
        let mut out = Vec::new();
        let text = String::from_utf8_lossy(bytes);
        let mut rest: &str = &text;
        let mut index = 0usize;
        while let Some(start) = rest.find("-----BEGIN ") {
            let block = rest.get(start..).unwrap_or_default();
            let end_marker = block.find("-----END ").ok_or_else(|| ChainError::Pem {
                index,
                message: "missing END line".into(),
            })?;
            let after_end = block
                .get(end_marker..)
                .and_then(|s| s.get(9..))
                .and_then(|s| s.find("-----"))
                .map(|p| end_marker + 9 + p + 5)
                .ok_or_else(|| ChainError::Pem {
                    index,
                    message: "unterminated END line".into(),
                })?;
            let pem = block.get(..after_end).unwrap_or_default();
            rest = block.get(after_end..).unwrap_or_default();
            let (label, der) =
                der::pem::decode_vec(pem.as_bytes()).map_err(|e| ChainError::Pem {
                    index,
                    message: e.to_string(),
                })?;
            if label == "CERTIFICATE" || label == "X509 CERTIFICATE" {
                out.push(
                    ChainCert::from_der(&der)
                        .map_err(|source| ChainError::Der { index, source })?,
                );
            }
            index += 1;
        }
        if out.is_empty() {
            return Err(ChainError::Empty);
        }
        Ok(out)
    } else {
        Ok(vec![
            ChainCert::from_der(bytes).map_err(|source| ChainError::Der { index: 0, source })?
        ])
    }
}

impl Serialize for CertificateChain {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hexes: Vec<String> = self
            .certs
            .iter()
            .map(|c| crate::digest::hex_bytes::encode(&c.der))
            .collect();
        hexes.serialize(s)
    }
}

impl<'de> Deserialize<'de> for CertificateChain {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let hexes = Vec::<String>::deserialize(d)?;
        let certs = hexes
            .iter()
            .map(|h| {
                let der = crate::digest::hex_bytes::decode(h)
                    .ok_or_else(|| D::Error::custom("certificate is not hex"))?;
                ChainCert::from_der(&der).map_err(D::Error::custom)
            })
            .collect::<Result<Vec<_>, _>>()?;
        CertificateChain::new(certs).map_err(D::Error::custom)
    }
}
