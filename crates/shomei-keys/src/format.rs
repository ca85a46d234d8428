//! Recognising key files by their content: PEM labels, or the shape of the DER.
//!
//! File names lie (`.pem` files holding DER, `.key` files holding PKCS#12), so the
//! loader looks only at the bytes.

use crate::error::KeyError;
use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use zeroize::Zeroizing;

/// What a key file holds, as far as its outer structure tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFormat {
    /// An unencrypted PKCS#8 `PrivateKeyInfo` (PEM `PRIVATE KEY` or DER).
    Pkcs8,
    /// A PKCS#8 `EncryptedPrivateKeyInfo` (PEM `ENCRYPTED PRIVATE KEY` or DER).
    EncryptedPkcs8,
    /// A PKCS#1 `RSAPrivateKey` (PEM `RSA PRIVATE KEY` or DER).
    Pkcs1Rsa,
    /// A SEC 1 / RFC 5915 `ECPrivateKey` (PEM `EC PRIVATE KEY` or DER).
    Sec1Ec,
    /// A traditional OpenSSL PEM key encrypted with `Proc-Type: 4,ENCRYPTED` headers.
    EncryptedPem,
    /// A PKCS#12 / PFX file (`.p12`, `.pfx`): needs a password.
    Pkcs12,
    /// An X.509 certificate, not a key.
    Certificate,
    /// None of the above.
    Unknown,
}

/// Tells what `bytes` hold without decrypting or validating anything.
///
/// PEM input is recognised by its first key block (other blocks, such as
/// `EC PARAMETERS` or `CERTIFICATE`, are skipped when a key block is present);
/// DER input by the types of the first elements of its outer `SEQUENCE`.
pub fn detect_format(bytes: &[u8]) -> KeyFormat {
    if is_der(bytes) {
        return classify_der(bytes);
    }
    let blocks = pem_blocks(bytes);
    let mut certificate = false;
    for block in &blocks {
        match block.label {
            LABEL_PKCS8 => {
                return if block.has_headers() {
                    KeyFormat::EncryptedPem
                } else {
                    KeyFormat::Pkcs8
                }
            }
            LABEL_ENCRYPTED_PKCS8 => return KeyFormat::EncryptedPkcs8,
            LABEL_PKCS1 | LABEL_SEC1 if block.has_headers() => return KeyFormat::EncryptedPem,
            LABEL_PKCS1 => return KeyFormat::Pkcs1Rsa,
            LABEL_SEC1 => return KeyFormat::Sec1Ec,
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => certificate = true,
            _ => {}
        }
    }
    if certificate {
        KeyFormat::Certificate
    } else {
        KeyFormat::Unknown
    }
}

const LABEL_PKCS8: &str = "PRIVATE KEY";
const LABEL_ENCRYPTED_PKCS8: &str = "ENCRYPTED PRIVATE KEY";
const LABEL_PKCS1: &str = "RSA PRIVATE KEY";
const LABEL_SEC1: &str = "EC PRIVATE KEY";

/// The encodings [`crate::SoftwareSigner`] can turn into a key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyEncoding {
    Pkcs8,
    Pkcs1Rsa,
    Sec1Ec,
}

