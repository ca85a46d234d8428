//! The Document Security Store (ISO 32000-2 12.8.4.3, ETSI EN 319 142-1 5.4): an
//! incremental update that adds certificates, OCSP responses and CRLs to `/DSS` in the
//! catalog, keeping whatever an earlier `/DSS` already holds.

use crate::error::PdfError;
use crate::limits::MAX_OBJECT_NUMBER;
use crate::object::{Dictionary, Object, ObjectId, Stream};
use crate::reader::PdfReader;
use crate::writer::{UpdateContext, UpdateWriter};
use std::collections::HashSet;
use std::io::{Read, Seek};

/// Most entries read back from an existing `/DSS` array to avoid duplicates: a DSS of
/// a long-lived archive holds a few hundred items; more than this is not deduplicated.
const MAX_EXISTING_ITEMS: usize = 4096;

/// Validation data to store: DER certificates, DER `OCSPResponse`s, DER CRLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DssData {
    /// Certificates (DER).
    pub certs: Vec<Vec<u8>>,
    /// Complete `OCSPResponse` values (DER), as PAdES requires.
    pub ocsps: Vec<Vec<u8>>,
    /// CRLs (DER).
    pub crls: Vec<Vec<u8>>,
}

impl DssData {
    /// True when there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.ocsps.is_empty() && self.crls.is_empty()
    }
}

/// Builds the incremental update that merges `data` into the document's `/DSS`.
/// Items already present (same bytes) are not added twice. Returns the bytes to append.
pub fn prepare_dss_update<R: Read + Seek>(
    reader: &mut PdfReader<R>,
    data: &DssData,
) -> Result<Vec<u8>, PdfError> {
    let (root_id, mut catalog) = reader.catalog()?;
    let (dss_id, mut dss) = match catalog.get(b"DSS").cloned() {
        Some(Object::Reference(id)) => (
            Some(id),
            reader
                .resolve_dict(&Object::Reference(id))?
                .unwrap_or_default(),
        ),
        Some(other) => (None, reader.resolve_dict(&other)?.unwrap_or_default()),
        None => (None, Dictionary::new()),
    };
    let mut next = u32::try_from(reader.next_object_number())
        .ok()
        .filter(|n| *n < MAX_OBJECT_NUMBER)
        .ok_or(PdfError::OutOfRange("object number"))?;
    let mut alloc = || {
        let id = ObjectId::new(next, 0);
        next = next.saturating_add(1);
        id
    };
    let mut new_objects: Vec<(ObjectId, Object)> = Vec::new();
    for (key, items) in [
        (&b"Certs"[..], &data.certs),
        (&b"OCSPs"[..], &data.ocsps),
        (&b"CRLs"[..], &data.crls),
    ] {
        let mut array = match dss.get(key).cloned() {
            Some(obj) => match reader.resolve(&obj)? {
                Object::Array(a) => a,
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        let mut have: HashSet<Vec<u8>> = HashSet::new();
        for entry in array.iter().take(MAX_EXISTING_ITEMS) {
            if let Object::Stream(s) = reader.resolve(entry)? {
                if !s.dict.has(b"Filter") {
                    have.insert(s.data);
                }
            }
        }
        let mut added = false;
        for item in items {
            if !have.insert(item.clone()) {
                continue;
            }
            let id = alloc();
            new_objects.push((
                id,
                Object::Stream(Stream {
                    dict: Dictionary::new(),
                    data: item.clone(),
                }),
            ));
            array.push(Object::Reference(id));
            added = true;
        }
        if added || dss.has(key) {
            dss.set(key, Object::Array(array));
        }
    }
    let dss_id = dss_id.unwrap_or_else(&mut alloc);
    catalog.set("DSS", Object::Reference(dss_id));

    let original_len = reader.file_len();
    let mut w = UpdateWriter::new(original_len, reader.base, !reader.ends_with_eol());
    for (id, obj) in &new_objects {
        w.object(*id, obj)?;
    }
    w.object(dss_id, &Object::Dictionary(dss))?;
    w.object(root_id, &Object::Dictionary(catalog))?;
    let ctx = UpdateContext {
        prev: reader.startxref(),
        trailer: reader.trailer(),
        xref_stream: reader.newest_section_is_stream(),
        next_number: next,
    };
    w.finish(&ctx)
}

impl<R: Read + Seek> PdfReader<R> {
    /// What the document's `/DSS` holds (the newest revision's): certificates, OCSP
    /// responses and CRLs, from its arrays and its `/VRI` entries, each stream once,
    /// decoded (FlateDecode included). Items that
    /// cannot be read are skipped; at most [`MAX_EXISTING_ITEMS`] of each are read.
    pub fn dss_data(&mut self) -> Result<DssData, PdfError> {
        let (_, catalog) = self.catalog()?;
        let Some(dss) = catalog.get(b"DSS").cloned() else {
            return Ok(DssData::default());
        };
        let Some(dss) = self.resolve_dict(&dss)? else {
            return Ok(DssData::default());
        };
        let mut data = DssData::default();
        let mut seen = HashSet::new();
        // The document-wide arrays, then each signature's /VRI entry (ISO 32000-2
        // 12.8.4.4): some producers list validation data only there.
        let mut lists: Vec<(Dictionary, [&[u8]; 3])> =
            vec![(dss.clone(), [b"Certs", b"OCSPs", b"CRLs"])];
        if let Some(vri) = dss.get(b"VRI").cloned() {
            if let Some(vri) = self.resolve_dict(&vri)? {
                for (_, entry) in vri.iter().take(MAX_EXISTING_ITEMS) {
                    if let Some(entry) = self.resolve_dict(entry)? {
                        lists.push((entry, [b"Cert", b"OCSP", b"CRL"]));
                    }
                }
            }
        }
        for (dict, keys) in lists {
            for (key, kind) in keys.into_iter().zip(0..) {
                let out = match kind {
                    0 => &mut data.certs,
                    1 => &mut data.ocsps,
                    _ => &mut data.crls,
                };
                let Some(obj) = dict.get(key).cloned() else {
                    continue;
                };
                let Object::Array(items) = self.resolve(&obj)? else {
                    continue;
                };
                for entry in &items {
                    if out.len() >= MAX_EXISTING_ITEMS {
                        break;
                    }
                    if let Object::Reference(id) = entry {
                        if !seen.insert(*id) {
                            continue;
                        }
                    }
                    if let Object::Stream(s) = self.resolve(entry)? {
                        if let Ok(bytes) = crate::filter::decode(&s.dict, &s.data, 0) {
                            out.push(bytes);
                        }
                    }
                }
            }
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Cursor;

    /// A PDF whose `/DSS` lists one OCSP response at the top and, in a `/VRI` entry,
    /// that one again and one more.
    fn with_vri() -> Vec<u8> {
        shomei_test_support::sample_pdf::from_objects(&[
            b"<< /Type /Catalog /Pages 2 0 R /DSS << /OCSPs [4 0 R] /VRI << /ABC << /OCSP [4 0 R 5 0 R] /Cert [] >> >> >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
            b"<< /Length 3 >>\nstream\nAAA\nendstream",
            b"<< /Length 3 >>\nstream\nBBB\nendstream",
        ])
    }

    #[test]
    fn validation_data_listed_only_under_vri_is_read_once() {
        let pdf = with_vri();
        let data = PdfReader::open(Cursor::new(&pdf[..]))
            .unwrap()
            .dss_data()
            .unwrap();
        assert_eq!(data.ocsps, vec![b"AAA".to_vec(), b"BBB".to_vec()]);
        assert!(data.certs.is_empty() && data.crls.is_empty());
    }
}
