//! The error type of this crate.

use core::fmt;

/// Where in the input a problem was found.
///
/// `offset` is a byte offset into the *decoded* (UTF-8, line-end normalized) text; for UTF-8
/// input without carriage returns it equals the offset in the original bytes. `line` and
/// `column` are 1-based; the column counts characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Byte offset in the decoded text.
    pub offset: usize,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {} (byte {})",
            self.line, self.column, self.offset
        )
    }
}

/// Which configured limit was exceeded (see [`crate::Limits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LimitKind {
    /// [`crate::Limits::max_input_bytes`].
    InputBytes,
    /// [`crate::Limits::max_depth`].
    Depth,
    /// [`crate::Limits::max_attributes`].
    Attributes,
    /// [`crate::Limits::max_name_len`].
    NameLength,
    /// [`crate::Limits::max_nodes`].
    Nodes,
    /// [`crate::Limits::max_attribute_bytes`].
    AttributeBytes,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InputBytes => "input size in bytes",
            Self::Depth => "element nesting depth",
            Self::Attributes => "attributes on one element",
            Self::NameLength => "name length in bytes",
            Self::Nodes => "number of nodes",
            Self::AttributeBytes => "attribute value size in bytes",
        })
    }
}

/// Everything that can go wrong while parsing or canonicalizing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// A configured limit was exceeded.
    #[error("XML limit exceeded: {kind} {value} > {max}{}", at(.position))]
    Limit {
        /// Which limit.
        kind: LimitKind,
        /// The value found (or reached).
        value: usize,
        /// The configured maximum.
        max: usize,
        /// Where, if known.
        position: Option<Position>,
    },
    /// The byte stream could not be decoded.
    #[error("XML encoding error: {reason}")]
    Encoding {
        /// What went wrong.
        reason: String,
    },
    /// The text is not well-formed XML.
    #[error("XML syntax error at {position}: {message}")]
    Syntax {
        /// What went wrong.
        message: String,
        /// Where.
        position: Position,
    },
    /// The document type declaration contains something this parser refuses
    /// (parameter entity references, unknown declarations).
    #[error("refused DTD content at {position}: {reason}")]
    Dtd {
        /// What was refused.
        reason: String,
        /// Where.
        position: Position,
    },
    /// The internal DTD subset declares an entity. Entity declarations are refused outright
    /// (billion laughs, external entities / XXE), whether or not they are used.
    #[error(
        "refused entity declaration `{name}` at {position}: entity declarations are not allowed"
    )]
    EntityDeclared {
        /// The declared entity name (`%name` for parameter entities).
        name: String,
        /// Where the declaration starts.
        position: Position,
    },
    /// A reference to an entity other than the five predefined ones.
    #[error("undeclared entity reference `&{name};` at {position}")]
    UnknownEntity {
        /// The referenced name.
        name: String,
        /// Where.
        position: Position,
    },
    /// A namespace rule (Namespaces in XML 1.0) is violated.
    #[error("XML namespace error at {position}: {message}")]
    Namespace {
        /// What went wrong.
        message: String,
        /// Where.
        position: Position,
    },
    /// More than one element carries the same `Id`/`ID`/`id`/`xml:id` value. Refused because
    /// resolving such a reference is ambiguous (signature wrapping attacks).
    #[error("duplicate Id value `{id}`")]
    DuplicateId {
        /// The duplicated value.
        id: String,
    },
    /// A feature that is deliberately not implemented.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is unsupported.
        what: &'static str,
    },
    /// The sink given to [`crate::canonicalize_stream`] (or the reader given to
    /// [`crate::canonicalize_reader`]) failed.
    #[error("reading the document or writing the canonical form failed: {0}")]
    Io(#[from] std::io::Error),
    /// API misuse, never caused by untrusted data: e.g. a [`crate::NodeId`] that is not an
    /// element of this document.
    #[error("API misuse: {what}")]
    ApiMisuse {
        /// What was misused.
        what: &'static str,
    },
}

fn at(p: &Option<Position>) -> String {
    match p {
        Some(p) => format!(" at {p}"),
        None => String::new(),
    }
}
