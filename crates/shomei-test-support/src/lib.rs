//! Test helpers shared by shomei's tests, examples and benchmarks (`publish = false`).
//!
//! - [`paths`]: where the repository's own fixtures and the shared third-party
//!   fixtures and conformance kit live; a missing folder is a test failure, not a skip.
//! - [`signers`]: software signers over the test PKI in `fixtures/pki/`.
//! - [`sample_pdf`]: reproducible sample documents (a one-page PDF, a large PDF with
//!   image streams for the memory benchmark).
//! - [`tsa`], [`ocsp_responder`]: in-process time-stamping and revocation services on
//!   the test PKI with a frozen clock, implementing shomei-tsp's traits (no network).
//! - [`tools`]: running external programs (qpdf, the conformance validators) and
//!   failing loudly when one is missing.

#![forbid(unsafe_code)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

pub mod csc_double;
pub mod ocsp_responder;
pub mod paths;
pub mod sample_pdf;
pub mod sample_xml;
pub mod signers;
pub mod softhsm;
pub mod tools;
pub mod tsa;
