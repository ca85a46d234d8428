#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod signer;

pub use error::Pkcs11Error;
pub use signer::{KeySelector, Pkcs11Config, Pkcs11Signer};
