#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod attributes;
pub mod ess;
mod error;
pub mod signed_data;

pub use error::CmsError;
pub use signed_data::{CadesOptions, PreparedCades};
