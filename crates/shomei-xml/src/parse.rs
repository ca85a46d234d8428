//! A small, strict, non-validating XML 1.0 + Namespaces parser over decoded text.

use crate::error::{LimitKind, Position, XmlError};
use crate::limits::Limits;
use crate::tree::{Attr, Data, Document, Element, NodeData, XML_NS};

const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    limits: &'a Limits,
    nodes: Vec<NodeData>,
    /// Open elements: (node index, qualified name).
    open: Vec<(usize, &'a str)>,
    /// In-scope namespace bindings (prefix, URI), innermost last.
    bindings: Vec<(String, String)>,
    /// Number of bindings in `bindings` before each open element's own declarations.
    scopes: Vec<usize>,
    has_doctype: bool,
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
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

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Splits a QName into (prefix, local); `None` when it is not a valid QName.
fn split_qname(q: &str) -> Option<(Option<&str>, &str)> {
    match q.split_once(':') {
        None => Some((None, q)),
        Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => Some((Some(p), l)),
        Some(_) => None,
    }
}

pub(crate) fn parse(
    s: &str,
    limits: &Limits,
    declared: Option<String>,
) -> Result<Document, XmlError> {
    let mut p = Parser {
        s,
        pos: 0,
        limits,
        nodes: vec![NodeData {
            data: Data::Document,
            parent: None,
            children: Vec::new(),
        }],
        open: Vec::new(),
        bindings: Vec::new(),
        scopes: Vec::new(),
        has_doctype: false,
    };
    if let Some((i, _)) = s.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        return Err(p.syntax_at(i, "character not allowed in XML"));
    }
    let root = p.document()?;
    Ok(Document {
        nodes: p.nodes,
        root,
        declared_encoding: declared,
        has_doctype: p.has_doctype,
    })
}

impl<'a> Parser<'a> {
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
        self.rest().starts_with(pat)
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
        match self.rest().find(pat) {
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
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            let ok = if i == 0 {
                is_name_start(c)
            } else {
                is_name_char(c)
            };
            if !ok {
                break;
            }
            end = i + c.len_utf8();
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

    fn add_node(&mut self, data: Data, parent: usize) -> Result<usize, XmlError> {
        let id = self.nodes.len();
        if id >= self.limits.max_nodes {
            return Err(XmlError::Limit {
                kind: LimitKind::Nodes,
                value: id + 1,
                max: self.limits.max_nodes,
                position: Some(self.position(self.pos)),
            });
        }
        self.nodes.push(NodeData {
            data,
            parent: Some(parent),
            children: Vec::new(),
        });
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.push(id);
        }
        Ok(id)
    }

    fn document(&mut self) -> Result<usize, XmlError> {
        if self.starts("<?xml") && self.rest().as_bytes().get(5).is_some_and(|b| is_ws(*b)) {
            self.until("?>", "XML declaration")?;
        }
        let mut root = None;
        loop {
            self.skip_ws();
            if self.pos >= self.s.len() {
                break;
            }
            if self.starts("<!--") {
                self.comment(0)?;
            } else if self.starts("<?") {
                self.pi(0)?;
            } else if self.starts("<!DOCTYPE") {
                if self.has_doctype || root.is_some() {
                    return Err(self.syntax("misplaced DOCTYPE"));
                }
                self.doctype()?;
            } else if self.starts("<") && root.is_none() {
                root = Some(self.element_tree()?);
            } else {
                return Err(self.syntax("content not allowed outside the document element"));
            }
        }
        root.ok_or_else(|| self.syntax("no document element"))
    }

    fn comment(&mut self, parent: usize) -> Result<(), XmlError> {
        let start = self.pos;
        self.pos += 4;
        let body = self.until("-->", "comment")?;
        if body.contains("--") || body.ends_with('-') {
            return Err(self.syntax_at(start, "`--` inside a comment"));
        }
        self.add_node(Data::Comment(body.to_owned()), parent)?;
        Ok(())
    }

