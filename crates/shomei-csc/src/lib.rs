#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod algo;
mod client;
mod config;
mod error;
mod signer;
pub mod wire;

pub use client::{CallCounts, MAX_RETRIES};
pub use config::{CscAuth, CscConfig, CscVersion};
pub use error::CscError;
pub use signer::{list_credentials, CscSigner, DEFAULT_SAD_LIFETIME, MAX_DIGESTS};
