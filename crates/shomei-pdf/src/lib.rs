#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
// Unit tests may unwrap; library code may not (workspace lints).
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod acroform;
mod appearance;
mod dss;
mod error;
mod existing;
mod filter;
mod lexer;
mod limits;
pub mod object;
mod parser;
mod reader;
mod serialize;
mod signature;
mod writer;
mod xref;

pub use appearance::{Appearance, AppearanceFont, AppearanceImage, FontOutlines};
pub use dss::{prepare_dss_update, DssData};
pub use error::PdfError;
pub use existing::ExistingSignature;
pub use lexer::hex_digit;
pub use object::{Dictionary, Object, ObjectId, Stream};
pub use reader::PdfReader;
pub use serialize::{decode_text, text_string};
pub use signature::{
    prepare_signature, PreparedUpdate, SignatureDictionary, SignatureRequest,
    DEFAULT_CONTENTS_CAPACITY,
};
pub use xref::XrefEntry;
