#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod error;
pub use shomei_core::ess;
pub mod http;
pub mod rfc3161;
pub mod timestamp;

pub use error::TspError;
pub use http::{HttpTsa, HttpTsaConfig, TsaAuth, DEFAULT_TOKEN_ESTIMATE};
pub use timestamp::{TimestampAuthority, TimestampToken};
