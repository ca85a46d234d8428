//! Atomic output files: the result appears under its final name complete, or not at all.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// An output being written to a temporary file beside its final path.
/// Dropped without [`AtomicOutput::commit`], the temporary file is removed.
#[derive(Debug)]
pub struct AtomicOutput {
    temp: tempfile::NamedTempFile,
}

impl AtomicOutput {
    /// Creates the temporary file in the directory of `path`, so the final rename
    /// stays on one filesystem.
    pub fn create(path: &Path) -> io::Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".shomei-")
            .suffix(".part")
            .tempfile_in(dir)?;
        Ok(Self { temp })
    }

    /// The open temporary file.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Flushes to disk and renames onto `path`.
    pub fn commit(mut self, path: &Path) -> io::Result<()> {
        self.temp.as_file_mut().flush()?;
        self.temp.as_file().sync_all()?;
        self.temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}
