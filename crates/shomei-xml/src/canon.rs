//! The canonical form writer shared by the tree walk (`c14n.rs`) and the streaming pass
//! (`stream.rs`): it receives the nodes of the node-set in document order and writes their
//! canonical form. Namespace rendering, attribute order, escaping and the line breaks
//! around top-level comments and PIs are decided here and only here.

use std::cmp::Ordering;

use crate::c14n::C14nMethod;
use crate::parse::{same_str, Attribute, NsDecl};
use crate::tree::Attr;

/// What the writer needs to know of an attribute.
pub(crate) trait CanonAttr {
    /// Prefix as written.
    fn prefix(&self) -> Option<&str>;
    /// Local name.
    fn local(&self) -> &str;
    /// Namespace URI.
    fn ns(&self) -> Option<&str>;
    /// Normalized value.
    fn value(&self) -> &str;
}

impl CanonAttr for Attr {
    fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }
    fn local(&self) -> &str {
        &self.local
    }
    fn ns(&self) -> Option<&str> {
        self.ns.as_deref()
    }
    fn value(&self) -> &str {
        &self.value
    }
}

impl CanonAttr for Attribute<'_> {
    fn prefix(&self) -> Option<&str> {
        self.prefix
    }
    fn local(&self) -> &str {
        self.local
    }
    fn ns(&self) -> Option<&str> {
        self.ns.as_deref()
    }
    fn value(&self) -> &str {
        &self.value
    }
}

/// An element's start tag as the writer sees it.
pub(crate) struct CanonElement<'e, A> {
    /// Prefix as written.
    pub(crate) prefix: Option<&'e str>,
    /// Local name.
    pub(crate) local: &'e str,
    /// The element's own namespace declarations (`xml` ones included; they are ignored).
    pub(crate) decls: &'e [NsDecl],
    /// Its attributes.
    pub(crate) attrs: &'e [A],
    /// Attributes inherited from outside the node-set (subtree apex, inclusive methods).
    pub(crate) inherited: &'e [A],
}

/// The escape of a byte in character data or in an attribute value (`None` for bytes
/// written as they are).
fn escape_of(b: u8, attr: bool) -> Option<&'static [u8]> {
    Some(match b {
        b'&' => b"&amp;",
        b'<' => b"&lt;",
        b'>' if !attr => b"&gt;",
        b'"' if attr => b"&quot;",
        b'\t' if attr => b"&#x9;",
        b'\n' if attr => b"&#xA;",
        b'\r' => b"&#xD;",
        _ => return None,
    })
}

/// Writes `bytes` with the escapes of the bytes at `at` (found by the caller, in order).
/// The escaped characters are ASCII, so the runs between them are copied whole.
fn escape_at(bytes: &[u8], at: impl Iterator<Item = usize>, attr: bool, out: &mut Vec<u8>) {
    let mut start = 0;
    for i in at {
        if let Some(rep) = bytes.get(i).and_then(|b| escape_of(*b, attr)) {
            out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
            out.extend_from_slice(rep);
            start = i + 1;
        }
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

/// Escapes character data. A carriage return can only come from a character reference,
/// so the common case looks for three bytes, with a vectorized search.
pub(crate) fn escape_text(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    // Short runs (most text nodes) are looked at byte by byte: cheaper than two searches.
    if bytes.len() > 64 && memchr::memchr(b'\r', bytes).is_none() {
        escape_at(
            bytes,
            memchr::memchr3_iter(b'&', b'<', b'>', bytes),
            false,
            out,
        );
    } else {
        let at = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, b'&' | b'<' | b'>' | b'\r'))
            .map(|(i, _)| i);
        escape_at(bytes, at, false, out);
    }
}

/// Escapes an attribute value (or namespace URI).
pub(crate) fn escape_attr(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    let at = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| matches!(b, b'&' | b'<' | b'"' | b'\t' | b'\n' | b'\r'))
        .map(|(i, _)| i);
    escape_at(bytes, at, true, out);
}

