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
/// of an upload, the entries of a container). A URI resolves to the item named exactly
/// as the URI says (percent-decoded). Unless [`GivenData::exact`], a name equal to the
/// URI's last path segment is taken next, and when exactly one item was given, every
/// detached URI resolves to it (the caller said "this is the signed data").
#[derive(Debug, Default)]
pub struct GivenData {
    items: Vec<(String, Vec<u8>)>,
    exact: bool,
    used: std::sync::Mutex<Vec<usize>>,
}

impl GivenData {
    /// Nothing given yet; loose matching (last path segment, a single item).
    pub fn new() -> Self {
        Self::default()
    }

    /// Nothing given yet; only exact names resolve (the entries of a container, where
    /// `a.txt` and `docs/a.txt` are different files).
    pub fn exact() -> Self {
        Self {
            exact: true,
            ..Self::default()
        }
    }

    /// Adds `data` under `name` (a file name).
    pub fn add(&mut self, name: impl Into<String>, data: Vec<u8>) {
        self.items.push((name.into(), data));
    }

    /// No data was given.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The names of the items no reference resolved to so far.
    pub fn unused(&self) -> Vec<String> {
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        self.items
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.contains(i))
            .map(|(_, (name, _))| name.clone())
            .collect()
    }

    fn hand_out(&self, index: usize) -> Option<Vec<u8>> {
        if let Ok(mut used) = self.used.lock() {
            if !used.contains(&index) {
                used.push(index);
            }
        }
        self.items.get(index).map(|(_, data)| data.clone())
    }
}

/// `%XX` escapes decoded (a URI names a file); `None` when they do not decode to UTF-8.
fn percent_decoded(uri: &str) -> Option<String> {
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl DetachedResolver for GivenData {
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError> {
        let path = uri.split(['?', '#']).next().unwrap_or(uri);
        let decoded = percent_decoded(path).unwrap_or_else(|| path.to_owned());
        let plain = decoded.strip_prefix("./").unwrap_or(&decoded);
        let exact = self
            .items
            .iter()
            .position(|(name, _)| name == uri || name == plain);
        let loose = || {
            let last = plain.rsplit('/').next().unwrap_or(plain);
            self.items
                .iter()
                .position(|(name, _)| name == last)
                .or((self.items.len() == 1).then_some(0))
        };
        let found = if self.exact {
            exact
        } else {
            exact.or_else(loose)
        };
        if let Some(data) = found.and_then(|i| self.hand_out(i)) {
            return Ok(data);
        }
        if self.items.is_empty() {
            return NoDetachedData.resolve(uri);
        }
        Err(XadesError::Options(format!(
            "the signature refers to detached data `{uri}`, and none of the data given \
             ({}) has that name",
            self.items
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}
