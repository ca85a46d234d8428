//! Whole-document canonicalization in one pass over the input, without building a tree.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Write;

use crate::c14n::C14nMethod;
use crate::canon::{CanonElement, CanonWriter};
use crate::error::XmlError;
use crate::limits::Limits;
use crate::parse::{Attribute, Handler, StartTag};
use crate::tree::XML_NS;

/// Facts about the document gathered by [`canonicalize_stream`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamSummary {
    /// The encoding named by the XML declaration (or implied by a UTF-16 byte order mark),
    /// as [`crate::Document::declared_encoding`].
    pub declared_encoding: Option<String>,
    /// Whether the document had a (tolerated) document type declaration.
    pub has_doctype: bool,
    /// Prefix of the document element as written.
    pub root_prefix: Option<String>,
    /// Local name of the document element.
    pub root_local_name: String,
    /// Namespace URI of the document element.
    pub root_namespace: Option<String>,
    /// Whether the document element has no child nodes at all (no element, text, comment
    /// or PI), so that an enveloped signature would be its only child.
    pub root_is_empty: bool,
    /// Every value of an `Id`, `ID` or `id` attribute in no namespace, or of `xml:id`: the
    /// attributes [`crate::Document::find_by_id`] looks at.
    pub ids: HashSet<String>,
    /// The first of those values found on two attributes, if any (such a document cannot
    /// be referenced by Id unambiguously; `find_by_id` refuses that value).
    pub duplicate_id: Option<String>,
}

/// Size at which the canonical bytes are handed to the sink.
const FLUSH_AT: usize = 64 * 1024;

/// Canonicalizes the whole document in `bytes` and writes the canonical form to `sink`
/// (typically a hasher), without building a [`crate::Document`].
///
/// The input is decoded and checked exactly as by [`crate::Document::parse_with`] with the
/// same `limits` (entity declarations refused, DOCTYPE tolerated, every limit, the same
/// errors), and the bytes written are those [`crate::canonicalize_excluding`] would produce
/// for `(doc, None, None, method)`. Memory use is independent of the document size apart
/// from the input itself (which is not copied when it is UTF-8 without carriage returns)
/// and the Id values collected in the [`StreamSummary`].
///
/// Output is written as the parse goes, in blocks of 64 KiB: when this returns an error, the
/// sink has received part of a canonical form and its contents must be discarded. A
/// failing sink gives [`XmlError::Io`].
pub fn canonicalize_stream(
    bytes: &[u8],
    limits: &Limits,
    method: &C14nMethod,
    sink: &mut dyn Write,
) -> Result<StreamSummary, XmlError> {
    let decoded = crate::encoding::prepare(bytes, limits)?;
    let mut h = StreamCanon {
        writer: CanonWriter::new(method, true, Vec::new()),
        buf: Vec::with_capacity(FLUSH_AT + 4096),
        sink,
        depth: 0,
        summary: StreamSummary {
            root_is_empty: true,
            ..StreamSummary::default()
        },
        ids: Vec::new(),
    };
    let parsed = crate::parse::parse(&decoded.text, limits, &mut h)?;
    h.sink.write_all(&h.buf)?;
    h.sink.flush()?;
    let mut summary = h.summary;
    summary.ids.reserve(h.ids.len());
    for id in h.ids {
        // The first value whose second occurrence comes first in document order.
        if summary.ids.contains(&*id) {
            summary.duplicate_id.get_or_insert_with(|| id.into_owned());
        } else {
            summary.ids.insert(id.into_owned());
        }
    }
    summary.declared_encoding = decoded.declared;
    summary.has_doctype = parsed.has_doctype;
    Ok(summary)
}

struct StreamCanon<'a, 'm, 's> {
    writer: CanonWriter<'a, 'm>,
    buf: Vec<u8>,
    sink: &'s mut dyn Write,
    /// Open elements.
    depth: usize,
    summary: StreamSummary,
    /// Id values in document order, mostly borrowed from the input; hashed once at the end.
    ids: Vec<Cow<'a, str>>,
}

fn is_id(a: &Attribute<'_>) -> bool {
    // Cheap tests first: this runs on every attribute.
    let l = a.local.as_bytes();
    l.len() == 2
        && matches!(l.first(), Some(b'I' | b'i'))
        && matches!(l.get(1), Some(b'd' | b'D'))
        && match a.ns.as_deref() {
            None => a.local != "iD",
            Some(ns) => a.local == "id" && ns == XML_NS,
        }
}

impl StreamCanon<'_, '_, '_> {
    /// Notes a node whose parent is the innermost open element.
    fn child(&mut self) {
        if self.depth == 1 {
            self.summary.root_is_empty = false;
        }
    }

    fn flush(&mut self) -> Result<(), XmlError> {
        if self.buf.len() >= FLUSH_AT {
            self.sink.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl<'a> Handler<'a> for StreamCanon<'a, '_, '_> {
    fn start_element(&mut self, tag: &StartTag<'a, '_>) -> Result<(), XmlError> {
        if self.depth == 0 {
            self.summary.root_prefix = tag.prefix.map(str::to_owned);
            self.summary.root_local_name = tag.local.to_owned();
            self.summary.root_namespace = tag.ns.map(str::to_owned);
        }
        self.child();
        self.ids.extend(
            tag.attrs
                .iter()
                .filter(|a| is_id(a))
                .map(|a| a.value.clone()),
        );
        let element = CanonElement {
            prefix: tag.prefix,
            local: tag.local,
            decls: tag.decls,
            attrs: tag.attrs,
            inherited: &[],
        };
        self.writer.start_element(&element, &mut self.buf);
        self.depth += 1;
        self.flush()
    }

    fn end_element(&mut self, qname: &'a str) -> Result<(), XmlError> {
        // The canonical end tag is the name as written, `prefix:local`.
        self.writer.end_element(None, qname, &mut self.buf);
        self.depth = self.depth.saturating_sub(1);
        self.flush()
    }

    fn text(&mut self, text: &str) -> Result<(), XmlError> {
        self.child();
        self.writer.text(text, &mut self.buf);
        self.flush()
    }

    fn comment(&mut self, body: &'a str) -> Result<(), XmlError> {
        self.child();
        self.writer.comment(body, &mut self.buf);
        self.flush()
    }

    fn pi(&mut self, target: &'a str, data: &'a str) -> Result<(), XmlError> {
        self.child();
        self.writer.pi(target, data, &mut self.buf);
        self.flush()
    }
}
