//! Writing new unsigned properties into the original bytes: the place before the end
//! tag of `xades:UnsignedSignatureProperties` (created if missing), fresh Ids, and the
//! property elements themselves. Every splice is checked by parsing the result.

use crate::located::{xades_signatures, Located};
use crate::pipeline::b64;
use crate::references::child;
use crate::uris::{DS_NS, XADES_NS};
use crate::XadesError;
use shomei_core::{Digest, DigestAlgorithm, Hasher};
use shomei_levels::ValidationData;
use shomei_xml::{Document, NodeId, NodeKind};
use std::collections::HashSet;

/// The XAdES 1.4.1 namespace (`ArchiveTimeStamp`, `TimeStampValidationData`).
pub const XADES141_NS: &str = "http://uri.etsi.org/01903/v1.4.1#";

pub(crate) fn is_ascii_compatible(doc: &Document) -> bool {
    doc.declared_encoding()
        .is_none_or(|l| !l.to_ascii_lowercase().starts_with("utf-16"))
}

/// The byte offset of the end tag of `node` in `bytes` (the parse of which is `doc`).
/// Counts the end tags with the same name; the caller checks the result by parsing it.
pub(crate) fn end_tag_offset(
    bytes: &[u8],
    doc: &Document,
    node: NodeId,
) -> Result<usize, XadesError> {
    let not_found =
        || XadesError::Unsupported("could not locate the unsigned properties in the bytes".into());
    let Some(NodeKind::Element {
        prefix, local_name, ..
    }) = doc.kind(node)
    else {
        return Err(not_found());
    };
    let qname = match prefix {
        Some(p) => format!("{p}:{local_name}"),
        None => local_name.to_owned(),
    };
    if !qname.is_ascii() || !is_ascii_compatible(doc) {
        return Err(XadesError::Unsupported(
            "extending a signature in a UTF-16 document or with non-ASCII element names".into(),
        ));
    }
    let same_name_before = doc
        .descendants(doc.root())
        .into_iter()
        .take_while(|n| *n != node)
        .filter(|n| {
            matches!(doc.kind(*n), Some(NodeKind::Element { prefix: p, local_name: l, .. })
                if p == prefix && l == local_name)
        })
        .count();
    // Walk the start and end tags with this name in byte order, pairing them with a
    // stack (same-name elements may nest, as in counter-signatures); the element that is
    // the n-th start tag ends at its paired end tag.
    let open = format!("<{qname}");
    let close = format!("</{qname}");
    let boundary = |at: usize| {
        matches!(
            bytes.get(at).copied(),
            Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')
        )
    };
    let mut starts_seen = 0usize;
    let mut stack: Vec<usize> = Vec::new();
    let mut at = 0usize;
    while let Some(pos) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|b| *b == b'<'))
    {
        let here = at + pos;
        let rest = bytes.get(here..).unwrap_or_default();
        if rest.starts_with(close.as_bytes()) && boundary(here + close.len()) {
            if stack.pop() == Some(same_name_before) {
                return Ok(here);
            }
        } else if rest.starts_with(open.as_bytes()) && boundary(here + open.len()) {
            let gt = rest.iter().position(|b| *b == b'>').ok_or_else(not_found)?;
            let self_closed = gt > 0 && rest.get(gt - 1) == Some(&b'/');
            if !self_closed {
                stack.push(starts_seen);
            }
            starts_seen += 1;
        }
        at = here + 1;
    }
    Err(not_found())
}

/// The document being extended, with its parse: every splice re-parses once, and that
/// parse both checks the splice and serves the next step. For the signature just made,
/// `bytes` is that `ds:Signature` alone (see [`crate::own`]), and what lies outside it
/// comes with it.
pub(crate) struct Working {
    pub(crate) bytes: Vec<u8>,
    pub(crate) doc: Document,
    /// The Id values of the document around `bytes` (empty when `bytes` is the whole
    /// document): new Ids must not clash with them either.
    pub(crate) outside_ids: HashSet<String>,
    /// SHA-256 over the octets of the first Reference, not finished, when `bytes` does
    /// not hold the data it covers (the signature just made, alone): archive time-stamp
    /// inputs start from it. `None`: every Reference is dereferenced in `doc`.
    pub(crate) first_reference: Option<Hasher>,
}

impl Working {
    /// The whole document `bytes`, parsed.
    pub(crate) fn whole(bytes: Vec<u8>, doc: Document) -> Self {
        Self {
            bytes,
            doc,
            outside_ids: HashSet::new(),
            first_reference: None,
        }
    }

    /// XAdES signature `index` of the current document.
    pub(crate) fn at(&self, index: usize) -> Result<Located, XadesError> {
        xades_signatures(&self.doc)
            .get(index)
            .copied()
            .ok_or_else(|| XadesError::Unsupported("the signature disappeared".into()))
    }

