//! Certificate chains: the signing certificate first, then its issuers.

use crate::alg::{oid, KeyKind};
use const_oid::ObjectIdentifier;
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

/// One certificate with its original DER encoding kept byte for byte. Cloning is
/// cheap (the decoded certificate is shared): path building and reports pass
/// certificates around many times per validation.
#[derive(Debug, Clone)]
pub struct ChainCert(std::sync::Arc<Inner>);

#[derive(Debug)]
struct Inner {
    der: Vec<u8>,
    cert: Certificate,
    /// The subject as text, once printed (reports print it many times).
    subject: std::sync::OnceLock<String>,
}

/// Two certificates are the same when their encodings are.
impl PartialEq for ChainCert {
    fn eq(&self, other: &Self) -> bool {
        self.0.der == other.0.der
    }
}

impl Eq for ChainCert {}

impl ChainCert {
    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, der::Error> {
        let cert = Certificate::from_der(der)?;
        Ok(Self(std::sync::Arc::new(Inner {
            der: der.to_vec(),
            cert,
            subject: std::sync::OnceLock::new(),
        })))
    }

    /// A certificate already decoded (from a CMS, say): its DER is encoded from it,
    /// which for DER input gives back the bytes received — without decoding twice.
    pub fn from_decoded(cert: Certificate) -> Result<Self, der::Error> {
        Ok(Self(std::sync::Arc::new(Inner {
            der: cert.to_der()?,
            cert,
            subject: std::sync::OnceLock::new(),
        })))
    }

    /// The DER encoding as received.
    pub fn der(&self) -> &[u8] {
        &self.0.der
    }

    /// The decoded certificate.
    pub fn cert(&self) -> &Certificate {
        &self.0.cert
    }

    /// The DER of the SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Result<Vec<u8>, der::Error> {
        self.0
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
    }

    /// The raw subject public key bits (PKCS#1 RSAPublicKey or an EC point).
    pub fn public_key_bits(&self) -> &[u8] {
        self.0
            .cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
    }

    /// The subject, RFC 4514 style.
    pub fn subject(&self) -> String {
        self.0
            .subject
            .get_or_init(|| format_name(self.0.cert.tbs_certificate().subject()))
            .clone()
    }

    /// The subject's (last) common name, if it has one that is a directory string: the
    /// name a person is shown, e.g. on a visible signature.
    pub fn common_name(&self) -> Option<String> {
        let cn = ObjectIdentifier::new_unwrap("2.5.4.3");
        self.0
            .cert
            .tbs_certificate()
            .subject()
            .iter_rdn()
            .flat_map(|rdn| rdn.iter())
            .filter(|atv| atv.oid == cn)
            .filter_map(|atv| string_value(&atv.value))
            .last()
            .map(str::to_owned)
    }

    /// What kind of key the certificate holds.
    pub fn key_kind(&self) -> Result<KeyKind, ChainError> {
        let spki = self.0.cert.tbs_certificate().subject_public_key_info();
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

/// The RFC 4514 names of the attribute types certificates use most, as x509-cert
/// prints them (the shortest name in const-oid's database, upper-cased). Looking a
/// type up here instead of in the whole database makes printing a name several
/// times cheaper; a test checks the table against the database.
const COMMON_ATTRIBUTES: [(ObjectIdentifier, &str); 14] = [
    (ObjectIdentifier::new_unwrap("2.5.4.3"), "CN"),
    (ObjectIdentifier::new_unwrap("2.5.4.6"), "C"),
    (ObjectIdentifier::new_unwrap("2.5.4.10"), "O"),
    (ObjectIdentifier::new_unwrap("2.5.4.11"), "OU"),
    (ObjectIdentifier::new_unwrap("2.5.4.7"), "L"),
    (ObjectIdentifier::new_unwrap("2.5.4.8"), "ST"),
    (ObjectIdentifier::new_unwrap("2.5.4.5"), "SERIALNUMBER"),
    (ObjectIdentifier::new_unwrap("2.5.4.42"), "GN"),
    (ObjectIdentifier::new_unwrap("2.5.4.4"), "SN"),
    (ObjectIdentifier::new_unwrap("2.5.4.12"), "TITLE"),
    (ObjectIdentifier::new_unwrap("2.5.4.9"), "STREET"),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1"),
        "EMAIL",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.25"),
        "DC",
    ),
    (
        ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1"),
        "UID",
    ),
];

