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

/// Detached data the caller handed over by name (files named on a command line, parts
/// of an upload). A URI is resolved to the item whose name is the URI or its last path
/// segment; when exactly one item was given, every detached URI resolves to it (the
/// caller said "this is the signed data").
#[derive(Debug, Clone, Default)]
pub struct GivenData {
    items: Vec<(String, Vec<u8>)>,
}

impl GivenData {
    /// Nothing given yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `data` under `name` (a file name).
    pub fn add(&mut self, name: impl Into<String>, data: Vec<u8>) {
        self.items.push((name.into(), data));
    }

    /// No data was given.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl DetachedResolver for GivenData {
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError> {
        let path = uri.split(['?', '#']).next().unwrap_or(uri);
        let last = path.rsplit('/').next().unwrap_or(path);
        if let Some((_, data)) = self
            .items
            .iter()
            .find(|(name, _)| name == uri || name == last)
        {
            return Ok(data.clone());
        }
        match self.items.as_slice() {
            [(_, only)] => Ok(only.clone()),
            [] => NoDetachedData.resolve(uri),
            items => Err(XadesError::Options(format!(
                "the signature refers to detached data `{uri}`, and none of the data given \
                 ({}) has that name",
                items
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}
