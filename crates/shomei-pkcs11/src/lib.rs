#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod keygen;
mod session;
mod signer;

pub use error::Pkcs11Error;
pub use keygen::{destroy_key_pair, generate_key_pair, GeneratedKey, TokenKeyKind};
pub use session::TokenLogin;
pub use signer::{KeySelector, Pkcs11Config, Pkcs11Signer, TokenKey};
