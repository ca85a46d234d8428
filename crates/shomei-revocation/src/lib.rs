#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod certs;
pub mod crl;
mod error;
pub mod ocsp;
pub mod revocation;
pub mod rfc6960;

pub use certs::{check_issued_by, check_validity, is_self_signed, validity};
pub use crl::{check_crl, crl_urls, Crl, CrlResult};
pub use error::RevocationError;
pub use ocsp::{CertIdHash, OcspClient, OcspResult, VerifyOptions};
pub use revocation::{
    complete_chain, gather_for_chain, CertStatus, OnlineRevocation, RevocationEvidence,
    RevocationSource,
};
