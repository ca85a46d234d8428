//! The owned document tree.

use crate::error::XmlError;
use crate::limits::Limits;
use crate::parse::{Handler, NsDecl, StartTag};

/// The namespace bound to the `xml` prefix.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Identifies a node of a [`Document`]. Only meaningful for the document that returned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) usize);

#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub(crate) prefix: Option<String>,
    pub(crate) local: String,
    pub(crate) ns: Option<String>,
    pub(crate) value: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub(crate) prefix: Option<String>,
    pub(crate) local: String,
    pub(crate) ns: Option<String>,
    pub(crate) attrs: Vec<Attr>,
    /// Declarations on this element: (prefix, "" for default; URI, "" for `xmlns=""`).
    pub(crate) ns_decls: Vec<NsDecl>,
}

#[derive(Debug, Clone)]
pub(crate) enum Data {
    Document,
    Element(Element),
    Text(String),
    Comment(String),
    Pi { target: String, data: String },
}

#[derive(Debug, Clone)]
pub(crate) struct NodeData {
    pub(crate) data: Data,
    pub(crate) parent: Option<usize>,
    pub(crate) children: Vec<usize>,
}

/// A read-only view of one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeKind<'a> {
    /// An element.
    Element {
        /// Prefix as written (`None` when unprefixed).
        prefix: Option<&'a str>,
        /// Local name.
        local_name: &'a str,
        /// Namespace URI, `None` when the element is in no namespace.
        namespace: Option<&'a str>,
    },
    /// Character data (CDATA sections and references already resolved and merged).
    Text(&'a str),
    /// A comment.
    Comment(&'a str),
    /// A processing instruction.
    ProcessingInstruction {
        /// Target.
        target: &'a str,
        /// Data (may be empty).
        data: &'a str,
    },
}

/// A parsed XML document that owns its text. Built only by [`Document::parse`] /
/// [`Document::parse_with`], which apply the safety rules described in the crate docs.
#[derive(Debug, Clone)]
pub struct Document {
    pub(crate) nodes: Vec<NodeData>,
    pub(crate) root: usize,
    pub(crate) declared_encoding: Option<String>,
    pub(crate) has_doctype: bool,
}

impl Document {
    /// Parses `bytes` with the default [`Limits`].
    pub fn parse(bytes: &[u8]) -> Result<Self, XmlError> {
        Self::parse_with(bytes, &Limits::default())
    }

    /// Parses `bytes` with the given [`Limits`].
    pub fn parse_with(bytes: &[u8], limits: &Limits) -> Result<Self, XmlError> {
        let decoded = crate::encoding::prepare(bytes, limits)?;
        let mut builder = TreeBuilder {
            nodes: vec![NodeData {
                data: Data::Document,
                parent: None,
                children: Vec::new(),
            }],
            open: vec![0],
        };
        let parsed = crate::parse::parse(&decoded.text, limits, &mut builder)?;
        // The parser guarantees one document element; it is the document node's only
        // element child.
        let root = builder
            .nodes
            .first()
            .and_then(|d| d.children.iter().copied().find(|c| builder.is_element(*c)))
            .ok_or(XmlError::ApiMisuse {
                what: "parser reported no document element",
            })?;
        Ok(Document {
            nodes: builder.nodes,
            root,
            declared_encoding: decoded.declared,
            has_doctype: parsed.has_doctype,
        })
    }

    /// The document element.
    pub fn root(&self) -> NodeId {
        NodeId(self.root)
    }

    /// The encoding named by the XML declaration (or implied by a UTF-16 byte order mark).
    pub fn declared_encoding(&self) -> Option<&str> {
        self.declared_encoding.as_deref()
    }

    /// Whether the document had a (tolerated) document type declaration.
    pub fn has_doctype(&self) -> bool {
        self.has_doctype
    }

    pub(crate) fn data(&self, id: NodeId) -> Option<&NodeData> {
        self.nodes.get(id.0)
    }

    pub(crate) fn element(&self, id: usize) -> Option<&Element> {
        match self.nodes.get(id).map(|n| &n.data) {
            Some(Data::Element(e)) => Some(e),
            _ => None,
        }
    }

    /// What kind of node `id` is; `None` for the document node or an unknown id.
    pub fn kind(&self, id: NodeId) -> Option<NodeKind<'_>> {
        Some(match &self.data(id)?.data {
            Data::Document => return None,
            Data::Element(e) => NodeKind::Element {
                prefix: e.prefix.as_deref(),
                local_name: &e.local,
                namespace: e.ns.as_deref(),
            },
            Data::Text(t) => NodeKind::Text(t),
            Data::Comment(c) => NodeKind::Comment(c),
            Data::Pi { target, data } => NodeKind::ProcessingInstruction { target, data },
        })
    }

    /// The parent element of `id` (`None` for the document element and top-level nodes).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        let p = self.data(id)?.parent?;
        self.element(p).map(|_| NodeId(p))
    }

    /// The children of `id`, in document order.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.data(id)
            .map(|n| n.children.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|c| NodeId(*c))
    }

    /// `id` and all its descendants, in document order.
    pub fn descendants(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![id.0];
        while let Some(n) = stack.pop() {
            if let Some(d) = self.nodes.get(n) {
                out.push(NodeId(n));
                stack.extend(d.children.iter().rev());
            }
        }
        out
    }

    /// The value of the attribute (`namespace`, `local_name`) of element `id`.
    pub fn attribute(&self, id: NodeId, namespace: Option<&str>, local_name: &str) -> Option<&str> {
        self.element(id.0)?
            .attrs
            .iter()
            .find(|a| a.ns.as_deref() == namespace && a.local == local_name)
            .map(|a| a.value.as_str())
    }

    /// The namespace `prefix` (`""` for the default namespace) is bound to at element
    /// `id`, from the declarations in scope; `None` when it is not bound (or undeclared
    /// with `xmlns=""`).
    pub fn namespace_of_prefix(&self, id: NodeId, prefix: &str) -> Option<&str> {
        if prefix == "xml" {
            return Some(XML_NS);
        }
        let mut at = Some(id.0);
        while let Some(i) = at {
            if let Some(e) = self.element(i) {
                if let Some((_, uri)) = e.ns_decls.iter().find(|(p, _)| &**p == prefix) {
                    return (!uri.is_empty()).then_some(&**uri);
                }
            }
            at = self.nodes.get(i).and_then(|n| n.parent);
        }
        None
    }

    /// The attributes of element `id` as (namespace, local name, value), in document order.
    /// Namespace declarations are not attributes here.
    pub fn attributes(&self, id: NodeId) -> impl Iterator<Item = (Option<&str>, &str, &str)> + '_ {
        self.element(id.0)
            .map(|e| e.attrs.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|a| (a.ns.as_deref(), a.local.as_str(), a.value.as_str()))
    }

    /// Concatenated text of all text descendants of `id`.
    pub fn text_content(&self, id: NodeId) -> String {
        let mut s = String::new();
        for d in self.descendants(id) {
            if let Some(NodeKind::Text(t)) = self.kind(d) {
                s.push_str(t);
            }
        }
        s
    }

    /// All elements named (`namespace`, `local_name`), in document order.
    pub fn elements_by_name(&self, namespace: Option<&str>, local_name: &str) -> Vec<NodeId> {
        self.descendants(self.root())
            .into_iter()
            .filter(|id| {
                self.element(id.0)
                    .is_some_and(|e| e.ns.as_deref() == namespace && e.local == local_name)
            })
            .collect()
    }

    /// Finds the element whose `Id`, `ID` or `id` attribute (in no namespace) or `xml:id`
    /// equals `id`. Returns [`XmlError::DuplicateId`] when two or more attributes carry that
    /// value anywhere in the document (signature wrapping defence), `Ok(None)` when none does.
    pub fn find_by_id(&self, id: &str) -> Result<Option<NodeId>, XmlError> {
        let mut found = None;
        for (i, value) in self.id_attributes() {
            if value == id {
                if found.is_some() {
                    return Err(XmlError::DuplicateId { id: id.to_owned() });
                }
                found = Some(NodeId(i));
            }
        }
        Ok(found)
    }

    /// Every value of an Id attribute (as [`Document::find_by_id`] understands them).
    pub fn id_values(&self) -> std::collections::HashSet<String> {
        self.id_attributes().map(|(_, v)| v.to_owned()).collect()
    }

    /// (node index, value) of every Id attribute, in document order.
    fn id_attributes(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        self.nodes.iter().enumerate().flat_map(|(i, n)| {
            let attrs = match &n.data {
                Data::Element(e) => e.attrs.as_slice(),
                _ => &[],
            };
            attrs
                .iter()
                .filter(|a| match a.ns.as_deref() {
                    // AssertionID: the Id of SAML 1.x assertions, which XML signatures reference.
                    None => matches!(a.local.as_str(), "Id" | "ID" | "id" | "AssertionID"),
                    Some(XML_NS) => a.local == "id",
                    Some(_) => false,
                })
                .map(move |a| (i, a.value.as_str()))
        })
    }
}