/// A distinguished name as RFC 4514 text, exactly as x509-cert's `Display` writes it.
pub fn format_name(name: &x509_cert::name::Name) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let known = COMMON_ATTRIBUTES
                .iter()
                .find(|(o, _)| *o == atv.oid)
                .map(|(_, n)| *n);
            let text = string_value(&atv.value);
            match (known, text) {
                (Some(key), Some(val)) => {
                    out.push_str(key);
                    out.push('=');
                    let mut chars = val.char_indices().peekable();
                    while let Some((k, c)) = chars.next() {
                        match c {
                            '#' if k == 0 => out.push_str("\\#"),
                            ' ' if k == 0 || chars.peek().is_none() => out.push_str("\\ "),
                            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                                out.push('\\');
                                out.push(c);
                            }
                            '\x00'..='\x1f' | '\x7f' => {
                                let _ = write!(out, "\\{:02x}", u32::from(c));
                            }
                            _ => out.push(c),
                        }
                    }
                }
                _ => {
                    let _ = write!(out, "{atv}");
                }
            }
        }
    }
    out
}

/// The text of a directory string value (PrintableString, UTF8String, IA5String,
/// TeletexString), as x509-cert reads it for printing.
fn string_value(value: &der::Any) -> Option<&str> {
    use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
    use der::{Tag, Tagged};
    match value.tag() {
        Tag::PrintableString => PrintableStringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::Utf8String => Utf8StringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::Ia5String => Ia5StringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::TeletexString => TeletexStringRef::try_from(value).ok().map(|s| s.as_str()),
        _ => None,
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
            if !self.certs.iter().any(|have| have.der() == c.der()) {
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
            .map(|c| crate::digest::hex_bytes::encode(c.der()))
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

#[cfg(test)]
mod tests {
    use super::{format_name, COMMON_ATTRIBUTES};
    use std::str::FromStr;
    use x509_cert::name::Name;

    #[test]
    fn the_table_has_the_names_the_database_gives() {
        for (oid, name) in COMMON_ATTRIBUTES {
            // x509-cert prints the shortest of the database's names.
            let db = const_oid::db::DB
                .find_names_for_oid(oid)
                .min_by_key(|n| n.len())
                .map(str::to_ascii_uppercase);
            assert_eq!(db.as_deref(), Some(name), "{oid}");
        }
    }

    #[test]
    fn names_print_as_x509_cert_prints_them() {
        for text in [
            "CN=Bob ECDSA,OU=Signers,O=Conformance Kit Test PKI,C=BE",
            "CN=a\\, b+SERIALNUMBER=12,O=\\#x,L= lead,ST=trail\\ ,C=JP",
            "EMAIL=x@example.com,DC=example,DC=com,UID=u1,GN=Frank,SN=Cornelis,TITLE=Dr,STREET=1 Main",
            "2.5.4.97=#0c0e4e545245452d3130373437303133,CN=TSA",
            "CN=日本語の名前,O=署名",
        ] {
            let name = Name::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(format_name(&name), name.to_string(), "{text}");
        }
        for pem in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/pki"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let Ok(bytes) = std::fs::read(pem.path()) else {
                continue;
            };
            for cert in super::parse_certificates(&bytes).unwrap_or_default() {
                let subject = cert.cert().tbs_certificate().subject();
                assert_eq!(format_name(subject), subject.to_string());
            }
        }
    }
}