fn write_qname(prefix: Option<&str>, local: &str, out: &mut Vec<u8>) {
    if let Some(p) = prefix {
        out.extend_from_slice(p.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

/// The latest binding of `prefix` in a stack of bindings.
fn latest<'s>(stack: &'s [NsDecl], prefix: &str) -> Option<&'s NsDecl> {
    stack.iter().rev().find(|(p, _)| same_str(p, prefix))
}

/// Canonicalizes a node-set that is an element subtree (or the whole document), minus
/// whatever the caller leaves out, fed in document order.
pub(crate) struct CanonWriter<'m> {
    method: &'m C14nMethod,
    /// Whether the document node is in the node-set (line breaks around top-level nodes).
    whole: bool,
    depth: usize,
    after_root: bool,
    /// No element written yet: the first one renders every namespace in scope.
    first: bool,
    /// Namespace bindings in scope (without `xml`), innermost last.
    in_scope: Vec<NsDecl>,
    in_scope_marks: Vec<usize>,
    /// Namespace declarations rendered on output ancestors, innermost last.
    rendered: Vec<NsDecl>,
    rendered_marks: Vec<usize>,
    /// Scratch: the declarations to render on the current element.
    emit: Vec<NsDecl>,
    /// Scratch: the attribute order of the current element.
    order: Vec<usize>,
}

impl<'m> CanonWriter<'m> {
    /// A writer for the whole document (`whole`) or a subtree whose apex has the
    /// namespace bindings `in_scope` from its ancestors.
    pub(crate) fn new(method: &'m C14nMethod, whole: bool, in_scope: Vec<NsDecl>) -> Self {
        Self {
            method,
            whole,
            depth: 0,
            after_root: false,
            first: true,
            in_scope,
            in_scope_marks: Vec::new(),
            rendered: Vec::new(),
            rendered_marks: Vec::new(),
            emit: Vec::new(),
            order: Vec::new(),
        }
    }

    /// Considers rendering `prefix` (the default namespace when empty) on this element: it
    /// is rendered when its in-scope URI differs from the one rendered by the nearest output
    /// ancestor.
    fn consider(&mut self, prefix: &str) {
        if self.emit.iter().any(|(p, _)| same_str(p, prefix)) {
            return;
        }
        // Without a binding the prefix is unbound, or it is the default namespace with
        // the empty URI, which no output ancestor has rendered otherwise: nothing to render.
        let Some(binding) = latest(&self.in_scope, prefix) else {
            return;
        };
        let uri = &binding.1;
        let same = match latest(&self.rendered, prefix) {
            Some((_, r)) => same_str(r, uri),
            None => prefix.is_empty() && uri.is_empty(),
        };
        if !same {
            self.emit.push(binding.clone());
        }
    }

