#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod certs;
pub mod collect;
pub mod crl;
mod error;
pub mod ocsp;
pub mod revocation;
pub mod rfc6960;

pub use certs::{check_issued_by, check_validity, is_self_signed, validity};
pub use collect::{
    add_chain, new_signer_data, order_chain, services_for_level, LtvServices, MissingData,
    Strictness, ValidationData,
};
pub use crl::{check_crl, crl_urls, Crl, CrlResult};
pub use error::RevocationError;
pub use ocsp::{CertIdHash, OcspClient, OcspResult, VerifyOptions};
pub use revocation::{
    complete_chain, gather_for_chain, CertStatus, OnlineRevocation, RevocationEvidence,
    RevocationSource,
};
