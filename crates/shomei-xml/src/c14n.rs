//! Canonical XML 1.0, Canonical XML 1.1 and Exclusive XML Canonicalization 1.0.

use std::collections::BTreeMap;

use crate::error::XmlError;
use crate::tree::{Attr, Data, Document, NodeId, XML_NS};

/// A canonicalization algorithm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum C14nMethod {
    /// Canonical XML 1.0 (`http://www.w3.org/TR/2001/REC-xml-c14n-20010315`).
    Inclusive10 {
        /// `#WithComments` variant.
        comments: bool,
    },
    /// Canonical XML 1.1 (`http://www.w3.org/2006/12/xml-c14n11`).
    Inclusive11 {
        /// `#WithComments` variant.
        comments: bool,
    },
    /// Exclusive XML Canonicalization 1.0 (`http://www.w3.org/2001/10/xml-exc-c14n#`).
    Exclusive {
        /// `#WithComments` variant.
        comments: bool,
        /// The `InclusiveNamespaces PrefixList`; `#default` names the default namespace.
        inclusive_prefixes: Vec<String>,
    },
}

const C14N10: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const C14N10_C: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
const C14N11: &str = "http://www.w3.org/2006/12/xml-c14n11";
const C14N11_C: &str = "http://www.w3.org/2006/12/xml-c14n11#WithComments";
const EXC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const EXC_C: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";

impl C14nMethod {
    /// The method named by an algorithm URI (exclusive: with an empty prefix list).
    pub fn from_uri(uri: &str) -> Option<Self> {
        Some(match uri {
            C14N10 => Self::Inclusive10 { comments: false },
            C14N10_C => Self::Inclusive10 { comments: true },
            C14N11 => Self::Inclusive11 { comments: false },
            C14N11_C => Self::Inclusive11 { comments: true },
            EXC => Self::Exclusive {
                comments: false,
                inclusive_prefixes: Vec::new(),
            },
            EXC_C => Self::Exclusive {
                comments: true,
                inclusive_prefixes: Vec::new(),
            },
            _ => return None,
        })
    }

    /// The algorithm URI of this method.
    pub fn uri(&self) -> &'static str {
        match self {
            Self::Inclusive10 { comments: false } => C14N10,
            Self::Inclusive10 { comments: true } => C14N10_C,
            Self::Inclusive11 { comments: false } => C14N11,
            Self::Inclusive11 { comments: true } => C14N11_C,
            Self::Exclusive {
                comments: false, ..
            } => EXC,
            Self::Exclusive { comments: true, .. } => EXC_C,
        }
    }

    fn comments(&self) -> bool {
        match self {
            Self::Inclusive10 { comments }
            | Self::Inclusive11 { comments }
            | Self::Exclusive { comments, .. } => *comments,
        }
    }
}

/// Canonicalizes the whole document (`subtree = None`) or the element `subtree` and its
/// descendants, appending UTF-8 to `out`.
pub fn canonicalize(
    doc: &Document,
    subtree: Option<NodeId>,
    method: &C14nMethod,
    out: &mut Vec<u8>,
) -> Result<(), XmlError> {
    canonicalize_excluding(doc, subtree, None, method, out)
}

/// Like [`canonicalize`], but leaves out the subtree rooted at `exclude` (the
/// enveloped-signature transform: pass the `ds:Signature` element).
pub fn canonicalize_excluding(
    doc: &Document,
    subtree: Option<NodeId>,
    exclude: Option<NodeId>,
    method: &C14nMethod,
    out: &mut Vec<u8>,
) -> Result<(), XmlError> {
    let mut c = Canon {
        doc,
        method,
        exclude: exclude.map(|e| e.0),
        out,
        apex: None,
    };
    match subtree {
        None => c.run(0, Ctx::new(BTreeMap::new()), true),
        Some(id) => {
            if doc.element(id.0).is_none() {
                return Err(XmlError::ApiMisuse {
                    what: "subtree is not an element of this document",
                });
            }
            let mut in_scope = BTreeMap::new();
            let mut anc = Vec::new();
            let mut p = doc.nodes.get(id.0).and_then(|n| n.parent);
            while let Some(i) = p {
                anc.push(i);
                p = doc.nodes.get(i).and_then(|n| n.parent);
            }
            for a in anc.iter().rev() {
                if let Some(e) = doc.element(*a) {
                    for (pfx, uri) in e.ns_decls.iter().filter(|(p, _)| p != "xml") {
                        in_scope.insert(pfx.clone(), uri.clone());
                    }
                }
            }
            c.apex = Some((id.0, anc));
            c.run(id.0, Ctx::new(in_scope), false)
        }
    }
}