    fn pi(&mut self, parent: usize) -> Result<(), XmlError> {
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
        self.add_node(
            Data::Pi {
                target: target.to_owned(),
                data: data.to_owned(),
            },
            parent,
        )?;
        Ok(())
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
    fn unescape(&self, raw: &str, base: usize, attr: bool) -> Result<String, XmlError> {
        let mut out = String::with_capacity(raw.len());
        let mut i = 0;
        while let Some(c) = raw.get(i..).and_then(|r| r.chars().next()) {
            match c {
                '&' => {
                    let rest = raw.get(i + 1..).unwrap_or("");
                    let end = rest
                        .find(';')
                        .ok_or_else(|| self.syntax_at(base + i, "unterminated reference"))?;
                    let name = rest.get(..end).unwrap_or("");
                    let ch = match name {
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
                                    .ok_or_else(|| {
                                        self.syntax_at(base + i, "invalid character reference")
                                    })?
                            } else {
                                return Err(XmlError::UnknownEntity {
                                    name: name.to_owned(),
                                    position: self.position(base + i),
                                });
                            }
                        }
                    };
                    out.push(ch);
                    i += end + 2;
                }
                '<' if attr => return Err(self.syntax_at(base + i, "`<` in attribute value")),
                '\t' | '\n' | '\r' if attr => {
                    out.push(' ');
                    i += 1;
                }
                c => {
                    out.push(c);
                    i += c.len_utf8();
                }
            }
        }
        Ok(out)
    }

    fn push_text(&mut self, parent: usize, text: &str) -> Result<(), XmlError> {
        if text.is_empty() {
            return Ok(());
        }
        let last = self
            .nodes
            .get(parent)
            .and_then(|p| p.children.last().copied());
        if let Some(Data::Text(t)) = last
            .and_then(|l| self.nodes.get_mut(l))
            .map(|n| &mut n.data)
        {
            t.push_str(text);
            return Ok(());
        }
        self.add_node(Data::Text(text.to_owned()), parent)?;
        Ok(())
    }

    fn lookup(&self, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        self.bindings
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.as_str())
    }

    fn pop_scope(&mut self) {
        if let Some(n) = self.scopes.pop() {
            self.bindings.truncate(n);
        }
    }

    fn ns_err(&self, at: usize, message: impl Into<String>) -> XmlError {
        XmlError::Namespace {
            message: message.into(),
            position: self.position(at),
        }
    }

    /// Parses a start tag at `self.pos`; returns true for an empty-element tag.
    fn start_tag(&mut self, parent: usize) -> Result<bool, XmlError> {
        let start = self.pos;
        self.pos += 1;
        let qname = self.name()?;
        let mut raw: Vec<(&'a str, String, usize)> = Vec::new();
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
            let value = self.unescape(rawv, vstart, true)?;
            if raw.len() >= self.limits.max_attributes {
                return Err(XmlError::Limit {
                    kind: LimitKind::Attributes,
                    value: raw.len() + 1,
                    max: self.limits.max_attributes,
                    position: Some(self.position(at)),
                });
            }
            if raw.iter().any(|(n, _, _)| *n == name) {
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
        // Namespace declarations.
        let mut decls = Vec::new();
        let mut plain = Vec::new();
        for (name, value, at) in raw {
            if name == "xmlns" {
                if value == XML_NS || value == XMLNS_NS {
                    return Err(self.ns_err(at, "reserved namespace bound to the default prefix"));
                }
                decls.push((String::new(), value));
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
                decls.push((p.to_owned(), value));
            } else {
                plain.push((name, value, at));
            }
        }
        self.scopes.push(self.bindings.len());
        self.bindings.extend(decls.iter().cloned());
        let (prefix, local) =
            split_qname(qname).ok_or_else(|| self.ns_err(start, format!("bad QName `{qname}`")))?;
        let ns = match prefix {
            Some(p) => Some(
                self.lookup(p)
                    .ok_or_else(|| self.ns_err(start, format!("unbound prefix `{p}`")))?
                    .to_owned(),
            ),
            None => self.lookup("").filter(|u| !u.is_empty()).map(str::to_owned),
        };
        let mut attrs: Vec<Attr> = Vec::with_capacity(plain.len());
        for (name, value, at) in plain {
            let (ap, al) =
                split_qname(name).ok_or_else(|| self.ns_err(at, format!("bad QName `{name}`")))?;
            let ans = match ap {
                Some(p) => Some(
                    self.lookup(p)
                        .ok_or_else(|| self.ns_err(at, format!("unbound prefix `{p}`")))?
                        .to_owned(),
                ),
                None => None,
            };
            if attrs.iter().any(|a| a.ns == ans && a.local == al) {
                return Err(self.ns_err(at, format!("duplicate expanded attribute name `{name}`")));
            }
            attrs.push(Attr {
                prefix: ap.map(str::to_owned),
                local: al.to_owned(),
                ns: ans,
                value,
            });
        }
        let id = self.add_node(
            Data::Element(Element {
                prefix: prefix.map(str::to_owned),
                local: local.to_owned(),
                ns,
                attrs,
                ns_decls: decls,
            }),
            parent,
        )?;
        self.open.push((id, qname));
        if empty {
            self.open.pop();
            self.pop_scope();
        }
        Ok(empty)
    }

    /// Parses the document element and its content, iteratively.
    fn element_tree(&mut self) -> Result<usize, XmlError> {
        let root_index = self.nodes.len();
        if self.start_tag(0)? {
            return Ok(root_index);
        }
        while let Some(&(current, qname)) = self.open.last() {
            if self.starts("</") {
                self.pos += 2;
                let name = self.name()?;
                if name != qname {
                    return Err(self.syntax(format!("end tag `{name}` does not match `{qname}`")));
                }
                self.skip_ws();
                self.expect(">")?;
                self.open.pop();
                self.pop_scope();
            } else if self.starts("<!--") {
                self.comment(current)?;
            } else if self.starts("<![CDATA[") {
                self.pos += "<![CDATA[".len();
                let t = self.until("]]>", "CDATA section")?;
                self.push_text(current, t)?;
            } else if self.starts("<?") {
                self.pi(current)?;
            } else if self.starts("<!") {
                return Err(self.syntax("unexpected markup declaration in content"));
            } else if self.starts("<") {
                self.start_tag(current)?;
            } else {
                let start = self.pos;
                let rest = self.rest();
                let Some(end) = rest.find('<') else {
                    return Err(self.syntax("unexpected end of input inside an element"));
                };
                let raw = rest.get(..end).unwrap_or("");
                if let Some(i) = raw.find("]]>") {
                    return Err(self.syntax_at(start + i, "`]]>` in content"));
                }
                let t = self.unescape(raw, start, false)?;
                self.pos += end;
                self.push_text(current, &t)?;
            }
        }
        Ok(root_index)
    }
}
