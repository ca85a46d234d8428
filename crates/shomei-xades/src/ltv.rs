//! Long-term levels (ETSI EN 319 132-1 6.3) for the signature being made and for XAdES
//! signatures of any producer: B-T adds `xades:SignatureTimeStamp`, B-LT adds
//! `xades:CertificateValues` and `xades:RevocationValues` (the signer's chain and the
//! chains of the signature time-stamps), B-LTA adds `xades141:ArchiveTimeStamp` followed
//! by `xades141:TimeStampValidationData` for the archive time-stamp's own chain.
//!
//! New properties are spliced into the original bytes before the end tag of
//! `xades:UnsignedSignatureProperties` (created if missing); nothing else of the
//! document changes. Each new element declares the namespaces it uses, so the prefixes
//! the producer chose do not matter. Time-stamps and revocation data come through
//! traits; this module never opens a socket, and detached data is read only through the
//! caller's [`DetachedResolver`].

pub use crate::extension::{check_signatures, extend, Extension};
pub use crate::level::{
    sign_at_level, sign_at_level_into, sign_batch_at_level, BatchDocument, Deferred,
};
pub use crate::pipeline::check_relative_uri;
pub use crate::resolver::{DetachedResolver, GivenData, InMemoryData, NoDetachedData};
pub use crate::unsigned::XADES141_NS;
pub use shomei_levels::{ExtendOptions, ExtensionReport, MissingData};