#[derive(Clone)]
struct Ctx {
    in_scope: BTreeMap<String, String>,
    rendered: BTreeMap<String, String>,
}

impl Ctx {
    fn new(in_scope: BTreeMap<String, String>) -> Self {
        let mut rendered = BTreeMap::new();
        rendered.insert(String::new(), String::new());
        Self { in_scope, rendered }
    }
}

enum Step {
    Enter(usize),
    Leave(usize),
}

struct Canon<'a> {
    doc: &'a Document,
    method: &'a C14nMethod,
    exclude: Option<usize>,
    out: &'a mut Vec<u8>,
    /// The apex element and its ancestors (nearest first), for subtree canonicalization.
    apex: Option<(usize, Vec<usize>)>,
}

fn escape_text(s: &str, out: &mut Vec<u8>) {
    for c in s.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '\r' => out.extend_from_slice(b"&#xD;"),
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

fn escape_attr(s: &str, out: &mut Vec<u8>) {
    for c in s.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\t' => out.extend_from_slice(b"&#x9;"),
            '\n' => out.extend_from_slice(b"&#xA;"),
            '\r' => out.extend_from_slice(b"&#xD;"),
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

impl Canon<'_> {
    fn run(&mut self, start: usize, base: Ctx, whole: bool) -> Result<(), XmlError> {
        let mut ctxs = vec![base];
        let mut stack = vec![Step::Enter(start)];
        let mut after_root = false;
        while let Some(step) = stack.pop() {
            match step {
                Step::Leave(id) => {
                    if let Some(e) = self.doc.element(id) {
                        self.out.extend_from_slice(b"</");
                        self.qname(e.prefix.as_deref(), &e.local);
                        self.out.push(b'>');
                    }
                    ctxs.pop();
                    if self.doc.nodes.get(id).and_then(|n| n.parent) == Some(0) {
                        after_root = true;
                    }
                }
                Step::Enter(id) => {
                    if Some(id) == self.exclude {
                        continue;
                    }
                    let Some(node) = self.doc.nodes.get(id) else {
                        continue;
                    };
                    let top = whole && node.parent == Some(0);
                    match &node.data {
                        Data::Document => {
                            stack.extend(node.children.iter().rev().map(|c| Step::Enter(*c)));
                        }
                        Data::Element(_) => {
                            let parent = ctxs
                                .last()
                                .cloned()
                                .unwrap_or_else(|| Ctx::new(BTreeMap::new()));
                            let ctx = self.start_tag(id, parent)?;
                            ctxs.push(ctx);
                            stack.push(Step::Leave(id));
                            stack.extend(node.children.iter().rev().map(|c| Step::Enter(*c)));
                        }
                        Data::Text(t) => escape_text(t, self.out),
                        Data::Comment(c) => {
                            if self.method.comments() {
                                if top && after_root {
                                    self.out.push(b'\n');
                                }
                                self.out.extend_from_slice(b"<!--");
                                self.out.extend_from_slice(c.as_bytes());
                                self.out.extend_from_slice(b"-->");
                                if top && !after_root {
                                    self.out.push(b'\n');
                                }
                            }
                        }
                        Data::Pi { target, data } => {
                            if top && after_root {
                                self.out.push(b'\n');
                            }
                            self.out.extend_from_slice(b"<?");
                            self.out.extend_from_slice(target.as_bytes());
                            if !data.is_empty() {
                                self.out.push(b' ');
                                self.out.extend_from_slice(data.as_bytes());
                            }
                            self.out.extend_from_slice(b"?>");
                            if top && !after_root {
                                self.out.push(b'\n');
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn qname(&mut self, prefix: Option<&str>, local: &str) {
        if let Some(p) = prefix {
            self.out.extend_from_slice(p.as_bytes());
            self.out.push(b':');
        }
        self.out.extend_from_slice(local.as_bytes());
    }

    /// Inherited `xml:*` attributes for the apex of a subtree (inclusive methods only).
    fn inherited_xml_attrs(&self, id: usize) -> Result<Vec<Attr>, XmlError> {
        let mut res: Vec<Attr> = Vec::new();
        let Some((apex, anc)) = &self.apex else {
            return Ok(res);
        };
        if *apex != id {
            return Ok(res);
        }
        let c11 = match self.method {
            C14nMethod::Inclusive10 { .. } => false,
            C14nMethod::Inclusive11 { .. } => true,
            C14nMethod::Exclusive { .. } => return Ok(res),
        };
        for a in anc {
            let Some(e) = self.doc.element(*a) else {
                continue;
            };
            for at in &e.attrs {
                if at.ns.as_deref() != Some(XML_NS) {
                    continue;
                }
                if c11 && at.local == "id" {
                    continue;
                }
                if c11 && at.local == "base" {
                    return Err(XmlError::Unsupported {
                        what: "Canonical XML 1.1 xml:base fix-up for a subtree whose ancestor has xml:base",
                    });
                }
                if !res.iter().any(|r| r.local == at.local) {
                    res.push(at.clone());
                }
            }
        }
        Ok(res)
    }

    fn start_tag(&mut self, id: usize, parent: Ctx) -> Result<Ctx, XmlError> {
        let doc = self.doc;
        let Some(e) = doc.element(id) else {
            return Ok(parent);
        };
        let mut ctx = parent;
        for (p, u) in &e.ns_decls {
            if p != "xml" {
                ctx.in_scope.insert(p.clone(), u.clone());
            }
        }
        let uri_of = |ctx: &Ctx, p: &str| -> Option<String> {
            match ctx.in_scope.get(p) {
                Some(u) => Some(u.clone()),
                None if p.is_empty() => Some(String::new()),
                None => None,
            }
        };
        let mut emit: BTreeMap<String, String> = BTreeMap::new();
        match self.method {
            C14nMethod::Inclusive10 { .. } | C14nMethod::Inclusive11 { .. } => {
                let mut all: Vec<String> = ctx.in_scope.keys().cloned().collect();
                all.push(String::new());
                for p in all {
                    if let Some(u) = uri_of(&ctx, &p) {
                        if ctx.rendered.get(&p) != Some(&u) {
                            emit.insert(p, u);
                        }
                    }
                }
            }
            C14nMethod::Exclusive {
                inclusive_prefixes, ..
            } => {
                let mut used: Vec<String> = vec![e.prefix.clone().unwrap_or_default()];
                for a in &e.attrs {
                    if let Some(p) = &a.prefix {
                        if p != "xml" {
                            used.push(p.clone());
                        }
                    }
                }
                for p in inclusive_prefixes {
                    let p = if p == "#default" {
                        String::new()
                    } else {
                        p.clone()
                    };
                    if p.is_empty() || ctx.in_scope.contains_key(&p) {
                        used.push(p);
                    }
                }
                for p in used {
                    if let Some(u) = uri_of(&ctx, &p) {
                        if ctx.rendered.get(&p) != Some(&u) {
                            emit.insert(p, u);
                        }
                    }
                }
            }
        }
        let mut attrs: Vec<&Attr> = e.attrs.iter().collect();
        let inherited = self.inherited_xml_attrs(id)?;
        for a in &inherited {
            if !e
                .attrs
                .iter()
                .any(|x| x.ns.as_deref() == Some(XML_NS) && x.local == a.local)
            {
                attrs.push(a);
            }
        }
        attrs.sort_by(|a, b| {
            (a.ns.as_deref().unwrap_or(""), a.local.as_str())
                .cmp(&(b.ns.as_deref().unwrap_or(""), b.local.as_str()))
        });
        self.out.push(b'<');
        self.qname(e.prefix.as_deref(), &e.local);
        for (p, u) in &emit {
            if p.is_empty() {
                self.out.extend_from_slice(b" xmlns=\"");
            } else {
                self.out.extend_from_slice(b" xmlns:");
                self.out.extend_from_slice(p.as_bytes());
                self.out.extend_from_slice(b"=\"");
            }
            escape_attr(u, self.out);
            self.out.push(b'"');
        }
        for a in attrs {
            self.out.push(b' ');
            self.qname(a.prefix.as_deref(), &a.local);
            self.out.extend_from_slice(b"=\"");
            escape_attr(&a.value, self.out);
            self.out.push(b'"');
        }
        self.out.push(b'>');
        for (p, u) in emit {
            ctx.rendered.insert(p, u);
        }
        Ok(ctx)
    }
}