    /// Writes a start tag.
    pub(crate) fn start_element<A: CanonAttr>(
        &mut self,
        e: &CanonElement<'_, A>,
        out: &mut Vec<u8>,
    ) {
        self.in_scope_marks.push(self.in_scope.len());
        let own = self.in_scope.len();
        for d in e.decls {
            if &*d.0 != "xml" {
                self.in_scope.push(d.clone());
            }
        }
        self.emit.clear();
        match self.method {
            C14nMethod::Inclusive10 { .. } | C14nMethod::Inclusive11 { .. } => {
                // Every in-scope namespace is rendered on the first element. Below it each
                // output ancestor has rendered all of its in-scope namespaces, so only this
                // element's own declarations can differ.
                let from = if self.first { 0 } else { own };
                let mut i = self.in_scope.len();
                while i > from {
                    i -= 1;
                    if let Some(p) = self.in_scope.get(i).map(|(p, _)| p.clone()) {
                        self.consider(&p);
                    }
                }
                self.consider("");
            }
            C14nMethod::Exclusive {
                inclusive_prefixes, ..
            } => {
                self.consider(e.prefix.unwrap_or(""));
                for a in e.attrs {
                    if let Some(p) = a.prefix().filter(|p| *p != "xml") {
                        self.consider(p);
                    }
                }
                for p in inclusive_prefixes {
                    self.consider(if p == "#default" { "" } else { p });
                }
            }
        }
        self.emit.sort_unstable_by(|a, b| a.0.cmp(&b.0));

        out.push(b'<');
        write_qname(e.prefix, e.local, out);
        for (p, u) in &self.emit {
            if p.is_empty() {
                out.extend_from_slice(b" xmlns=\"");
            } else {
                out.extend_from_slice(b" xmlns:");
                out.extend_from_slice(p.as_bytes());
                out.extend_from_slice(b"=\"");
            }
            escape_attr(u, out);
            out.push(b'"');
        }
        let attr = |i: usize| {
            e.attrs
                .get(i)
                .or_else(|| e.inherited.get(i.wrapping_sub(e.attrs.len())))
        };
        self.order.clear();
        self.order.extend(0..e.attrs.len());
        for (i, a) in e.inherited.iter().enumerate() {
            let present = e
                .attrs
                .iter()
                .any(|x| x.ns() == a.ns() && x.local() == a.local());
            if !present {
                self.order.push(e.attrs.len() + i);
            }
        }
        // By namespace URI, then local name; byte iterators rather than `memcmp` calls, since
        // most names and URIs are short and many are the same slice.
        let by_bytes = |a: &str, b: &str| {
            if same_str(a, b) {
                Ordering::Equal
            } else {
                a.bytes().cmp(b.bytes())
            }
        };
        self.order.sort_by(|x, y| match (attr(*x), attr(*y)) {
            (Some(a), Some(b)) => by_bytes(a.ns().unwrap_or(""), b.ns().unwrap_or(""))
                .then_with(|| by_bytes(a.local(), b.local())),
            _ => Ordering::Equal,
        });
        for a in self.order.iter().filter_map(|i| attr(*i)) {
            out.push(b' ');
            write_qname(a.prefix(), a.local(), out);
            out.extend_from_slice(b"=\"");
            escape_attr(a.value(), out);
            out.push(b'"');
        }
        out.push(b'>');

        self.rendered_marks.push(self.rendered.len());
        self.rendered.append(&mut self.emit);
        self.first = false;
        self.depth += 1;
    }

    /// Writes the end tag of the innermost open element.
    pub(crate) fn end_element(&mut self, prefix: Option<&str>, local: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(b"</");
        write_qname(prefix, local, out);
        out.push(b'>');
        if let Some(n) = self.in_scope_marks.pop() {
            self.in_scope.truncate(n);
        }
        if let Some(n) = self.rendered_marks.pop() {
            self.rendered.truncate(n);
        }
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            self.after_root = true;
        }
    }

    /// Writes character data.
    pub(crate) fn text(&mut self, text: &str, out: &mut Vec<u8>) {
        escape_text(text, out);
    }

    /// Writes `node` (a comment or PI), with the line break that separates a top-level
    /// node from the document element.
    fn top_level(&self, out: &mut Vec<u8>, node: impl FnOnce(&mut Vec<u8>)) {
        let top = self.whole && self.depth == 0;
        if top && self.after_root {
            out.push(b'\n');
        }
        node(out);
        if top && !self.after_root {
            out.push(b'\n');
        }
    }

    /// Writes a comment, when the method keeps comments.
    pub(crate) fn comment(&mut self, body: &str, out: &mut Vec<u8>) {
        if self.method.comments() {
            self.top_level(out, |out| {
                out.extend_from_slice(b"<!--");
                out.extend_from_slice(body.as_bytes());
                out.extend_from_slice(b"-->");
            });
        }
    }

    /// Writes a processing instruction.
    pub(crate) fn pi(&mut self, target: &str, data: &str, out: &mut Vec<u8>) {
        self.top_level(out, |out| {
            out.extend_from_slice(b"<?");
            out.extend_from_slice(target.as_bytes());
            if !data.is_empty() {
                out.push(b' ');
                out.extend_from_slice(data.as_bytes());
            }
            out.extend_from_slice(b"?>");
        });
    }
}