    /// Appends `fragment` (elements that declare their own namespaces; the first carries
    /// `Id="{id}"`) as the last unsigned signature properties of signature `index`.
    pub(crate) fn append(
        &mut self,
        index: usize,
        fragment: &str,
        id: &str,
    ) -> Result<(), XadesError> {
        let (bytes, doc) = (&self.bytes, &self.doc);
        let at = self.at(index)?;
        let (offset, text) = if let Some(usp) = at.usp(doc) {
            (end_tag_offset(bytes, doc, usp)?, fragment.to_owned())
        } else if child(doc, at.qp, XADES_NS, "UnsignedProperties").is_some() {
            return Err(XadesError::Unsupported(
                "xades:UnsignedProperties without UnsignedSignatureProperties".into(),
            ));
        } else {
            (
                end_tag_offset(bytes, doc, at.qp)?,
                format!(
                    "<xades:UnsignedProperties xmlns:xades=\"{XADES_NS}\">\
                     <xades:UnsignedSignatureProperties>{fragment}\
                     </xades:UnsignedSignatureProperties></xades:UnsignedProperties>"
                ),
            )
        };
        let mut out = Vec::with_capacity(bytes.len() + text.len());
        out.extend_from_slice(bytes.get(..offset).unwrap_or_default());
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(bytes.get(offset..).unwrap_or_default());
        // Check that the new element landed where it belongs.
        let check = Document::parse(&out)?;
        let placed = check.find_by_id(id)?.and_then(|n| check.parent(n));
        let expected = xades_signatures(&check)
            .get(index)
            .and_then(|s| s.usp(&check));
        if placed.is_none() || placed != expected {
            return Err(XadesError::Unsupported(
                "could not place the new unsigned properties".into(),
            ));
        }
        self.bytes = out;
        self.doc = check;
        Ok(())
    }
}

/// A fresh Id for a new property of the signature.
pub(crate) fn new_id(work: &Working, at: Located, kind: &str) -> Result<String, XadesError> {
    let doc = &work.doc;
    let seed = at.seed(doc);
    for n in 0u32..64 {
        let h = Digest::compute(
            DigestAlgorithm::Sha256,
            format!("{seed}{kind}{n}").as_bytes(),
        )
        .to_hex();
        let id = format!("id-{kind}-{}", h.get(..16).unwrap_or(&h));
        if doc.find_by_id(&id)?.is_none() && !work.outside_ids.contains(&id) {
            return Ok(id);
        }
    }
    Err(XadesError::Unsupported("no free Id".into()))
}

pub(crate) fn timestamp_element(
    ns: &str,
    prefix: &str,
    local: &str,
    id: &str,
    token: &[u8],
) -> String {
    let exc = crate::uris::EXC_C14N;
    let own = if prefix == "xades" {
        String::new()
    } else {
        format!(" xmlns:{prefix}=\"{ns}\"")
    };
    format!(
        "<{prefix}:{local}{own} xmlns:xades=\"{XADES_NS}\" \
         xmlns:ds=\"{DS_NS}\" Id=\"{id}\"><ds:CanonicalizationMethod Algorithm=\"{exc}\">\
         </ds:CanonicalizationMethod><xades:EncapsulatedTimeStamp>{}\
         </xades:EncapsulatedTimeStamp></{prefix}:{local}>",
        b64(token)
    )
}

pub(crate) fn encapsulated(local: &str, items: &[Vec<u8>]) -> String {
    items
        .iter()
        .map(|i| format!("<xades:{local}>{}</xades:{local}>", b64(i)))
        .collect()
}

pub(crate) fn certificate_values(id: Option<&str>, certs: &[Vec<u8>], declare: bool) -> String {
    format!(
        "<xades:CertificateValues{}{}>{}</xades:CertificateValues>",
        if declare {
            format!(" xmlns:xades=\"{XADES_NS}\"")
        } else {
            String::new()
        },
        id.map(|i| format!(" Id=\"{i}\"")).unwrap_or_default(),
        encapsulated("EncapsulatedX509Certificate", certs)
    )
}

pub(crate) fn revocation_values(id: Option<&str>, data: &ValidationData, declare: bool) -> String {
    let mut inner = String::new();
    if !data.crls.is_empty() {
        inner.push_str(&format!(
            "<xades:CRLValues>{}</xades:CRLValues>",
            encapsulated("EncapsulatedCRLValue", &data.crls)
        ));
    }
    if !data.ocsps.is_empty() {
        inner.push_str(&format!(
            "<xades:OCSPValues>{}</xades:OCSPValues>",
            encapsulated("EncapsulatedOCSPValue", &data.ocsps)
        ));
    }
    format!(
        "<xades:RevocationValues{}{}>{inner}</xades:RevocationValues>",
        if declare {
            format!(" xmlns:xades=\"{XADES_NS}\"")
        } else {
            String::new()
        },
        id.map(|i| format!(" Id=\"{i}\"")).unwrap_or_default(),
    )
}