/// Finds the one private key in `bytes` (PEM or DER) and returns its DER in a
/// buffer that is wiped when dropped.
pub(crate) fn extract_private_key(
    bytes: &[u8],
) -> Result<(KeyEncoding, Zeroizing<Vec<u8>>), KeyError> {
    if is_der(bytes) {
        let encoding = der_encoding(classify_der(bytes))?;
        return Ok((encoding, Zeroizing::new(bytes.to_vec())));
    }
    let blocks = pem_blocks(bytes);
    if blocks.is_empty() {
        return Err(KeyError::NotAKey(
            "the input is neither PEM nor a DER private key".into(),
        ));
    }
    let mut keys = Vec::new();
    for block in &blocks {
        let encoding = match block.label {
            LABEL_ENCRYPTED_PKCS8 => return Err(KeyError::EncryptedPkcs8),
            LABEL_PKCS8 => KeyEncoding::Pkcs8,
            LABEL_PKCS1 => KeyEncoding::Pkcs1Rsa,
            LABEL_SEC1 => KeyEncoding::Sec1Ec,
            _ => continue,
        };
        if block.has_headers() {
            return Err(KeyError::EncryptedPem);
        }
        keys.push((encoding, block));
    }
    let (encoding, block) = match keys.as_slice() {
        [] => {
            let labels: Vec<&str> = blocks.iter().map(|b| b.label).collect();
            let hint = if labels
                .iter()
                .any(|l| *l == "CERTIFICATE" || *l == "X509 CERTIFICATE")
            {
                " (this looks like a certificate; the key is in another file)"
            } else {
                ""
            };
            return Err(KeyError::NotAKey(format!(
                "no private key PEM block among {}{hint}",
                labels.join(", ")
            )));
        }
        [only] => *only,
        more => return Err(KeyError::MultipleKeys { count: more.len() }),
    };
    let der = block.decode()?;
    // The label promised a key type; the DER must agree with it.
    let inner = classify_der(&der);
    if der_encoding(inner).ok() != Some(encoding) {
        return Err(KeyError::NotAKey(format!(
            "the {} PEM block does not hold a {} structure",
            block.label,
            encoding.name()
        )));
    }
    Ok((encoding, der))
}

impl KeyEncoding {
    fn name(self) -> &'static str {
        match self {
            Self::Pkcs8 => "PKCS#8",
            Self::Pkcs1Rsa => "PKCS#1",
            Self::Sec1Ec => "SEC 1",
        }
    }
}

/// Maps a detected DER format to a loadable encoding, or says why it is not one.
fn der_encoding(format: KeyFormat) -> Result<KeyEncoding, KeyError> {
    match format {
        KeyFormat::Pkcs8 => Ok(KeyEncoding::Pkcs8),
        KeyFormat::Pkcs1Rsa => Ok(KeyEncoding::Pkcs1Rsa),
        KeyFormat::Sec1Ec => Ok(KeyEncoding::Sec1Ec),
        KeyFormat::EncryptedPkcs8 => Err(KeyError::EncryptedPkcs8),
        KeyFormat::EncryptedPem => Err(KeyError::EncryptedPem),
        KeyFormat::Pkcs12 => Err(KeyError::NotAKey(
            "the input is a PKCS#12 file; load it with its password \
             (SoftwareSigner::from_pkcs12)"
                .into(),
        )),
        KeyFormat::Certificate => Err(KeyError::NotAKey(
            "the input is a certificate, not a private key".into(),
        )),
        KeyFormat::Unknown => Err(KeyError::NotAKey(
            "the DER input is not a PKCS#8, PKCS#1 or SEC 1 private key".into(),
        )),
    }
}

/// DER always starts with a tag; every structure here is a `SEQUENCE` (0x30).
/// PEM starts with text. A `0x30` byte is the ASCII digit `0`, which no PEM file
/// starts with.
fn is_der(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x30)
}

/// Classifies a DER value by the tags of its first elements:
///
/// ```text
/// PrivateKeyInfo          ::= SEQUENCE { version INTEGER (0|1), AlgorithmIdentifier, OCTET STRING, ... }
/// EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }
/// RSAPrivateKey           ::= SEQUENCE { version INTEGER (0|1), modulus INTEGER, ... }
/// ECPrivateKey            ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING, ... }
/// PFX                     ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }
/// Certificate             ::= SEQUENCE { tbsCertificate SEQUENCE, AlgorithmIdentifier, BIT STRING }
/// ```
fn classify_der(bytes: &[u8]) -> KeyFormat {
    let Ok(outer) = AnyRef::from_der(bytes) else {
        return KeyFormat::Unknown;
    };
    if outer.tag() != Tag::Sequence {
        return KeyFormat::Unknown;
    }
    let Ok(mut reader) = SliceReader::new(outer.value()) else {
        return KeyFormat::Unknown;
    };
    let mut next = || -> Option<AnyRef<'_>> {
        if reader.is_finished() {
            None
        } else {
            AnyRef::decode(&mut reader).ok()
        }
    };
    let (Some(first), Some(second)) = (next(), next()) else {
        return KeyFormat::Unknown;
    };
    let third = next();
    let version = || first.decode_as::<u8>().ok();
    match (first.tag(), second.tag()) {
        (Tag::Integer, Tag::Sequence) if matches!(version(), Some(0 | 1)) => KeyFormat::Pkcs8,
        (Tag::Integer, Tag::Sequence) if version() == Some(3) => KeyFormat::Pkcs12,
        (Tag::Integer, Tag::Integer) if matches!(version(), Some(0 | 1)) => KeyFormat::Pkcs1Rsa,
        (Tag::Integer, Tag::OctetString) if version() == Some(1) => KeyFormat::Sec1Ec,
        (Tag::Sequence, Tag::OctetString) => KeyFormat::EncryptedPkcs8,
        (Tag::Sequence, Tag::Sequence) if third.is_some_and(|t| t.tag() == Tag::BitString) => {
            KeyFormat::Certificate
        }
        _ => KeyFormat::Unknown,
    }
}

