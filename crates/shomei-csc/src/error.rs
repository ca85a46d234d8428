//! [`CscError`]: why a CSC call failed, in words for the user. Messages carry the
//! server's own `error_description` (with any configured secret blanked out), never
//! a PIN, OTP, SAD, token or client secret.

use shomei_core::{DigestAlgorithm, SignatureAlgorithm, SignerError, TransportError};

/// Why the CSC client could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CscError {
    /// The configuration cannot work (bad URL, version mismatch, missing PIN...).
    #[error("CSC configuration: {0}")]
    Config(String),
    /// The service could not be reached (after the retries idempotent calls get).
    #[error("CSC service unreachable ({method}): {source}")]
    Unreachable {
        /// The CSC method (`credentials/info`) or `token`.
        method: &'static str,
        /// What the transport said.
        source: TransportError,
    },
    /// `credentials/authorize` refused the PIN or OTP.
    #[error("wrong PIN or OTP (server: {description})")]
    WrongPinOrOtp {
        /// The server's description.
        description: String,
    },
    /// The credential needs a PIN (or OTP) and none was configured.
    #[error(
        "credential {credential_id} needs {what} for explicit authorization, but none was given"
    )]
    SecretMissing {
        /// The credential.
        credential_id: String,
        /// `a PIN` or `an OTP`.
        what: &'static str,
    },
    /// The service does not know the credential.
    #[error("unknown credential {credential_id} (server: {description})")]
    UnknownCredential {
        /// The credential.
        credential_id: String,
        /// The server's description.
        description: String,
    },
    /// The credential's key or certificate cannot be used.
    #[error("credential {credential_id} cannot sign: {reason}")]
    KeyUnusable {
        /// The credential.
        credential_id: String,
        /// Why (`key status "disabled"`).
        reason: String,
    },
    /// `signatures/signHash` refused the signature activation data.
    #[error("the signature activation data (SAD) is invalid or expired (server: {description})")]
    SadInvalid {
        /// The server's description.
        description: String,
    },
    /// The SAD ran out before `signatures/signHash` could use it, and a new one
    /// would need a new OTP.
    #[error("the signature activation data (SAD) expired before signing, and re-authorizing needs a new OTP")]
    SadExpired,
    /// The service refused the client's access token or credentials.
    #[error("the CSC service refused the client's authorization ({method}, HTTP {status}): {description}")]
    Unauthorized {
        /// The CSC method or `token`.
        method: &'static str,
        /// HTTP status.
        status: u16,
        /// The server's error code and description.
        description: String,
    },
    /// Any other HTTP error answer.
    #[error("CSC {method} failed with HTTP {status}: {error}{}", description_suffix(.description))]
    Server {
        /// The CSC method or `token`.
        method: &'static str,
        /// HTTP status.
        status: u16,
        /// The server's `error` code (or the start of a non-JSON body).
        error: String,
        /// The server's `error_description`.
        description: String,
    },
    /// The answer does not have the shape the specification gives it.
    #[error("CSC {method}: malformed answer: {message}")]
    BadResponse {
        /// The CSC method or `token`.
        method: &'static str,
        /// What was wrong, with the JSON path.
        message: String,
    },
    /// The credential does not offer this algorithm.
    #[error("the CSC credential does not offer {0}")]
    UnsupportedAlgorithm(SignatureAlgorithm),
    /// A digest was not made with the algorithm's hash.
    #[error("digest does not match {0}")]
    DigestMismatch(DigestAlgorithm),
    /// More digests in one call than the client accepts.
    #[error("{requested} digests in one call; at most {limit} are accepted")]
    TooManyDigests {
        /// Digests given.
        requested: usize,
        /// The limit ([`crate::MAX_DIGESTS`]).
        limit: usize,
    },
    /// `signatures/signHash` returned a different number of signatures.
    #[error("the CSC service returned {got} signatures for {sent} hashes")]
    CountMismatch {
        /// Hashes sent.
        sent: usize,
        /// Signatures returned.
        got: usize,
    },
    /// A returned signature value has an impossible encoding.
    #[error("signature {index} from the CSC service is unusable: {message}")]
    BadSignature {
        /// Position in the batch (0 = first).
        index: usize,
        /// What was wrong.
        message: String,
    },
}

