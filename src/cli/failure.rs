//! What went wrong, and whether it was the user's input (exit 2) or the signing (exit 1).

use std::fmt;
use std::process::ExitCode;

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad usage or bad input: exit 2.
    Input(String),
    /// Signing failed: exit 1.
    Signing(String),
}

impl Failure {
    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Self::Input(_) => ExitCode::from(2),
            Self::Signing(_) => ExitCode::from(1),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input(m) | Self::Signing(m) => f.write_str(m),
        }
    }
}
