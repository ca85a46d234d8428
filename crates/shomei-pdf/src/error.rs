//! The one error type of this crate.

use crate::object::ObjectId;

/// Everything that can go wrong while reading a PDF or preparing a signature.
///
/// Errors caused by the file carry the byte offset (absolute, byte 0 = first byte of the
/// file) where the problem was found.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// Reading the underlying source failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The input does not start with a PDF header.
    #[error("not a PDF: no %PDF- header in the first 1024 bytes")]
    NotPdf,
    /// The file ends in the middle of something.
    #[error("the file is truncated: it ends at byte {offset} in the middle of {context}")]
    Truncated {
        /// Where the data ran out.
        offset: u64,
        /// What was being read.
        context: &'static str,
    },
    /// The cross-reference data (`startxref`, `xref` table, trailer or xref stream) is damaged.
    #[error("cross-reference table at byte {offset} is damaged: {message}")]
    Xref {
        /// Offset of the damaged section (or of the offending byte).
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// Malformed object syntax.
    #[error("syntax error at byte {offset}: {message}")]
    Syntax {
        /// Offset of the offending token.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// An indirect object could not be found where the cross-reference data says it is.
    #[error("object {id} is damaged (at byte {offset}): {message}")]
    Object {
        /// The object asked for.
        id: ObjectId,
        /// Where it was looked for.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A stream could not be decoded.
    #[error("stream at byte {offset} cannot be decoded: {message}")]
    Decode {
        /// Offset of the stream object.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A feature this crate does not implement (for example an LZW-compressed object stream).
    #[error("unsupported PDF feature at byte {offset}: {message}")]
    Unsupported {
        /// Where it was found.
        offset: u64,
        /// What it is.
        message: String,
    },
    /// A safety budget was exceeded (the file is hostile or far outside what real PDFs do).
    #[error("limit exceeded at byte {offset}: {what} (limit {limit})")]
    Budget {
        /// Which limit.
        what: &'static str,
        /// The limit's value.
        limit: u64,
        /// Where it was exceeded.
        offset: u64,
    },
    /// The document structure is not what a PDF needs (for example no catalog).
    #[error("damaged document structure: {0}")]
    Structure(String),
    /// The file is encrypted.
    #[error(
        "the file is encrypted (the trailer has /Encrypt); shomei does not sign encrypted PDFs"
    )]
    Encrypted,
    /// The document carries a certification signature with DocMDP permission level 1.
    #[error("the document is certified with DocMDP /P 1: no changes, including new signatures, are permitted")]
    DocMdpForbidsChanges,
    /// A signed field locks the document (FieldMDP or /Lock with /P 1, PDF 2.0).
    #[error("signature field '{0}' locks the document (FieldMDP /P 1): no changes, including new signatures, are permitted")]
    LockedBySignature(String),
    /// A certification signature was requested but the document already holds a signature.
    #[error("a certification signature must be the first signature in a document, and this one is already signed")]
    CertifyNotFirst,
    /// The requested signature field already holds a signature value.
    #[error("signature field {0:?} is already signed")]
    FieldAlreadySigned(String),
    /// The requested field name belongs to a field that is not a signature field.
    #[error("field {0:?} exists but is not a signature field")]
    FieldNotSignature(String),
    /// The DER blob does not fit the reserved `/Contents` placeholder.
    #[error(
        "the signature needs {needed} bytes but only {capacity} bytes were reserved in /Contents"
    )]
    ContentsTooSmall {
        /// Length of the DER blob.
        needed: usize,
        /// Reserved capacity in bytes.
        capacity: usize,
    },
    /// The request itself is invalid (caller error, never caused by the PDF).
    #[error("invalid signature request: {0}")]
    InvalidRequest(String),
    /// A (deserialized) `PreparedUpdate` is internally inconsistent.
    #[error("inconsistent prepared update: {0}")]
    InvalidPreparedUpdate(&'static str),
    /// A number does not fit the format being written (for example an offset above 10 digits).
    #[error("value out of range: {0}")]
    OutOfRange(&'static str),
}

impl PdfError {
    pub(crate) fn syntax(offset: u64, message: impl Into<String>) -> Self {
        PdfError::Syntax {
            offset,
            message: message.into(),
        }
    }

    pub(crate) fn xref(offset: u64, message: impl Into<String>) -> Self {
        PdfError::Xref {
            offset,
            message: message.into(),
        }
    }
}
