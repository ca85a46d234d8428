#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod c14n;
mod canon;
mod encoding;
mod error;
mod limits;
mod parse;
mod stream;
mod tree;

pub use c14n::{canonicalize, canonicalize_excluding, canonicalize_excluding_all, C14nMethod};
pub use error::{LimitKind, Position, XmlError};
pub use limits::Limits;
pub use stream::{canonicalize_reader, canonicalize_stream, IdValues, StreamSummary};
pub use tree::{Document, NodeId, NodeKind, XML_NS};
