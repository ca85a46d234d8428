#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod format;
mod key;
mod pfx;
mod pkcs12;
mod software;

pub use error::{KeyError, Pkcs12Error};
pub use format::{detect_format, KeyFormat};
pub use software::{KeyMaterial, SoftwareKey, SoftwareSigner};
