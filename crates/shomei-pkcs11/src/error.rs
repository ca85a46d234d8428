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
    /// A key on the token already has the label asked for a new key; a second one would
    /// make selection by label ambiguous.
    #[error("token `{token}` already holds a key labelled `{label}`")]
    LabelInUse {
        /// The token.
        token: String,
        /// The label.
        label: String,
    },
    /// The token generated a private key without an attribute of the template (or does
    /// not report it). The key pair was destroyed (else the error is
    /// [`LeftOnToken`](Self::LeftOnToken)).
    #[error(
        "token `{token}` did not honour {attribute} = {expected} for the generated private \
         key (it reports {})",
        reported.map_or_else(|| "nothing".to_owned(), |b| b.to_string())
    )]
    TemplateNotHonoured {
        /// The token.
        token: String,
        /// The PKCS#11 attribute (`CKA_EXTRACTABLE`).
        attribute: &'static str,
        /// The value asked for.
        expected: bool,
        /// The value the token reports; `None` when it reports none.
        reported: Option<bool>,
    },
    /// The token's public key attributes are not the public key that was asked for.
    #[error("the generated public key: {0}")]
    PublicKey(String),
    /// Generation failed after the key pair was created, and destroying it failed too:
    /// the pair is still on the token.
    #[error(
        "{cause}; the key pair with {id} is still on the token: destroying it failed ({destroy})"
    )]
    LeftOnToken {
        /// The key pair's `CKA_ID`, described.
        id: String,
        /// Why the pair was to be destroyed.
        cause: Box<Pkcs11Error>,
        /// Why destroying it failed.
        destroy: Box<Pkcs11Error>,
    },
    /// The caller's request cannot be carried out whatever the token holds (an empty
    /// label or id); never caused by the token.
    #[error("{0}")]
    ApiMisuse(String),
    /// A bug or broken invariant in this crate or the token.
    #[error("internal error: {0}")]
    Internal(String),
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
            Pkcs11Error::Key(_)
            | Pkcs11Error::Certificate(_)
            | Pkcs11Error::LabelInUse { .. }
            | Pkcs11Error::TemplateNotHonoured { .. }
            | Pkcs11Error::PublicKey(_)
            | Pkcs11Error::ApiMisuse(_) => SignerError::Key(e.to_string()),
            Pkcs11Error::Token { .. }
            | Pkcs11Error::LeftOnToken { .. }
            | Pkcs11Error::Internal(_) => SignerError::Device(e.to_string()),
        }
    }
}
