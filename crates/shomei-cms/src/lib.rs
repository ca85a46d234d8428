#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod attributes;
mod error;
pub mod ess;
pub mod inspect;
pub mod signed_data;

pub use error::CmsError;
pub use signed_data::{CadesOptions, PreparedCades};