fn description_suffix(description: &str) -> String {
    if description.is_empty() {
        String::new()
    } else {
        format!(" ({description})")
    }
}

impl From<CscError> for SignerError {
    fn from(e: CscError) -> Self {
        match e {
            CscError::UnsupportedAlgorithm(a) => SignerError::UnsupportedAlgorithm(a),
            CscError::DigestMismatch(d) => SignerError::DigestMismatch(d),
            CscError::CountMismatch { sent, got } => SignerError::CountMismatch { sent, got },
            CscError::Unreachable { .. } => SignerError::Unavailable(e.to_string()),
            CscError::Server {
                status: 502..=504, ..
            } => SignerError::Unavailable(e.to_string()),
            CscError::WrongPinOrOtp { .. }
            | CscError::SecretMissing { .. }
            | CscError::SadInvalid { .. }
            | CscError::SadExpired
            | CscError::Unauthorized { .. } => SignerError::Unauthorized(e.to_string()),
            CscError::UnknownCredential { .. } | CscError::KeyUnusable { .. } => {
                SignerError::Key(e.to_string())
            }
            CscError::Config(_)
            | CscError::Server { .. }
            | CscError::BadResponse { .. }
            | CscError::TooManyDigests { .. }
            | CscError::BadSignature { .. } => SignerError::Device(e.to_string()),
        }
    }
}

/// What an error answer said, before classification.
pub(crate) struct ErrorBody {
    pub(crate) error: String,
    pub(crate) description: String,
}

/// Longest server text kept in a message.
const MAX_SERVER_TEXT: usize = 300;

/// Reads `{"error": ..., "error_description": ...}`; a body that is not such JSON
/// becomes its first printable characters. Every configured secret is blanked out,
/// in case the server echoes one.
pub(crate) fn read_error_body(body: &[u8], secrets: &[&str]) -> ErrorBody {
    let json = serde_json::from_slice::<serde_json::Value>(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(|s| clean(s, secrets))
    };
    match (field("error"), field("error_description")) {
        (None, None) => ErrorBody {
            error: clean(&String::from_utf8_lossy(body), secrets),
            description: String::new(),
        },
        (error, description) => ErrorBody {
            error: error.unwrap_or_default(),
            description: description.unwrap_or_default(),
        },
    }
}

/// Blanks out secrets, drops control characters and bounds the length.
pub(crate) fn clean(text: &str, secrets: &[&str]) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, "***");
    }
    let trimmed = out.trim();
    match trimmed.char_indices().nth(MAX_SERVER_TEXT) {
        Some((cut, _)) => format!("{}…", trimmed.get(..cut).unwrap_or_default()),
        None => trimmed.to_string(),
    }
}

/// The lower-case words of a text, split on anything that is not a letter or digit.
pub(crate) fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_blanked_and_text_bounded() {
        let body = br#"{"error":"invalid_request","error_description":"Invalid PIN 4711\n"}"#;
        let e = read_error_body(body, &["4711"]);
        assert_eq!(e.error, "invalid_request");
        assert_eq!(e.description, "Invalid PIN ***");
        let long = "x".repeat(1000);
        let e = read_error_body(long.as_bytes(), &[]);
        assert!(e.error.chars().count() <= MAX_SERVER_TEXT + 1);
        assert!(e.description.is_empty());
    }

    #[test]
    fn non_json_body_is_kept_as_text() {
        let e = read_error_body(b"404: Not Found", &[]);
        assert_eq!(e.error, "404: Not Found");
    }

    #[test]
    fn words_split_on_punctuation() {
        assert_eq!(words("Invalid PIN."), vec!["invalid", "pin"]);
        assert!(!words("hash pinning required").contains(&"pin".to_string()));
    }
}
