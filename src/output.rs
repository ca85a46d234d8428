//! Atomic output files: the result appears under its final name complete, or not at all,
//! with the permissions an ordinary file write would give it.

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
    /// stays on one filesystem. The file gets the mode a plain `File::create` would
    /// (0666 less the umask), narrowed to the mode of `input` when that is stricter: a
    /// signed copy of a private document stays private.
    pub fn create(path: &Path, input: &Path) -> io::Result<Self> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".shomei-").suffix(".part");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The umask applies on top of this mode when the file is created.
            let input_mode = std::fs::metadata(input).map_or(0o666, |m| m.permissions().mode());
            builder.permissions(std::fs::Permissions::from_mode(0o666 & input_mode));
        }
        #[cfg(not(unix))]
        let _ = input;
        let temp = builder.tempfile_in(dir)?;
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
