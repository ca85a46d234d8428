#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod rfc3161;
pub mod timestamp;
