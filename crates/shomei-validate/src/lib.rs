//! Validation of PAdES and XAdES signatures after ETSI EN 319 102-1: where the
//! signature sits in the file (PDF byte ranges and revisions, XML references and
//! signature wrapping), integrity, the signature value, the signing certificate, a
//! certificate path to the trust anchors, revocation from the data the document
//! embeds (fetched only when allowed), time-stamps as proofs of existence, the level
//! reached — and a typed report with the indication and sub-indication of each
//! signature. [`validate`] takes either format; the CLI and the server call it.

#![forbid(unsafe_code)]

mod asic;
pub mod changes;
mod evidence;
pub mod pades;
pub mod path;
pub mod placement;
pub mod report;
mod revisions;
pub mod xades;

pub use evidence::{Options, ValidateError};
pub use pades::{validate_pdf, validate_pdf_online};
pub use report::{Check, Indication, Level, Report, SignatureKind, SignatureReport, SubIndication};
pub use xades::{validate_xml, validate_xml_online};

use shomei_revocation::RevocationSource;
use shomei_xades::DetachedResolver;

/// What a file is, by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A PDF (`%PDF-` in its first kilobyte).
    Pdf,
    /// An XML document (`<` first, after a byte-order mark and white space).
    Xml,
    /// A ZIP: an ASiC-E container with XAdES signatures.
    Asic,
}

impl Format {
    /// The format of `file`, if it is one that can be validated.
    pub fn sniff(file: &[u8]) -> Option<Self> {
        let head = file.get(..file.len().min(1024)).unwrap_or_default();
        if head.windows(5).any(|w| w == b"%PDF-") {
            return Some(Self::Pdf);
        }
        if asic::is_zip(file) {
            return Some(Self::Asic);
        }
        let utf16 = head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]);
        let rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let first = rest.iter().find(|b| !b.is_ascii_whitespace());
        (utf16 || first == Some(&b'<')).then_some(Self::Xml)
    }
}

/// Validates a PDF, an XML document or an ASiC-E container, whichever `file` is, with only the data it
/// embeds (never fetching anything). XML detached data comes from `resolver`.
///
/// # Errors
/// [`ValidateError::UnknownFormat`] for a file that is neither; otherwise as
/// [`validate_pdf`] and [`validate_xml`].
pub fn validate_offline(
    file: &[u8],
    options: &Options,
    resolver: &dyn DetachedResolver,
) -> Result<Report, ValidateError> {
    match Format::sniff(file) {
        Some(Format::Pdf) => validate_pdf(file, options),
        Some(Format::Xml) => validate_xml(file, options, resolver),
        Some(Format::Asic) => asic::validate_container(file, options),
        None => Err(ValidateError::UnknownFormat),
    }
}

/// Validates a PDF or an XML document, whichever `file` is. With a `source`, the
/// revocation status of certificates the file has no data for is fetched through it;
/// without, the validation is offline. XML detached data comes from `resolver`.
///
/// # Errors
/// [`ValidateError::UnknownFormat`] for a file that is neither; otherwise as
/// [`validate_pdf`] and [`validate_xml`].
pub async fn validate(
    file: &[u8],
    options: &Options,
    resolver: &dyn DetachedResolver,
    source: Option<&dyn RevocationSource>,
) -> Result<Report, ValidateError> {
    match (Format::sniff(file), source) {
        (_, None) => validate_offline(file, options, resolver),
        (Some(Format::Pdf), Some(s)) => validate_pdf_online(file, options, s).await,
        (Some(Format::Xml), Some(s)) => validate_xml_online(file, options, resolver, s).await,
        (Some(Format::Asic), Some(s)) => asic::validate_container_online(file, options, s).await,
        (None, _) => Err(ValidateError::UnknownFormat),
    }
}
