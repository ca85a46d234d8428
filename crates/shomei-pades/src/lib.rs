#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
pub mod extend;
pub mod ltv;
mod options;
mod pipeline;

pub use error::PadesError;
pub use options::{Level, PadesOptions};
pub use pipeline::{prepare, sign_document, Draft, Prepared, Signed};
