#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod check;
mod error;
mod extension;
pub mod inspect;
mod level;
mod located;
pub mod ltv;
mod options;
mod own;
mod pipeline;
mod references;
mod resolver;
mod splice;
mod unsigned;
pub mod uris;

pub use error::XadesError;
pub use ltv::{
    extend, sign_at_level, sign_at_level_into, sign_batch_at_level, BatchDocument,
    DetachedResolver, ExtendOptions, Extension, ExtensionReport, MissingData,
};
pub use options::{Packaging, XadesOptions};
pub use pipeline::{prepare, prepare_from, sign_xml, sign_xml_from, sign_xml_into, Prepared};
pub use shomei_core::Level;
