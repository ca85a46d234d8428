//! Input decoding: UTF-8 (with or without BOM), UTF-16 (with BOM), and any other encoding
//! named in the XML declaration that `encoding_rs` knows (Shift_JIS, EUC-JP, ...), with
//! ISO-8859-1 decoded as true Latin-1 (not windows-1252).

use std::borrow::Cow;

use crate::error::{LimitKind, XmlError};
use crate::limits::Limits;

/// Decoded text plus the encoding label found in the XML declaration (if any). The text
/// borrows the input when it is UTF-8 (the common case), so a large document is not copied.
pub(crate) struct Decoded<'b> {
    pub(crate) text: Cow<'b, str>,
    pub(crate) declared: Option<String>,
}

fn enc_err(reason: impl Into<String>) -> XmlError {
    XmlError::Encoding {
        reason: reason.into(),
    }
}

/// Extracts `encoding="..."` from an ASCII-compatible XML declaration.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    if !bytes.starts_with(b"<?xml") {
        return None;
    }
    let head = bytes.get(..bytes.len().min(1024))?;
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = core::str::from_utf8(head.get(..end)?).ok()?;
    let idx = decl.find("encoding")?;
    let rest = decl.get(idx + "encoding".len()..)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let rest = rest.get(1..)?;
    let close = rest.find(quote)?;
    Some(rest.get(..close)?.to_owned())
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    match core::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => Err(enc_err(format!(
            "invalid UTF-8 at byte {}",
            e.valid_up_to()
        ))),
    }
}

/// What both [`crate::Document::parse_with`] and [`crate::canonicalize_stream`] do before
/// parsing: the input size limit, decoding, and line-end normalization (XML 1.0 §2.11).
pub(crate) fn prepare<'b>(bytes: &'b [u8], limits: &Limits) -> Result<Decoded<'b>, XmlError> {
    if bytes.len() > limits.max_input_bytes {
        return Err(XmlError::Limit {
            kind: LimitKind::InputBytes,
            value: bytes.len(),
            max: limits.max_input_bytes,
            position: None,
        });
    }
    let mut decoded = decode(bytes)?;
    if decoded.text.contains('\r') {
        decoded.text = Cow::Owned(decoded.text.replace("\r\n", "\n").replace('\r', "\n"));
    }
    Ok(decoded)
}

fn decode(bytes: &[u8]) -> Result<Decoded<'_>, XmlError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(Decoded {
            text: utf8(rest)?,
            declared: declared_encoding(rest),
        });
    }
    for (bom, enc) in [
        ([0xFE, 0xFF], encoding_rs::UTF_16BE),
        ([0xFF, 0xFE], encoding_rs::UTF_16LE),
    ] {
        if let Some(rest) = bytes.strip_prefix(&bom) {
            let text = enc
                .decode_without_bom_handling_and_without_replacement(rest)
                .ok_or_else(|| enc_err(format!("malformed {}", enc.name())))?;
            return Ok(Decoded {
                text,
                declared: Some(enc.name().to_owned()),
            });
        }
    }
    let declared = declared_encoding(bytes);
    let text = match declared.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("utf-8" | "utf8") => utf8(bytes)?,
        Some("iso-8859-1" | "iso_8859-1" | "latin1" | "l1" | "iso8859-1" | "iso-ir-100") => {
            Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect())
        }
        Some("us-ascii" | "ascii") => {
            if let Some(i) = bytes.iter().position(|b| !b.is_ascii()) {
                return Err(enc_err(format!(
                    "non-ASCII byte at {i} in US-ASCII document"
                )));
            }
            utf8(bytes)?
        }
        Some(label) => {
            let enc = encoding_rs::Encoding::for_label(label.as_bytes())
                .ok_or_else(|| enc_err(format!("unsupported encoding `{label}`")))?;
            if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
                return Err(enc_err("UTF-16 declared but no byte order mark"));
            }
            if enc == encoding_rs::REPLACEMENT {
                return Err(enc_err(format!("unsupported encoding `{label}`")));
            }
            enc.decode_without_bom_handling_and_without_replacement(bytes)
                .ok_or_else(|| enc_err(format!("malformed {} input", enc.name())))?
        }
    };
    Ok(Decoded { text, declared })
}
