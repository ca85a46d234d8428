//! Canonical XML 1.0, Canonical XML 1.1 and Exclusive XML Canonicalization 1.0.

use crate::canon::{CanonElement, CanonWriter};
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

    pub(crate) fn comments(&self) -> bool {
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
    canonicalize_excluding_all(doc, subtree, exclude.as_slice(), method, out)
}

/// Like [`canonicalize`], but leaves out every subtree rooted at one of `exclude` (an
/// XPath filter such as `not(ancestor-or-self::ds:Signature)`: pass every signature).
pub fn canonicalize_excluding_all(
    doc: &Document,
    subtree: Option<NodeId>,
    exclude: &[NodeId],
    method: &C14nMethod,
    out: &mut Vec<u8>,
) -> Result<(), XmlError> {
    let exclude: Vec<usize> = exclude.iter().map(|e| e.0).collect();
    let exclude = exclude.as_slice();
    let Some(id) = subtree else {
        let mut w = CanonWriter::new(method, true, Vec::new());
        return walk(doc, 0, exclude, &[], &mut w, out);
    };
    if doc.element(id.0).is_none() {
        return Err(XmlError::ApiMisuse {
            what: "subtree is not an element of this document",
        });
    }
    let mut anc = Vec::new();
    let mut p = doc.nodes.get(id.0).and_then(|n| n.parent);
    while let Some(i) = p {
        anc.push(i);
        p = doc.nodes.get(i).and_then(|n| n.parent);
    }
    // The apex's in-scope namespaces, outermost declaration first (the writer looks up the
    // innermost), as (prefix, URI).
    let in_scope = anc
        .iter()
        .rev()
        .filter_map(|a| doc.element(*a))
        .flat_map(|e| e.ns_decls.iter())
        .filter(|(p, _)| &**p != "xml")
        .cloned()
        .collect();
    let inherited = inherited_xml_attrs(doc, method, &anc)?;
    let mut w = CanonWriter::new(method, false, in_scope);
    walk(doc, id.0, exclude, &inherited, &mut w, out)
}

enum Step {
    Enter(usize),
    Leave(usize),
}

/// Feeds the node `start`, its descendants minus the subtrees in `exclude`, to the writer in document order.
/// `inherited` are attributes for `start` from outside the node-set.
fn walk(
    doc: &Document,
    start: usize,
    exclude: &[usize],
    inherited: &[Attr],
    w: &mut CanonWriter<'_>,
    out: &mut Vec<u8>,
) -> Result<(), XmlError> {
    let mut stack = vec![Step::Enter(start)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Leave(id) => {
                if let Some(e) = doc.element(id) {
                    w.end_element(e.prefix.as_deref(), &e.local, out);
                }
            }
            Step::Enter(id) => {
                if exclude.contains(&id) {
                    continue;
                }
                let Some(node) = doc.nodes.get(id) else {
                    continue;
                };
                match &node.data {
                    Data::Document => {
                        stack.extend(node.children.iter().rev().map(|c| Step::Enter(*c)));
                    }
                    Data::Element(e) => {
                        let element = CanonElement {
                            prefix: e.prefix.as_deref(),
                            local: &e.local,
                            decls: &e.ns_decls,
                            attrs: &e.attrs,
                            inherited: if id == start { inherited } else { &[] },
                        };
                        w.start_element(&element, out);
                        stack.push(Step::Leave(id));
                        stack.extend(node.children.iter().rev().map(|c| Step::Enter(*c)));
                    }
                    Data::Text(t) => w.text(t, out),
                    Data::Comment(c) => w.comment(c, out),
                    Data::Pi { target, data } => w.pi(target, data, out),
                }
            }
        }
    }
    Ok(())
}

/// Inherited `xml:*` attributes for the apex of a subtree whose ancestors are `anc`
/// (nearest first); inclusive methods only.
fn inherited_xml_attrs(
    doc: &Document,
    method: &C14nMethod,
    anc: &[usize],
) -> Result<Vec<Attr>, XmlError> {
    let mut res: Vec<Attr> = Vec::new();
    let c11 = match method {
        C14nMethod::Inclusive10 { .. } => false,
        C14nMethod::Inclusive11 { .. } => true,
        C14nMethod::Exclusive { .. } => return Ok(res),
    };
    for a in anc {
        let Some(e) = doc.element(*a) else {
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
