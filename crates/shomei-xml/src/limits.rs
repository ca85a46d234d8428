//! Parser budgets.

/// Limits applied while parsing untrusted XML. Every limit is checked before the memory it
/// protects is allocated, and exceeding one gives [`crate::XmlError::Limit`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum size of the input in bytes (default 64 MiB). Bounds every text node and
    /// attribute value as well, and the memory of the tree (a few times the input). Real
    /// signed documents (the EU LOTL, about 400 KB) are far below it.
    pub max_input_bytes: usize,
    /// Maximum element nesting depth (default 256). Canonicalization and many consumers walk
    /// the tree; libxml2 uses 256 as its default `xmlParserMaxDepth`, and no signature
    /// format nests anywhere near that deep.
    pub max_depth: usize,
    /// Maximum attributes (including namespace declarations) per element (default 1024).
    /// Sorting attributes for C14N is O(n log n) per element; this keeps quadratic duplicate
    /// checks cheap too.
    pub max_attributes: usize,
    /// Maximum length in bytes of an element, attribute or PI name (default 1024; the
    /// longest names in XMLDSig/XAdES are under 40 bytes).
    pub max_name_len: usize,
    /// Maximum size in bytes of one attribute value as written (default 1 MiB). Signature
    /// formats keep bulk data in text content; a megabyte-long attribute is an attack
    /// on whoever copies or sorts attributes.
    pub max_attribute_bytes: usize,
    /// Maximum number of nodes (default 4 Mi), bounding tree memory independently of
    /// `max_input_bytes`.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 64 * 1024 * 1024,
            max_depth: 256,
            max_attributes: 1024,
            max_name_len: 1024,
            max_attribute_bytes: 1024 * 1024,
            max_nodes: 4 * 1024 * 1024,
        }
    }
}
