#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod http;
pub mod rfc3161;
pub mod timestamp;

pub mod crl;
pub mod ocsp;
pub mod revocation;
pub mod rfc6960;
