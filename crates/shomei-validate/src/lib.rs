//! Validation of PAdES signatures after ETSI EN 319 102-1 (XAdES to follow): where the
//! signature sits in the file, integrity, the signature value, the signing
//! certificate, a certificate path to the trust anchors, revocation from the data the
//! document embeds, time-stamps as proofs of existence, the level reached — and a
//! typed report with the indication and sub-indication of each signature.

#![forbid(unsafe_code)]

pub mod changes;
pub mod pades;
pub mod path;
pub mod placement;
pub mod report;

pub use pades::{validate_pdf, validate_pdf_online, Options, ValidateError};
pub use report::{Check, Indication, Level, Report, SignatureKind, SignatureReport, SubIndication};
