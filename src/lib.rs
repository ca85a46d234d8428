//! # shomei (署名)
//!
//! Advanced electronic signatures — PAdES for PDF, XAdES for XML — with the signer's
//! key in a signature creation device reached through [`core::RemoteSigner`].
//!
//! This facade re-exports the workspace crates:
//!
//! - [`core`]: algorithms, digests, certificate chains, the `RemoteSigner` trait;
//! - [`cms`]: CAdES signed data (signed attributes, assembly);
//! - [`pdf`]: the lazy PDF reader and incremental writer;
//! - [`pades`]: the staged PAdES pipeline;
//! - [`stamp`]: visible signature stamps (text in an embedded subset font, a seal image);
//! - [`keys`]: signature creation devices (software keys);
//! - [`tsp`], [`revocation`]: time-stamps, OCSP and CRLs for the long-term levels;
//! - [`levels`]: the level layer (services bundle, validation data, level policy);
//! - [`xml`], [`xades`]: safe XML, canonicalization and XAdES signatures;
//! - [`online`]: TSA and revocation clients over one HTTP transport;
//! - [`output`]: atomic output files.
//!
//! The README's "Embedding the library" shows PAdES B-LTA and XAdES B-LT signing and
//! extension in a few lines (compiled as doctests). Depend on the facade with
//! `default-features = false` to leave out the command-line crates.
//!
//! See `examples/custom_signer.rs` for signing through your own `RemoteSigner`.

#![forbid(unsafe_code)]

pub use shomei_cms as cms;
pub use shomei_core as core;
pub use shomei_http as http;
pub use shomei_keys as keys;
pub use shomei_levels as levels;
pub use shomei_pades as pades;
pub use shomei_pdf as pdf;
pub use shomei_revocation as revocation;
pub use shomei_stamp as stamp;
pub use shomei_tsp as tsp;
pub use shomei_validate as validate;
pub use shomei_xades as xades;
pub use shomei_xml as xml;

pub mod online;
pub mod output;

/// The README's code blocks, compiled as doctests so its examples stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
