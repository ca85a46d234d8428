//! Where detached data comes from: the caller decides; the library never fetches.

use crate::XadesError;

/// Gives the bytes of detached data a signature names by relative URI. The caller
/// decides where they may come from; the library never fetches anything itself.
pub trait DetachedResolver: Send + Sync {
    /// The bytes `uri` names.
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError>;
}

/// Refuses every detached reference (for documents whose references are all internal).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDetachedData;

impl DetachedResolver for NoDetachedData {
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError> {
        Err(XadesError::Options(format!(
            "the signature refers to detached data `{uri}`, and no place to read it from \
             was given"
        )))
    }
}

/// Detached data held in memory under one URI (the data just signed).
#[derive(Debug, Clone)]
pub struct InMemoryData {
    /// The URI the signature uses.
    pub uri: String,
    /// The data.
    pub data: Vec<u8>,
}

impl DetachedResolver for InMemoryData {
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError> {
        if uri == self.uri {
            Ok(self.data.clone())
        } else {
            NoDetachedData.resolve(uri)
        }
    }
}
