//! A small, strict, non-validating XML 1.0 + Namespaces parser over decoded text.
//!
//! The parser does not build anything: it reports what it reads to a [`Handler`] (the tree
//! builder in `tree.rs`, the streaming canonicalizer in `stream.rs`). Every safety rule and
//! [`Limits`] check lives here, so both consumers refuse exactly the same documents.
//!
//! The text comes either whole ([`parse`]) or from a [`Source`] in windows of bounded size
//! ([`parse_source`]): the parser reads one token (tag, comment, PI, run of character
//! data) at a time, and a token that runs past the end of the window is read again from
//! its start once the window holds more text. State that outlives a token (open element
//! names, namespace bindings) is owned by [`State`], never borrowed from the window.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use crate::error::{LimitKind, Position, XmlError};
use crate::limits::Limits;
use crate::tree::XML_NS;

const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// An attribute of a start tag (namespace declarations excluded).
#[derive(Debug, Clone)]
pub(crate) struct Attribute<'a> {
    /// Prefix as written.
    pub(crate) prefix: Option<&'a str>,
    /// Local name.
    pub(crate) local: &'a str,
    /// Namespace URI (`None` for unprefixed attributes), shared with its binding.
    pub(crate) ns: Option<Arc<str>>,
    /// Normalized value (references resolved, whitespace characters as spaces).
    pub(crate) value: Cow<'a, str>,
}

/// A namespace declaration: (prefix, `""` for the default namespace; URI, `""` for
/// `xmlns=""`). Shared, so that scopes and writers copy it without allocating.
pub(crate) type NsDecl = (Arc<str>, Arc<str>);

/// A start tag whose names are resolved.
pub(crate) struct StartTag<'a, 'p> {
    /// Prefix as written.
    pub(crate) prefix: Option<&'a str>,
    /// Local name.
    pub(crate) local: &'a str,
    /// Namespace URI, `None` when in no namespace.
    pub(crate) ns: Option<&'p str>,
    /// Attributes in document order.
    pub(crate) attrs: &'p [Attribute<'a>],
    /// Namespace declarations on this element, in document order.
    pub(crate) decls: &'p [NsDecl],
}

/// Receives the parse events. Every element, text node (adjacent character data and CDATA
/// sections may arrive as several calls, and so may a long run of character data read from
/// a [`Source`]), comment and PI is reported in document order; an empty-element tag gives
/// a start and an end. An error from the handler stops the parse. The strings passed live
/// only for the call.
pub(crate) trait Handler {
    /// A start tag.
    fn start_element(&mut self, tag: &StartTag<'_, '_>) -> Result<(), XmlError>;
    /// The end of the innermost open element, whose name as written is `qname`.
    fn end_element(&mut self, qname: &str) -> Result<(), XmlError>;
    /// Character data (never empty).
    fn text(&mut self, text: &str) -> Result<(), XmlError>;
    /// A comment.
    fn comment(&mut self, body: &str) -> Result<(), XmlError>;
    /// A processing instruction.
    fn pi(&mut self, target: &str, data: &str) -> Result<(), XmlError>;
}

/// Decoded, line-end-normalized text read piece by piece (see `encoding::ReaderSource`).
pub(crate) trait Source {
    /// Appends the text of one read of up to `want` input bytes to `buf` (at least one
    /// character unless the input is exhausted); returns false once the input is exhausted.
    fn fill(&mut self, buf: &mut String, want: usize) -> Result<bool, XmlError>;
}

/// Facts the handler does not see.
pub(crate) struct Parsed {
    /// Whether a (tolerated) DOCTYPE was present.
    pub(crate) has_doctype: bool,
}

/// Where the parse is in the document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// At the start, where an XML declaration may be.
    Start,
    /// Before the document element.
    Prolog,
    /// Inside the document element.
    Content,
    /// After the document element.
    Epilog,
}

/// Parser state that outlives one window of text.
struct State {
    phase: Phase,
    /// Nodes reported so far, counting the document node (as the tree would hold them).
    nodes: usize,
    /// Whether the last node reported was text, which a tree merges with the next text.
    after_text: bool,
    /// Qualified names of the open elements, one after the other.
    open_names: String,
    /// End of each open element's name in `open_names`.
    open_ends: Vec<usize>,
    /// In-scope namespace bindings (prefix, URI), innermost last.
    bindings: Vec<NsDecl>,
    /// Number of bindings in `bindings` before each open element's own declarations.
    scopes: Vec<usize>,
    /// The URI of the `xml` prefix, for attributes in that namespace.
    xml_ns: Arc<str>,
    /// Scratch for character data with references in it.
    text_buf: String,
    has_doctype: bool,
    /// Offset in the decoded text of the window's first byte.
    base_offset: usize,
    /// Line breaks before the window.
    base_lines: usize,
    /// Characters between the last line break before the window and the window.
    base_column: usize,
}

