#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod batch;
pub mod services;
pub mod validation_data;

pub use batch::{sign_prepared, ToBeSigned};
pub use services::{new_signer_data, services_for_level, LtvServices};
pub use shomei_core::Level;
pub use validation_data::{
    add_chain, order_chain, ExtendOptions, ExtensionReport, MissingData, Strictness, ValidationData,
};
