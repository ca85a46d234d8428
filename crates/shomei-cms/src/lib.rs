#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod attributes;
pub mod check;
pub mod ess_check;
pub use shomei_core::ber;
mod error;
pub use shomei_core::ess;
pub mod inspect;
pub mod signed_data;

pub use error::CmsError;
pub use signed_data::{CadesOptions, PreparedCades};