impl State {
    fn new() -> Self {
        Self {
            phase: Phase::Start,
            nodes: 1,
            after_text: false,
            open_names: String::new(),
            open_ends: Vec::new(),
            bindings: Vec::new(),
            scopes: Vec::new(),
            xml_ns: Arc::from(XML_NS),
            text_buf: String::new(),
            has_doctype: false,
            base_offset: 0,
            base_lines: 0,
            base_column: 0,
        }
    }

    /// The name of the innermost open element.
    fn open_top(&self) -> Option<&str> {
        let end = *self.open_ends.last()?;
        let start = match self.open_ends.len().checked_sub(2) {
            Some(i) => self.open_ends.get(i).copied().unwrap_or(0),
            None => 0,
        };
        self.open_names.get(start..end)
    }

    fn open_pop(&mut self) {
        self.open_ends.pop();
        let keep = self.open_ends.last().copied().unwrap_or(0);
        self.open_names.truncate(keep);
    }

    /// Notes that `gone`, the start of the window, is dropped from it.
    fn advance(&mut self, gone: &str) {
        self.base_offset += gone.len();
        let lines = memchr::memchr_iter(b'\n', gone.as_bytes()).count();
        match memchr::memrchr(b'\n', gone.as_bytes()) {
            Some(i) => {
                self.base_lines += lines;
                self.base_column = gone.get(i + 1..).map_or(0, |t| t.chars().count());
            }
            None => self.base_column += gone.chars().count(),
        }
    }

    /// The position of byte `offset` of `window`.
    fn position(&self, window: &str, offset: usize) -> Position {
        let before = window.get(..offset).unwrap_or(window);
        let line = self.base_lines + memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1;
        let column = match memchr::memrchr(b'\n', before.as_bytes()) {
            Some(i) => before.get(i + 1..).map_or(0, |l| l.chars().count()),
            None => self.base_column + before.chars().count(),
        } + 1;
        Position {
            offset: self.base_offset + offset,
            line,
            column,
        }
    }
}

/// The error a step returns when it needs text beyond the window; never seen outside.
fn need_more() -> XmlError {
    XmlError::ApiMisuse {
        what: "internal: more input needed",
    }
}

