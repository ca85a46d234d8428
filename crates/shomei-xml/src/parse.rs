//! A small, strict, non-validating XML 1.0 + Namespaces parser over decoded text.
//!
//! The parser does not build anything: it reports what it reads to a [`Handler`] (the tree
//! builder in `tree.rs`, the streaming canonicalizer in `stream.rs`), borrowing from the
//! input wherever it can. Every safety rule and [`Limits`] check lives here, so both
//! consumers refuse exactly the same documents.

use std::borrow::Cow;

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
    /// Namespace URI (`None` for unprefixed attributes).
    pub(crate) ns: Option<Cow<'a, str>>,
    /// Normalized value (references resolved, whitespace characters as spaces).
    pub(crate) value: Cow<'a, str>,
}

/// A namespace declaration: (prefix, `""` for the default namespace; URI, `""` for
/// `xmlns=""`).
pub(crate) type NsDecl<'a> = (&'a str, Cow<'a, str>);

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
    pub(crate) decls: &'p [NsDecl<'a>],
}

/// Receives the parse events. Every element, text node (adjacent character data and CDATA
/// sections may arrive as several calls), comment and PI is reported in document order; an
/// empty-element tag gives a start and an end. An error from the handler stops the parse.
pub(crate) trait Handler<'a> {
    /// A start tag.
    fn start_element(&mut self, tag: &StartTag<'a, '_>) -> Result<(), XmlError>;
    /// The end of the innermost open element, whose name as written is `qname`.
    fn end_element(&mut self, qname: &'a str) -> Result<(), XmlError>;
    /// Character data (never empty). It may live in a scratch buffer of the parser.
    fn text(&mut self, text: &str) -> Result<(), XmlError>;
    /// A comment.
    fn comment(&mut self, body: &'a str) -> Result<(), XmlError>;
    /// A processing instruction.
    fn pi(&mut self, target: &'a str, data: &'a str) -> Result<(), XmlError>;
}

/// Facts the handler does not see.
pub(crate) struct Parsed {
    /// Whether a (tolerated) DOCTYPE was present.
    pub(crate) has_doctype: bool,
}

struct Parser<'a, 'h, H> {
    s: &'a str,
    pos: usize,
    limits: &'h Limits,
    handler: &'h mut H,
    /// Nodes reported so far, counting the document node (as the tree would hold them).
    nodes: usize,
    /// Whether the last node reported was text, which a tree merges with the next text.
    after_text: bool,
    /// Qualified names of the open elements.
    open: Vec<&'a str>,
    /// In-scope namespace bindings (prefix, URI), innermost last.
    bindings: Vec<NsDecl<'a>>,
    /// Number of bindings in `bindings` before each open element's own declarations.
    scopes: Vec<usize>,
    /// Scratch for one start tag: (name, value, offset), reused to avoid allocations.
    raw: Vec<(&'a str, Cow<'a, str>, usize)>,
    /// Scratch for one start tag's attributes.
    attrs: Vec<Attribute<'a>>,
    /// Scratch for character data with references in it.
    text_buf: String,
    has_doctype: bool,
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
        let suspect = block.iter().fold(false, |acc, &c| {
            acc | ((c < 0x20) & (c != b'\t') & (c != b'\n') & (c != b'\r')) | (c == 0xEF)
        });
        if suspect {
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

/// ASCII name characters, decided on the byte (the hot path: almost all names are ASCII).
fn is_ascii_name_byte(b: u8, first: bool) -> bool {
    b.is_ascii_alphabetic()
        || b == b'_'
        || b == b':'
        || (!first && (b.is_ascii_digit() || b == b'-' || b == b'.'))
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

/// The first occurrence of `pat` (non-empty, ASCII) in `hay`: a `memchr`-style search for
/// its first byte, then a check of the rest.
fn find_pat(hay: &str, pat: &str) -> Option<usize> {
    let first = char::from(*pat.as_bytes().first()?);
    let mut from = 0;
    loop {
        // `from` follows an ASCII byte, so it is a character boundary.
        let i = from + hay.get(from..)?.find(first)?;
        if starts_at(hay, i, pat) {
            return Some(i);
        }
        from = i + 1;
    }
}

/// Splits a QName into (prefix, local); `None` when it is not a valid QName.
pub(crate) fn split_qname(q: &str) -> Option<(Option<&str>, &str)> {
    match q.split_once(':') {
        None => Some((None, q)),
        Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => Some((Some(p), l)),
        Some(_) => None,
    }
}

/// Parses the decoded, line-end-normalized text `s`, reporting to `handler`.
pub(crate) fn parse<'a, H: Handler<'a>>(
    s: &'a str,
    limits: &Limits,
    handler: &mut H,
) -> Result<Parsed, XmlError> {
    let mut p = Parser {
        s,
        pos: 0,
        limits,
        handler,
        nodes: 1,
        after_text: false,
        open: Vec::new(),
        bindings: Vec::new(),
        scopes: Vec::new(),
        raw: Vec::new(),
        attrs: Vec::new(),
        text_buf: String::new(),
        has_doctype: false,
    };
    if let Some(i) = first_invalid_char(s) {
        return Err(p.syntax_at(i, "character not allowed in XML"));
    }
    p.document()?;
    Ok(Parsed {
        has_doctype: p.has_doctype,
    })
}

impl<'a, H: Handler<'a>> Parser<'a, '_, H> {
    fn position(&self, offset: usize) -> Position {
        let before = self.s.get(..offset).unwrap_or(self.s);
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
        Position {
            offset,
            line,
            column,
        }
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

    fn starts(&self, pat: &str) -> bool {
        starts_at(self.s, self.pos, pat)
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
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
        match find_pat(self.rest(), pat) {
            Some(i) => {
                let t = self.rest().get(..i).unwrap_or("");
                self.pos += i + pat.len();
                Ok(t)
            }
            None => Err(self.syntax(format!("unterminated {what}"))),
        }
    }

    fn name(&mut self) -> Result<&'a str, XmlError> {
        let start = self.pos;
        let rest = self.rest();
        let bytes = rest.as_bytes();
        // ASCII fast path; the first non-ASCII byte hands over to the full character check.
        let mut end = bytes
            .iter()
            .enumerate()
            .position(|(i, b)| !is_ascii_name_byte(*b, i == 0))
            .unwrap_or(bytes.len());
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
        if self.nodes >= self.limits.max_nodes {
            return Err(XmlError::Limit {
                kind: LimitKind::Nodes,
                value: self.nodes + 1,
                max: self.limits.max_nodes,
                position: Some(self.position(self.pos)),
            });
        }
        self.nodes += 1;
        self.after_text = false;
        Ok(())
    }

    fn document(&mut self) -> Result<(), XmlError> {
        if self.starts("<?xml") && self.rest().as_bytes().get(5).is_some_and(|b| is_ws(*b)) {
            self.until("?>", "XML declaration")?;
        }
        let mut seen_root = false;
        loop {
            self.skip_ws();
            if self.pos >= self.s.len() {
                break;
            }
            if self.starts("<!--") {
                self.comment()?;
            } else if self.starts("<?") {
                self.pi()?;
            } else if self.starts("<!DOCTYPE") {
                if self.has_doctype || seen_root {
                    return Err(self.syntax("misplaced DOCTYPE"));
                }
                self.doctype()?;
            } else if self.starts("<") && !seen_root {
                self.element_tree()?;
                seen_root = true;
            } else {
                return Err(self.syntax("content not allowed outside the document element"));
            }
        }
        if seen_root {
            Ok(())
        } else {
            Err(self.syntax("no document element"))
        }
    }

    fn comment(&mut self) -> Result<(), XmlError> {
        let start = self.pos;
        self.pos += 4;
        let body = self.until("-->", "comment")?;
        if body.contains("--") || body.ends_with('-') {
            return Err(self.syntax_at(start, "`--` inside a comment"));
        }
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
        self.count_node()?;
        self.handler.pi(target, data)
    }

    fn skip_quoted(&mut self) -> Result<(), XmlError> {
        let q = match self.peek() {
            Some(b'"') => "\"",
            Some(b'\'') => "'",
            _ => return Err(self.syntax("expected a quoted literal")),
        };
        self.pos += 1;
        self.until(q, "literal")?;
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
        self.has_doctype = true;
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
        let special = |b: &u8| *b == b'&' || (attr && matches!(b, b'<' | b'\t' | b'\n' | b'\r'));
        let bytes = raw.as_bytes();
        let Some(first) = bytes.iter().position(special) else {
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
                    let rest = raw.get(j + 1..).unwrap_or("");
                    let end = rest
                        .find(';')
                        .ok_or_else(|| self.syntax_at(base + j, "unterminated reference"))?;
                    let name = rest.get(..end).unwrap_or("");
                    out.push(self.reference(name, base + j)?);
                    i = j + end + 2;
                }
                Some(b'<') => return Err(self.syntax_at(base + j, "`<` in attribute value")),
                _ => {
                    out.push(' ');
                    i = j + 1;
                }
            }
            next = bytes
                .get(i..)
                .and_then(|r| r.iter().position(special))
                .map(|k| i + k);
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
        if !self.after_text {
            self.count_node()?;
            self.after_text = true;
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
            if self.starts("/>") {
                self.pos += 2;
                break true;
            }
            if self.starts(">") {
                self.pos += 1;
                break false;
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
                Some(b'"') => "\"",
                Some(b'\'') => "'",
                _ => return Err(self.syntax("expected a quoted attribute value")),
            };
            self.pos += 1;
            let vstart = self.pos;
            let rawv = self.until(q, "attribute value")?;
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
        if self.open.len() >= self.limits.max_depth {
            return Err(XmlError::Limit {
                kind: LimitKind::Depth,
                value: self.open.len() + 1,
                max: self.limits.max_depth,
                position: Some(self.position(start)),
            });
        }
        // Namespace declarations go straight into the bindings; they are checked first.
        let scope = self.bindings.len();
        self.scopes.push(scope);
        for (name, value, at) in &raw {
            let (name, at) = (*name, *at);
            if name == "xmlns" {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(self.ns_err(at, "reserved namespace bound to the default prefix"));
                }
                self.bindings.push(("", value.clone()));
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
                self.bindings.push((p, value.clone()));
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
            Some(i) => self.bindings.get(i).map(|(_, u)| &**u),
            None => None,
        };
        let tag = StartTag {
            prefix,
            local,
            ns,
            attrs: &attrs,
            decls: self.bindings.get(scope..).unwrap_or_default(),
        };
        let r = self.handler.start_element(&tag);
        self.attrs = attrs;
        r?;
        if empty {
            self.pop_scope();
            self.handler.end_element(qname)?;
        } else {
            self.open.push(qname);
        }
        Ok(empty)
    }

    /// The binding of `prefix` (an index into the bindings, [`XML_BINDING`] for `xml`).
    fn lookup(&self, prefix: &str) -> Option<usize> {
        if prefix == "xml" {
            return Some(XML_BINDING);
        }
        self.bindings.iter().rposition(|(p, _)| same_str(p, prefix))
    }

    fn uri(&self, binding: usize) -> Option<&Cow<'a, str>> {
        if binding == XML_BINDING {
            return Some(&XML_NS_COW);
        }
        self.bindings.get(binding).map(|(_, u)| u)
    }

    fn pop_scope(&mut self) {
        if let Some(n) = self.scopes.pop() {
            self.bindings.truncate(n);
        }
    }

    /// Parses the document element and its content, iteratively.
    fn element_tree(&mut self) -> Result<(), XmlError> {
        if self.start_tag()? {
            return Ok(());
        }
        while let Some(&qname) = self.open.last() {
            if self.starts("</") {
                self.pos += 2;
                let name = self.name()?;
                if !same_str(name, qname) {
                    return Err(self.syntax(format!("end tag `{name}` does not match `{qname}`")));
                }
                self.skip_ws();
                self.expect(">")?;
                self.open.pop();
                self.pop_scope();
                self.after_text = false;
                self.handler.end_element(qname)?;
            } else if self.starts("<!--") {
                self.comment()?;
            } else if self.starts("<![CDATA[") {
                self.pos += "<![CDATA[".len();
                let t = self.until("]]>", "CDATA section")?;
                self.push_text(t)?;
            } else if self.starts("<?") {
                self.pi()?;
            } else if self.starts("<!") {
                return Err(self.syntax("unexpected markup declaration in content"));
            } else if self.starts("<") {
                self.start_tag()?;
            } else {
                let start = self.pos;
                let rest = self.rest();
                let Some(end) = rest.find('<') else {
                    return Err(self.syntax("unexpected end of input inside an element"));
                };
                let raw = rest.get(..end).unwrap_or("");
                if let Some(i) = find_pat(raw, "]]>") {
                    return Err(self.syntax_at(start + i, "`]]>` in content"));
                }
                let mut buf = std::mem::take(&mut self.text_buf);
                buf.clear();
                let changed = self.unescape_into(raw, start, false, &mut buf)?;
                self.pos += end;
                let r = self.push_text(if changed { &buf } else { raw });
                self.text_buf = buf;
                r?;
            }
        }
        Ok(())
    }
}

/// The pseudo binding index of the `xml` prefix.
const XML_BINDING: usize = usize::MAX;
static XML_NS_COW: Cow<'static, str> = Cow::Borrowed(XML_NS);
