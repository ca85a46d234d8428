#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod options;
mod pipeline;
mod splice;
pub mod uris;

pub use error::XadesError;
pub use options::{Packaging, XadesOptions};
pub use pipeline::{prepare, sign_xml, Prepared};
