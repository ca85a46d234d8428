//! Whole-document canonicalization in one pass over the input, without building a tree.

use std::collections::HashSet;
use std::io::{Read, Write};

use crate::c14n::C14nMethod;
use crate::canon::{CanonElement, CanonWriter};
use crate::error::XmlError;
use crate::limits::Limits;
use crate::parse::{Attribute, Handler, Parsed, StartTag};
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
    /// attributes [`crate::Document::find_by_id`] looks at (with [`canonicalize_reader`],
    /// those that [`IdValues`] asks for).
    pub ids: HashSet<String>,
    /// The first of those values found on two attributes, if any (such a document cannot
    /// be referenced by Id unambiguously; `find_by_id` refuses that value).
    pub duplicate_id: Option<String>,
}

/// Which Id values [`canonicalize_reader`] collects in [`StreamSummary::ids`] (and looks
/// for duplicates among). Collecting them all costs memory in proportion to their number,
/// which a caller that reads a large document in bounded memory may not want.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdValues {
    /// Every value, as [`canonicalize_stream`] does.
    All,
    /// Only the values that start with this prefix: e.g. the prefix of Ids about to be
    /// generated, to avoid a clash with the document's.
    StartingWith(String),
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
    let mut h = StreamCanon::new(method, sink, &IdValues::All);
    let parsed = crate::parse::parse(&decoded.text, limits, &mut h)?;
    h.finish(&parsed, decoded.declared)
}

/// As [`canonicalize_stream`], reading the document from `reader` in blocks of 64 KiB
/// (more only while one start tag, comment, PI or DOCTYPE is longer than that), so that
/// memory use does not grow with the document: the input is decoded as it is read.
///
/// It accepts and refuses the same documents as [`canonicalize_stream`] and writes the same
/// canonical bytes. Differences: only the Id values `ids` asks for are collected; a
/// document with several faults may be refused for another of them (the input is checked
/// as it is read, not all at once before parsing); an error at the end of a long run of
/// character data may be placed at a later byte of the run; and
/// [`Limits::max_input_bytes`] is checked against the bytes read so far, so that the
/// reported value is where reading stopped. A failing reader gives [`XmlError::Io`].
pub fn canonicalize_reader(
    reader: &mut dyn Read,
    limits: &Limits,
    method: &C14nMethod,
    ids: &IdValues,
    sink: &mut dyn Write,
) -> Result<StreamSummary, XmlError> {
    let mut source = crate::encoding::ReaderSource::new(reader, limits)?;
    let mut h = StreamCanon::new(method, sink, ids);
    let parsed = crate::parse::parse_source(&mut source, limits, &mut h)?;
    h.finish(&parsed, source.declared())
}

struct StreamCanon<'m, 's> {
    writer: CanonWriter<'m>,
    buf: Vec<u8>,
    sink: &'s mut dyn Write,
    /// Open elements.
    depth: usize,
    summary: StreamSummary,
    /// Only Id values starting with this are collected (all when empty).
    id_prefix: &'m str,
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

impl<'m, 's> StreamCanon<'m, 's> {
    fn new(method: &'m C14nMethod, sink: &'s mut dyn Write, ids: &'m IdValues) -> Self {
        Self {
            writer: CanonWriter::new(method, true, Vec::new()),
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            sink,
            depth: 0,
            summary: StreamSummary {
                root_is_empty: true,
                ..StreamSummary::default()
            },
            id_prefix: match ids {
                IdValues::All => "",
                IdValues::StartingWith(p) => p,
            },
        }
    }

    fn finish(self, parsed: &Parsed, declared: Option<String>) -> Result<StreamSummary, XmlError> {
        self.sink.write_all(&self.buf)?;
        self.sink.flush()?;
        let mut summary = self.summary;
        summary.declared_encoding = declared;
        summary.has_doctype = parsed.has_doctype;
        Ok(summary)
    }

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

    fn note_id(&mut self, value: &str) {
        if !value.starts_with(self.id_prefix) {
            return;
        }
        // The first value whose second occurrence comes first in document order.
        if self.summary.ids.contains(value) {
            if self.summary.duplicate_id.is_none() {
                self.summary.duplicate_id = Some(value.to_owned());
            }
        } else {
            self.summary.ids.insert(value.to_owned());
        }
    }
}

impl Handler for StreamCanon<'_, '_> {
    fn start_element(&mut self, tag: &StartTag<'_, '_>) -> Result<(), XmlError> {
        if self.depth == 0 {
            self.summary.root_prefix = tag.prefix.map(str::to_owned);
            self.summary.root_local_name = tag.local.to_owned();
            self.summary.root_namespace = tag.ns.map(str::to_owned);
        }
        self.child();
        for a in tag.attrs {
            if is_id(a) {
                self.note_id(&a.value);
            }
        }
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

    fn end_element(&mut self, qname: &str) -> Result<(), XmlError> {
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

    fn comment(&mut self, body: &str) -> Result<(), XmlError> {
        self.child();
        self.writer.comment(body, &mut self.buf);
        self.flush()
    }

    fn pi(&mut self, target: &str, data: &str) -> Result<(), XmlError> {
        self.child();
        self.writer.pi(target, data, &mut self.buf);
        self.flush()
    }
}