struct Parser<'a, 'h, H> {
    /// The window: all of the text, or the part of it read so far and not yet consumed.
    s: &'a str,
    pos: usize,
    /// Whether `s` ends where the text ends.
    eof: bool,
    /// Whether the current step looked at the end of the window (and might decide
    /// differently with more text).
    hit_end: Cell<bool>,
    limits: &'h Limits,
    handler: &'h mut H,
    st: &'h mut State,
    /// Scratch for one start tag: (name, value, offset), reused to avoid allocations.
    raw: Vec<(&'a str, Cow<'a, str>, usize)>,
    /// Scratch for one start tag's attributes.
    attrs: Vec<Attribute<'a>>,
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Offset of the first character that is not an XML `Char`. Works on bytes: below 0x80 only
/// the C0 controls other than tab, newline and carriage return are excluded; above, only
/// U+FFFE and U+FFFF (`EF BF BE`, `EF BF BF`), since `str` holds no surrogates.
fn first_invalid_char(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let bad_at = |i: usize, c: u8| {
        (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'))
            || (c == 0xEF
                && b.get(i + 1) == Some(&0xBF)
                && matches!(b.get(i + 2), Some(0xBE | 0xBF)))
    };
    // A branch-free test per block (which the compiler vectorizes) finds the rare blocks
    // that need the exact check.
    const BLOCK: usize = 64;
    for (n, block) in b.chunks(BLOCK).enumerate() {
        let suspect = block.iter().fold(0u8, |acc, &c| {
            acc | u8::from((c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r'))
                | u8::from(c == 0xEF)
        });
        if suspect != 0 {
            let base = n * BLOCK;
            if let Some(i) = block
                .iter()
                .enumerate()
                .position(|(i, &c)| bad_at(base + i, c))
            {
                return Some(base + i);
            }
        }
    }
    None
}

/// Whether an attribute name is a namespace declaration.
fn is_xmlns(name: &str) -> bool {
    starts_at(name, 0, "xmlns") && matches!(name.as_bytes().get(5), None | Some(b':'))
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic()
        || c == '_'
        || c == ':'
        || matches!(c, '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
            | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
            | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
            | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start(c)
        || c.is_ascii_digit()
        || c == '-'
        || c == '.'
        || matches!(c, '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Classes of ASCII bytes in names: bit 0 may start a name, bit 1 may continue one.
// Evaluated at compile time, where an index out of range is an error, not a panic.
#[allow(clippy::indexing_slicing, clippy::as_conversions)]
const NAME_BYTE: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            t[b] = 3;
        } else if c.is_ascii_digit() || c == b'-' || c == b'.' {
            t[b] = 2;
        }
        b += 1;
    }
    t
};

/// ASCII name characters, decided on the byte (the hot path: almost all names are ASCII).
fn is_ascii_name_byte(b: u8, first: bool) -> bool {
    let class = NAME_BYTE.get(usize::from(b)).copied().unwrap_or(0);
    class & if first { 1 } else { 2 } != 0
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// String equality for the short names and URIs compared at every element: the same
/// slice (namespace URIs are usually borrowed from one declaration) or a byte loop, either
/// way without a call to `memcmp`, which dominated profiles on prefix lookups.
pub(crate) fn same_str(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && (core::ptr::eq(a.as_ptr(), b.as_ptr()) || a.bytes().zip(b.bytes()).all(|(x, y)| x == y))
}

/// Whether `pat` (ASCII) occurs in `s` at byte `at`. A byte loop rather than a slice
/// comparison: the patterns are a few bytes long and checked at every token.
fn starts_at(s: &str, at: usize, pat: &str) -> bool {
    let b = s.as_bytes();
    pat.bytes()
        .enumerate()
        .all(|(i, p)| b.get(at + i) == Some(&p))
}

/// Below this many bytes a plain loop finds a byte faster than `memchr`, whose setup
/// dominated profiles: most names, attribute values and text nodes are that short.
const SHORT: usize = 32;

/// The first `needle` in `hay`: a plain loop over the first [`SHORT`] bytes, then a
/// vectorized search.
pub(crate) fn find_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    let (head, tail) = hay.split_at(hay.len().min(SHORT));
    if let Some(i) = head.iter().position(|b| *b == needle) {
        return Some(i);
    }
    memchr::memchr(needle, tail).map(|i| i + head.len())
}

/// The first occurrence of `pat` (non-empty, ASCII) in `hay`: a search for its first
/// byte, then a check of the rest.
fn find_pat(hay: &str, pat: &str) -> Option<usize> {
    let first = *pat.as_bytes().first()?;
    let bytes = hay.as_bytes();
    let mut from = 0;
    loop {
        let i = from + find_byte(first, bytes.get(from..)?)?;
        if starts_at(hay, i, pat) {
            return Some(i);
        }
        from = i + 1;
    }
}

/// Splits a QName into (prefix, local); `None` when it is not a valid QName.
pub(crate) fn split_qname(q: &str) -> Option<(Option<&str>, &str)> {
    match q.bytes().position(|b| b == b':') {
        None => Some((None, q)),
        Some(i) => {
            let (p, l) = (q.get(..i)?, q.get(i + 1..)?);
            if !p.is_empty() && !l.is_empty() && !l.bytes().any(|b| b == b':') {
                Some((Some(p), l))
            } else {
                None
            }
        }
    }
}

/// Parses the decoded, line-end-normalized text `s`, reporting to `handler`.
pub(crate) fn parse<H: Handler>(
    s: &str,
    limits: &Limits,
    handler: &mut H,
) -> Result<Parsed, XmlError> {
    let mut st = State::new();
    if let Some(i) = first_invalid_char(s) {
        return Err(XmlError::Syntax {
            message: "character not allowed in XML".into(),
            position: st.position(s, i),
        });
    }
    let mut p = Parser::new(s, 0, true, limits, handler, &mut st);
    while !p.step()? {}
    Ok(Parsed {
        has_doctype: st.has_doctype,
    })
}

/// Input asked for per read.
const WINDOW: usize = 64 * 1024;

/// Parses the text `source` gives, holding a window of it: one read of up to 64 KiB, or
/// more while a single token (a start tag, comment, PI or DOCTYPE) is longer than that.
/// Character data is reported in pieces. A document with several faults may be refused for another one
/// of them than [`parse`] would name first (this reads the text in order, where `parse`
/// checks every character first).
pub(crate) fn parse_source<H: Handler>(
    source: &mut dyn Source,
    limits: &Limits,
    handler: &mut H,
) -> Result<Parsed, XmlError> {
    let mut st = State::new();
    let mut buf = String::new();
    let mut start = 0;
    // Text to add to the window before parsing on.
    let mut need = 1;
    let mut eof = false;
    loop {
        if !eof {
            if start > 0 {
                st.advance(buf.get(..start).unwrap_or(""));
                buf.drain(..start);
                start = 0;
            }
            let old = buf.len();
            while !eof && buf.len() - old < need {
                eof = !source.fill(&mut buf, WINDOW)?;
            }
            if let Some(i) = buf.get(old..).and_then(first_invalid_char) {
                return Err(XmlError::Syntax {
                    message: "character not allowed in XML".into(),
                    position: st.position(&buf, old + i),
                });
            }
        }
        let mut p = Parser::new(&buf, start, eof, limits, handler, &mut st);
        let done = loop {
            let at = p.pos;
            p.hit_end.set(false);
            match p.step() {
                Ok(true) => break true,
                Ok(false) => {}
                Err(_) if p.hit_end.get() && !eof => {
                    p.pos = at;
                    break false;
                }
                Err(e) => return Err(e),
            }
        };
        if done {
            return Ok(Parsed {
                has_doctype: st.has_doctype,
            });
        }
        start = p.pos;
        // The token at `start` needs more text: at least as much again as is left of the
        // window, so that a long token is read again only a logarithmic number of times.
        need = (buf.len() - start).max(1);
    }
}

impl<'a, 'h, H: Handler> Parser<'a, 'h, H> {
    fn new(
        s: &'a str,
        pos: usize,
        eof: bool,
        limits: &'h Limits,
        handler: &'h mut H,
        st: &'h mut State,
    ) -> Self {
        Self {
            s,
            pos,
            eof,
            hit_end: Cell::new(false),
            limits,
            handler,
            st,
            raw: Vec::new(),
            attrs: Vec::new(),
        }
    }

    fn position(&self, offset: usize) -> Position {
        self.st.position(self.s, offset)
    }

    fn syntax_at(&self, offset: usize, message: impl Into<String>) -> XmlError {
        XmlError::Syntax {
            message: message.into(),
            position: self.position(offset),
        }
    }

    fn syntax(&self, message: impl Into<String>) -> XmlError {
        self.syntax_at(self.pos, message)
    }

    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    /// The byte at `at`, noting a look past the end of the window.
    fn byte(&self, at: usize) -> Option<u8> {
        let b = self.s.as_bytes().get(at).copied();
        if b.is_none() {
            self.hit_end.set(true);
        }
        b
    }

    fn starts(&self, pat: &str) -> bool {
        let b = self.s.as_bytes();
        for (i, p) in pat.bytes().enumerate() {
            match b.get(self.pos + i) {
                Some(c) if *c == p => {}
                Some(_) => return false,
                None => {
                    self.hit_end.set(true);
                    return false;
                }
            }
        }
        true
    }

    fn peek(&self) -> Option<u8> {
        self.byte(self.pos)
    }

    /// Before the first effect of a step (a handler call, a change of state): a step that
    /// looked past the end of the window stops here and is read again with more text.
    fn commit(&self) -> Result<(), XmlError> {
        if self.hit_end.get() && !self.eof {
            Err(need_more())
        } else {
            Ok(())
        }
    }

    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn expect(&mut self, pat: &str) -> Result<(), XmlError> {
        if self.starts(pat) {
            self.pos += pat.len();
            Ok(())
        } else {
            Err(self.syntax(format!("expected `{pat}`")))
        }
    }

    /// Advances past `pat`, returning the text before it.
    fn until(&mut self, pat: &str, what: &str) -> Result<&'a str, XmlError> {
        let rest = self.rest();
        match find_pat(rest, pat) {
            Some(i) => {
                self.pos += i + pat.len();
                Ok(rest.get(..i).unwrap_or(""))
            }
            None => {
                self.hit_end.set(true);
                Err(self.syntax(format!("unterminated {what}")))
            }
        }
    }

    /// Advances past the byte `q`, returning the text before it.
    fn until_byte(&mut self, q: u8, what: &str) -> Result<&'a str, XmlError> {
        let rest = self.rest();
        match find_byte(q, rest.as_bytes()) {
            Some(i) => {
                self.pos += i + 1;
                Ok(rest.get(..i).unwrap_or(""))
            }
            None => {
                self.hit_end.set(true);
                Err(self.syntax(format!("unterminated {what}")))
            }
        }
    }

    fn name(&mut self) -> Result<&'a str, XmlError> {
        let start = self.pos;
        let rest = self.rest();
        let bytes = rest.as_bytes();
        // ASCII fast path; the first non-ASCII byte hands over to the full character check.
        let mut end = match bytes.first() {
            Some(b) if is_ascii_name_byte(*b, true) => bytes
                .iter()
                .skip(1)
                .position(|b| !is_ascii_name_byte(*b, false))
                .map_or(bytes.len(), |i| i + 1),
            _ => 0,
        };
        if bytes.get(end).is_some_and(|b| !b.is_ascii()) {
            let ascii = end;
            for (i, c) in rest.get(ascii..).unwrap_or("").char_indices() {
                let ok = if ascii + i == 0 {
                    is_name_start(c)
                } else {
                    is_name_char(c)
                };
                if !ok {
                    break;
                }
                end = ascii + i + c.len_utf8();
            }
        }
        if end == bytes.len() {
            // The name may go on in the next window.
            self.hit_end.set(true);
        }
        if end == 0 {
            return Err(self.syntax("expected a name"));
        }
        if end > self.limits.max_name_len {
            return Err(XmlError::Limit {
                kind: LimitKind::NameLength,
                value: end,
                max: self.limits.max_name_len,
                position: Some(self.position(start)),
            });
        }
        self.pos += end;
        Ok(rest.get(..end).unwrap_or(""))
    }

    /// Counts one more node against [`Limits::max_nodes`], as the tree would allocate it.
    fn count_node(&mut self) -> Result<(), XmlError> {
        if self.st.nodes >= self.limits.max_nodes {
            return Err(XmlError::Limit {
                kind: LimitKind::Nodes,
                value: self.st.nodes + 1,
                max: self.limits.max_nodes,
                position: Some(self.position(self.pos)),
            });
        }
        self.st.nodes += 1;
        self.st.after_text = false;
        Ok(())
    }

    /// Reads one token; returns true when the document is complete.
    fn step(&mut self) -> Result<bool, XmlError> {
        match self.st.phase {
            Phase::Start => {
                if self.starts("<?xml") && self.byte(self.pos + 5).is_some_and(is_ws) {
                    self.until("?>", "XML declaration")?;
                }
                self.commit()?;
                self.st.phase = Phase::Prolog;
                Ok(false)
            }
            Phase::Prolog | Phase::Epilog => self.misc(),
            Phase::Content => {
                self.content()?;
                Ok(false)
            }
        }
    }

    /// One token before or after the document element.
    fn misc(&mut self) -> Result<bool, XmlError> {
        let seen_root = self.st.phase == Phase::Epilog;
        self.skip_ws();
        if self.pos >= self.s.len() {
            self.hit_end.set(true);
            self.commit()?;
            return if seen_root {
                Ok(true)
            } else {
                Err(self.syntax("no document element"))
            };
        }
        if self.starts("<!--") {
            self.comment()?;
        } else if self.starts("<?") {
            self.pi()?;
        } else if self.starts("<!DOCTYPE") {
            if self.st.has_doctype || seen_root {
                return Err(self.syntax("misplaced DOCTYPE"));
            }
            self.doctype()?;
        } else if self.starts("<") && !seen_root {
            let empty = self.start_tag()?;
            self.st.phase = if empty { Phase::Epilog } else { Phase::Content };
        } else {
            return Err(self.syntax("content not allowed outside the document element"));
        }
        Ok(false)
    }

    fn comment(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        self.pos += 4;
        let body = self.until("-->", "comment")?;
        if body.contains("--") || body.ends_with('-') {
            return Err(self.syntax_at(start, "`--` inside a comment"));
        }
        self.commit()?;
        self.count_node()?;
        self.handler.comment(body)
    }

    fn pi(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        self.pos += 2;
        let target = self.name()?;
        if target.eq_ignore_ascii_case("xml") {
            return Err(self.syntax_at(start, "misplaced XML declaration"));
        }
        if target.contains(':') {
            return Err(self.syntax_at(start, "colon in processing instruction target"));
        }
        let data = if self.starts("?>") {
            self.pos += 2;
            ""
        } else {
            if !self.skip_ws() {
                return Err(self.syntax("expected whitespace after PI target"));
            }
            self.until("?>", "processing instruction")?
        };
        self.commit()?;
        self.count_node()?;
        self.handler.pi(target, data)
    }

    fn skip_quoted(&mut self) -> Result<(), XmlError> {
        let q = match self.peek() {
            Some(b'"') => b'"',
            Some(b'\'') => b'\'',
            _ => return Err(self.syntax("expected a quoted literal")),
        };
        self.pos += 1;
        self.until_byte(q, "literal")?;
        Ok(())
    }

    /// DOCTYPE: the external subset is never read. The internal subset may contain element,
    /// attribute-list and notation declarations (ignored: no default attributes, no attribute
    /// type normalization), comments and PIs. Entity declarations and parameter-entity
    /// references are refused.
    fn doctype(&mut self) -> Result<(), XmlError> {
        self.pos += "<!DOCTYPE".len();
        if !self.skip_ws() {
            return Err(self.syntax("expected whitespace after DOCTYPE"));
        }
        self.name()?;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'>') => {
                    self.pos += 1;
                    break;
                }
                Some(b'"' | b'\'') => self.skip_quoted()?,
                Some(b'[') => {
                    self.pos += 1;
                    self.internal_subset()?;
                }
                Some(_) if self.starts("SYSTEM") || self.starts("PUBLIC") => self.pos += 6,
                _ => return Err(self.syntax("malformed DOCTYPE")),
            }
        }
        self.commit()?;
        self.st.has_doctype = true;
        Ok(())
    }

    fn internal_subset(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            let start = self.pos;
            if self.starts("]") {
                self.pos += 1;
                return Ok(());
            } else if self.starts("<!--") {
                self.pos += 4;
                self.until("-->", "comment")?;
            } else if self.starts("<?") {
                self.pos += 2;
                self.until("?>", "processing instruction")?;
            } else if self.starts("<!ENTITY") {
                self.pos += "<!ENTITY".len();
                self.skip_ws();
                let pe = if self.peek() == Some(b'%') {
                    self.pos += 1;
                    self.skip_ws();
                    "%"
                } else {
                    ""
                };
                let name = self.name().unwrap_or("");
                return Err(XmlError::EntityDeclared {
                    name: format!("{pe}{name}"),
                    position: self.position(start),
                });
            } else if self.starts("<!ELEMENT")
                || self.starts("<!ATTLIST")
                || self.starts("<!NOTATION")
            {
                self.pos += 2;
                loop {
                    match self.peek() {
                        Some(b'>') => {
                            self.pos += 1;
                            break;
                        }
                        Some(b'"' | b'\'') => self.skip_quoted()?,
                        Some(b'%') => {
                            return Err(XmlError::Dtd {
                                reason: "parameter entity reference".into(),
                                position: self.position(self.pos),
                            })
                        }
                        Some(_) => self.pos += 1,
                        None => return Err(self.syntax("unterminated markup declaration")),
                    }
                }
            } else if self.starts("%") {
                return Err(XmlError::Dtd {
                    reason: "parameter entity reference".into(),
                    position: self.position(start),
                });
            } else {
                return Err(XmlError::Dtd {
                    reason: "unexpected content in the internal DTD subset".into(),
                    position: self.position(start),
                });
            }
        }
    }

    /// Resolves the five predefined entities and character references. In attribute
    /// values, literal whitespace characters become spaces (CDATA attribute normalization).
    /// Borrows `raw` when there is nothing to change.
    fn unescape(&self, raw: &'a str, base: usize, attr: bool) -> Result<Cow<'a, str>, XmlError> {
        let mut out = String::new();
        Ok(if self.unescape_into(raw, base, attr, &mut out)? {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(raw)
        })
    }

    /// Like [`Self::unescape`], appending to `out`; returns false, leaving `out` alone, when
    /// `raw` needs no change.
    fn unescape_into(
        &self,
        raw: &str,
        base: usize,
        attr: bool,
        out: &mut String,
    ) -> Result<bool, XmlError> {
        let bytes = raw.as_bytes();
        // Character data only changes at `&`; attribute values also at `<` (an error) and
        // at literal white space other than the space (carriage returns are gone already,
        // but a tree built from other text must not depend on that).
        let find = |from: usize| -> Option<usize> {
            let rest = bytes.get(from..)?;
            let k = if attr {
                rest.iter()
                    .position(|b| matches!(b, b'&' | b'<' | b'\t' | b'\n' | b'\r'))
            } else {
                find_byte(b'&', rest)
            };
            k.map(|k| from + k)
        };
        let Some(first) = find(0) else {
            return Ok(false);
        };
        out.reserve(raw.len());
        let mut i = 0;
        let mut next = Some(first);
        while let Some(j) = next {
            // `j` is at an ASCII byte, hence a character boundary.
            out.push_str(raw.get(i..j).unwrap_or(""));
            match bytes.get(j) {
                Some(b'&') => {
                    let rest = bytes.get(j + 1..).unwrap_or_default();
                    let end = find_byte(b';', rest)
                        .ok_or_else(|| self.syntax_at(base + j, "unterminated reference"))?;
                    let name = raw.get(j + 1..j + 1 + end).unwrap_or("");
                    out.push(self.reference(name, base + j)?);
                    i = j + end + 2;
                }
                Some(b'<') => return Err(self.syntax_at(base + j, "`<` in attribute value")),
                _ => {
                    out.push(' ');
                    i = j + 1;
                }
            }
            next = find(i);
        }
        out.push_str(raw.get(i..).unwrap_or(""));
        Ok(true)
    }

    /// The character a reference `&name;` at `at` stands for.
    fn reference(&self, name: &str, at: usize) -> Result<char, XmlError> {
        Ok(match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                if let Some(num) = name.strip_prefix('#') {
                    let v = if let Some(hex) = num.strip_prefix('x') {
                        u32::from_str_radix(hex, 16).ok()
                    } else {
                        num.parse::<u32>().ok()
                    };
                    v.filter(|_| !num.starts_with('+') && !num.starts_with("x+"))
                        .and_then(char::from_u32)
                        .filter(|c| is_xml_char(*c))
                        .ok_or_else(|| self.syntax_at(at, "invalid character reference"))?
                } else {
                    return Err(XmlError::UnknownEntity {
                        name: name.to_owned(),
                        position: self.position(at),
                    });
                }
            }
        })
    }

    fn push_text(&mut self, text: &str) -> Result<(), XmlError> {
        if text.is_empty() {
            return Ok(());
        }
        if !self.st.after_text {
            self.count_node()?;
            self.st.after_text = true;
        }
        self.handler.text(text)
    }

    fn ns_err(&self, at: usize, message: impl Into<String>) -> XmlError {
        XmlError::Namespace {
            message: message.into(),
            position: self.position(at),
        }
    }

    /// Parses a start tag at `self.pos`; returns true for an empty-element tag.
    fn start_tag(&mut self) -> Result<bool, XmlError> {
        let start = self.pos;
        self.pos += 1;
        let qname = self.name()?;
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        let empty = loop {
            let ws = self.skip_ws();
            match self.peek() {
                Some(b'/') if self.starts("/>") => {
                    self.pos += 2;
                    break true;
                }
                Some(b'>') => {
                    self.pos += 1;
                    break false;
                }
                _ => {}
            }
            if !ws {
                return Err(self.syntax("expected whitespace between attributes"));
            }
            let at = self.pos;
            let name = self.name()?;
            self.skip_ws();
            self.expect("=")?;
            self.skip_ws();
            let q = match self.peek() {
                Some(b'"') => b'"',
                Some(b'\'') => b'\'',
                _ => return Err(self.syntax("expected a quoted attribute value")),
            };
            self.pos += 1;
            let vstart = self.pos;
            let rawv = self.until_byte(q, "attribute value")?;
            if rawv.len() > self.limits.max_attribute_bytes {
                return Err(XmlError::Limit {
                    kind: LimitKind::AttributeBytes,
                    value: rawv.len(),
                    max: self.limits.max_attribute_bytes,
                    position: Some(self.position(at)),
                });
            }
            let value = self.unescape(rawv, vstart, true)?;
            if raw.len() >= self.limits.max_attributes {
                return Err(XmlError::Limit {
                    kind: LimitKind::Attributes,
                    value: raw.len() + 1,
                    max: self.limits.max_attributes,
                    position: Some(self.position(at)),
                });
            }
            if raw.iter().any(|(n, _, _)| same_str(n, name)) {
                return Err(self.syntax_at(at, format!("duplicate attribute `{name}`")));
            }
            raw.push((name, value, at));
        };
        self.commit()?;
        if self.st.open_ends.len() >= self.limits.max_depth {
            return Err(XmlError::Limit {
                kind: LimitKind::Depth,
                value: self.st.open_ends.len() + 1,
                max: self.limits.max_depth,
                position: Some(self.position(start)),
            });
        }
        // Namespace declarations go straight into the bindings; they are checked first.
        let scope = self.st.bindings.len();
        self.st.scopes.push(scope);
        for (name, value, at) in &raw {
            let (name, at) = (*name, *at);
            if !is_xmlns(name) {
                continue;
            }
            if name == "xmlns" {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(self.ns_err(at, "reserved namespace bound to the default prefix"));
                }
                self.st.bindings.push((Arc::from(""), Arc::from(&**value)));
            } else if let Some(p) = name.strip_prefix("xmlns:") {
                if p == "xmlns" || (p == "xml") != (value == XML_NS) || value == XMLNS_NS {
                    return Err(self.ns_err(at, format!("illegal declaration of prefix `{p}`")));
                }
                if value.is_empty() {
                    return Err(self.ns_err(at, format!("empty namespace for prefix `{p}`")));
                }
                if p.contains(':') {
                    return Err(self.ns_err(at, "colon in namespace prefix"));
                }
                self.st.bindings.push((Arc::from(p), Arc::from(&**value)));
            }
        }
        let (prefix, local) =
            split_qname(qname).ok_or_else(|| self.ns_err(start, format!("bad QName `{qname}`")))?;
        let ns_index = match prefix {
            Some(p) => Some(
                self.lookup(p)
                    .ok_or_else(|| self.ns_err(start, format!("unbound prefix `{p}`")))?,
            ),
            None => self
                .lookup("")
                .filter(|i| self.uri(*i).is_some_and(|u| !u.is_empty())),
        };
        let mut attrs = std::mem::take(&mut self.attrs);
        attrs.clear();
        for (name, value, at) in raw.drain(..) {
            if is_xmlns(name) {
                continue;
            }
            let (ap, al) =
                split_qname(name).ok_or_else(|| self.ns_err(at, format!("bad QName `{name}`")))?;
            let ans = match ap {
                Some(p) => Some(
                    self.lookup(p)
                        .and_then(|i| self.uri(i))
                        .cloned()
                        .ok_or_else(|| self.ns_err(at, format!("unbound prefix `{p}`")))?,
                ),
                None => None,
            };
            if attrs
                .iter()
                .any(|a| same_str(a.local, al) && a.ns.as_deref() == ans.as_deref())
            {
                return Err(self.ns_err(at, format!("duplicate expanded attribute name `{name}`")));
            }
            attrs.push(Attribute {
                prefix: ap,
                local: al,
                ns: ans,
                value,
            });
        }
        self.raw = raw;
        self.count_node()?;
        let ns = match ns_index {
            Some(XML_BINDING) => Some(XML_NS),
            Some(i) => self.st.bindings.get(i).map(|(_, u)| &**u),
            None => None,
        };
        let tag = StartTag {
            prefix,
            local,
            ns,
            attrs: &attrs,
            decls: self.st.bindings.get(scope..).unwrap_or_default(),
        };
        let r = self.handler.start_element(&tag);
        self.attrs = attrs;
        r?;
        if empty {
            self.pop_scope();
            self.handler.end_element(qname)?;
        } else {
            self.st.open_names.push_str(qname);
            self.st.open_ends.push(self.st.open_names.len());
        }
        Ok(empty)
    }

    /// The binding of `prefix` (an index into the bindings, [`XML_BINDING`] for `xml`).
    fn lookup(&self, prefix: &str) -> Option<usize> {
        if prefix == "xml" {
            return Some(XML_BINDING);
        }
        self.st
            .bindings
            .iter()
            .rposition(|(p, _)| same_str(p, prefix))
    }

    fn uri(&self, binding: usize) -> Option<&Arc<str>> {
        if binding == XML_BINDING {
            return Some(&self.st.xml_ns);
        }
        self.st.bindings.get(binding).map(|(_, u)| u)
    }

    fn pop_scope(&mut self) {
        if let Some(n) = self.st.scopes.pop() {
            self.st.bindings.truncate(n);
        }
    }

    /// One token of the document element's content.
    fn content(&mut self) -> Result<(), XmlError> {
        match self.peek() {
            Some(b'<') => {}
            Some(_) => return self.text(),
            None => {
                self.commit()?;
                return Err(self.syntax("unexpected end of input inside an element"));
            }
        }
        match self.byte(self.pos + 1) {
            Some(b'/') => {
                self.pos += 2;
                let name = self.name()?;
                let Some(qname) = self.st.open_top() else {
                    return Err(self.syntax("end tag outside the document element"));
                };
                if !same_str(name, qname) {
                    return Err(self.syntax(format!("end tag `{name}` does not match `{qname}`")));
                }
                self.skip_ws();
                self.expect(">")?;
                self.commit()?;
                self.pop_scope();
                self.st.after_text = false;
                let r = match self.st.open_top() {
                    Some(q) => self.handler.end_element(q),
                    None => Ok(()),
                };
                self.st.open_pop();
                if self.st.open_ends.is_empty() {
                    self.st.phase = Phase::Epilog;
                }
                r
            }
            Some(b'!') => {
                if self.starts("<!--") {
                    self.comment()
                } else if self.starts("<![CDATA[") {
                    self.pos += "<![CDATA[".len();
                    let t = self.until("]]>", "CDATA section")?;
                    self.commit()?;
                    self.push_text(t)
                } else {
                    Err(self.syntax("unexpected markup declaration in content"))
                }
            }
            Some(b'?') => self.pi(),
            _ => self.start_tag().map(|_| ()),
        }
    }

    /// Character data up to the next `<`, or as much of it as the window holds.
    fn text(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        let rest = self.rest();
        let complete = find_byte(b'<', rest.as_bytes());
        let end = match complete {
            Some(end) => end,
            None if self.eof => {
                return Err(self.syntax("unexpected end of input inside an element"));
            }
            None => {
                // Keep back the last two bytes (a `]]>` may straddle the window's end) and
                // a reference not yet terminated.
                let mut cut = rest.len().saturating_sub(2);
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
                let head = rest.get(..cut).unwrap_or("");
                if let Some(amp) = memchr::memrchr(b'&', head.as_bytes()) {
                    if memchr::memchr(b';', head.as_bytes().get(amp..).unwrap_or_default())
                        .is_none()
                    {
                        cut = amp;
                    }
                }
                if cut == 0 {
                    self.hit_end.set(true);
                    return Err(need_more());
                }
                cut
            }
        };
        let raw = rest.get(..end).unwrap_or("");
        // Checked over the whole window's text even when only part of it is reported now.
        let scanned = if complete.is_some() { raw } else { rest };
        if let Some(i) = find_pat(scanned, "]]>") {
            return Err(self.syntax_at(start + i, "`]]>` in content"));
        }
        let mut buf = std::mem::take(&mut self.st.text_buf);
        buf.clear();
        let changed = self.unescape_into(raw, start, false, &mut buf);
        let r = changed.and_then(|changed| {
            self.pos += end;
            self.push_text(if changed { &buf } else { raw })
        });
        self.st.text_buf = buf;
        r
    }
}

/// The pseudo binding index of the `xml` prefix.
const XML_BINDING: usize = usize::MAX;