/// Builds the owned tree from parse events.
struct TreeBuilder {
    nodes: Vec<NodeData>,
    /// Open nodes, the document node first.
    open: Vec<usize>,
}

impl TreeBuilder {
    fn is_element(&self, id: usize) -> bool {
        matches!(self.nodes.get(id).map(|n| &n.data), Some(Data::Element(_)))
    }

    fn add(&mut self, data: Data) -> usize {
        let id = self.nodes.len();
        let parent = self.open.last().copied().unwrap_or(0);
        self.nodes.push(NodeData {
            data,
            parent: Some(parent),
            children: Vec::new(),
        });
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.push(id);
        }
        id
    }
}

impl Handler for TreeBuilder {
    fn start_element(&mut self, tag: &StartTag<'_, '_>) -> Result<(), XmlError> {
        let element = Element {
            prefix: tag.prefix.map(str::to_owned),
            local: tag.local.to_owned(),
            ns: tag.ns.map(str::to_owned),
            attrs: tag
                .attrs
                .iter()
                .map(|a| Attr {
                    prefix: a.prefix.map(str::to_owned),
                    local: a.local.to_owned(),
                    ns: a.ns.as_deref().map(str::to_owned),
                    value: a.value.clone().into_owned(),
                })
                .collect(),
            ns_decls: tag.decls.to_vec(),
        };
        let id = self.add(Data::Element(element));
        self.open.push(id);
        Ok(())
    }

    fn end_element(&mut self, _qname: &str) -> Result<(), XmlError> {
        self.open.pop();
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), XmlError> {
        let parent = self.open.last().copied().unwrap_or(0);
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
        self.add(Data::Text(text.to_owned()));
        Ok(())
    }

    fn comment(&mut self, body: &str) -> Result<(), XmlError> {
        self.add(Data::Comment(body.to_owned()));
        Ok(())
    }

    fn pi(&mut self, target: &str, data: &str) -> Result<(), XmlError> {
        self.add(Data::Pi {
            target: target.to_owned(),
            data: data.to_owned(),
        });
        Ok(())
    }
}
