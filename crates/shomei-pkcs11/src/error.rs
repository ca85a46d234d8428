//! The crate's error type.

use cryptoki::error::{Error as CkError, RvError};
use shomei_core::SignerError;

/// Why the token or key cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The PKCS#11 module could not be loaded or initialized.
    #[error("PKCS#11 module {module}: {message}")]
    Module {
        /// The module path.
        module: String,
        /// What happened.
        message: String,
    },
    /// No token with this label is present.
    #[error("no token labelled `{label}` (tokens present: {})", list(.present))]
    NoToken {
        /// The label asked for.
        label: String,
        /// Labels of the tokens present.
        present: Vec<String>,
    },
    /// The PIN was refused.
    #[error("wrong PIN for token `{0}`")]
    WrongPin(String),
    /// The PIN is locked after too many failures.
    #[error("the PIN of token `{0}` is locked (too many wrong PINs); unlock it with the SO PIN")]
    PinLocked(String),
    /// No private key matches, or several do.
    #[error("{0}")]
    Key(String),
    /// No usable certificate for the key.
    #[error("{0}")]
    Certificate(String),
    /// The token refused an operation.
    #[error("token error in {function}: {code}")]
    Token {
        /// The PKCS#11 function.
        function: String,
        /// The return value name.
        code: String,
    },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Pkcs11Error {
    /// Maps a cryptoki error, naming the token for PIN problems.
    pub(crate) fn from_ck(e: CkError, token: &str) -> Self {
        match e {
            CkError::Pkcs11(RvError::PinIncorrect, _) | CkError::Pkcs11(RvError::PinInvalid, _) => {
                Self::WrongPin(token.to_owned())
            }
            CkError::Pkcs11(RvError::PinLocked, _) => Self::PinLocked(token.to_owned()),
            CkError::Pkcs11(rv, function) => Self::Token {
                function: format!("{function:?}"),
                code: format!("{rv:?}"),
            },
            other => Self::Token {
                function: "cryptoki".into(),
                code: other.to_string(),
            },
        }
    }
}

impl From<Pkcs11Error> for SignerError {
    fn from(e: Pkcs11Error) -> Self {
        match e {
            Pkcs11Error::WrongPin(_) | Pkcs11Error::PinLocked(_) => {
                SignerError::Unauthorized(e.to_string())
            }
            Pkcs11Error::Module { .. } | Pkcs11Error::NoToken { .. } => {
                SignerError::Unavailable(e.to_string())
            }
            Pkcs11Error::Key(_) | Pkcs11Error::Certificate(_) => SignerError::Key(e.to_string()),
            Pkcs11Error::Token { .. } => SignerError::Device(e.to_string()),
        }
    }
}