/// One `-----BEGIN X-----` … `-----END X-----` block.
struct PemBlock<'a> {
    label: &'a str,
    /// The whole block, armour included.
    text: &'a str,
}

impl PemBlock<'_> {
    /// RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`) mark a legacy
    /// encrypted key; RFC 7468 forbids them everywhere else.
    fn has_headers(&self) -> bool {
        self.text.contains("Proc-Type:") || self.text.contains("DEK-Info:")
    }

    /// Base64-decodes the body straight into a wiped buffer of the exact size, so
    /// no reallocation leaves a copy of the key behind.
    fn decode(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let damaged = |e: der::pem::Error| {
            KeyError::NotAKey(format!("the {} PEM block is damaged: {e}", self.label))
        };
        let mut decoder =
            der::pem::Decoder::new_detect_wrap(self.text.as_bytes()).map_err(damaged)?;
        let mut buf = Zeroizing::new(vec![0u8; decoder.remaining_len()]);
        decoder.decode(&mut buf).map_err(damaged)?;
        if !decoder.is_finished() {
            return Err(KeyError::NotAKey(format!(
                "the {} PEM block is damaged: trailing data",
                self.label
            )));
        }
        Ok(buf)
    }
}

/// Splits text into PEM blocks, skipping anything between them (OpenSSL's
/// `Bag Attributes`, comments). Blocks whose END line is missing or does not match
/// their BEGIN label are dropped.
fn pem_blocks(bytes: &[u8]) -> Vec<PemBlock<'_>> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(block_start) = rest.get(start..) else {
            break;
        };
        let Some(after_begin) = block_start.get(BEGIN.len()..) else {
            break;
        };
        let Some(label_len) = after_begin.find(DASHES) else {
            break;
        };
        let label = after_begin.get(..label_len).unwrap_or_default();
        let end_line = format!("-----END {label}-----");
        let Some(end) = block_start.find(&end_line) else {
            // Unterminated: skip past this BEGIN and keep looking.
            rest = after_begin;
            continue;
        };
        let block_len = end + end_line.len();
        blocks.push(PemBlock {
            label,
            text: block_start.get(..block_len).unwrap_or_default(),
        });
        rest = block_start.get(block_len..).unwrap_or_default();
    }
    blocks
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_text_inputs_are_unknown() {
        assert_eq!(detect_format(b""), KeyFormat::Unknown);
        assert_eq!(detect_format(b"hello"), KeyFormat::Unknown);
        assert_eq!(detect_format(&[0x30]), KeyFormat::Unknown);
        assert_eq!(detect_format(&[0x30, 0x80, 0x00]), KeyFormat::Unknown);
    }

    #[test]
    fn unterminated_block_is_skipped() {
        let text = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
        assert!(pem_blocks(text.as_bytes()).is_empty());
        assert_eq!(detect_format(text.as_bytes()), KeyFormat::Unknown);
    }

    #[test]
    fn legacy_encrypted_pem_is_recognised() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                    DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(detect_format(text.as_bytes()), KeyFormat::EncryptedPem);
        assert!(matches!(
            extract_private_key(text.as_bytes()),
            Err(KeyError::EncryptedPem)
        ));
    }
}
