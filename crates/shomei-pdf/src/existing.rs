//! The signatures a document already holds, read for extension (B-T → B-LT → B-LTA).

use crate::acroform::FieldNode;
use crate::error::PdfError;
use crate::object::Object;
use crate::reader::PdfReader;
use std::io::{Read, Seek};

/// One filled signature field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExistingSignature {
    /// Fully qualified field name.
    pub field_name: String,
    /// `/Type /DocTimeStamp` or `/SubFilter /ETSI.RFC3161`.
    pub is_document_timestamp: bool,
    /// `/SubFilter`, without the slash.
    pub sub_filter: String,
    /// `/Contents`: the CMS (or time-stamp token), with its zero padding.
    pub contents: Vec<u8>,
    /// `/ByteRange`.
    pub byte_range: Vec<u64>,
}

impl<R: Read + Seek> PdfReader<R> {
    /// Every filled signature field, in field-tree order.
    pub fn signatures(&mut self) -> Result<Vec<ExistingSignature>, PdfError> {
        let (_, catalog) = self.catalog()?;
        let Some(acroform) = self.acroform(&catalog)? else {
            return Ok(Vec::new());
        };
        let fields: Vec<FieldNode> = self.field_nodes(&acroform)?;
        let mut out = Vec::new();
        for field in fields.iter().filter(|f| f.is_signature() && f.is_signed()) {
            let Some(v) = field.dict.get(b"V") else {
                continue;
            };
            let Some(sig) = self.resolve_dict(v)? else {
                continue;
            };
            let sub_filter = sig
                .get(b"SubFilter")
                .and_then(Object::as_name)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            let contents = match sig.get(b"Contents") {
                Some(c) => self
                    .resolve(c)?
                    .as_string_bytes()
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let byte_range = match sig.get(b"ByteRange") {
                Some(b) => match self.resolve(b)? {
                    Object::Array(a) => a
                        .iter()
                        .filter_map(|o| o.as_i64().and_then(|v| u64::try_from(v).ok()))
                        .collect(),
                    _ => Vec::new(),
                },
                None => Vec::new(),
            };
            out.push(ExistingSignature {
                field_name: field.full.clone(),
                is_document_timestamp: sig.name_is(b"Type", b"DocTimeStamp")
                    || sub_filter == "ETSI.RFC3161",
                sub_filter,
                contents,
                byte_range,
            });
        }
        out.sort_by_key(|s| s.byte_range.get(1).copied().unwrap_or(0));
        Ok(out)
    }
}
