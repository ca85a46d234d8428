//! [`TspError`]: why no verified time-stamp came back.

use crate::rfc3161::{PkiFailureInfo, PkiStatus};
use shomei_core::TransportError;

/// Why a time-stamp could not be obtained or does not verify.
///
/// Messages are for people: they name the TSA URL where one is involved and never
/// contain credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TspError {
    /// The TSA could not be reached (connection, DNS, TLS, timeout...). The transport's
    /// message names the URL.
    #[error("time-stamping authority unreachable: {0}")]
    Unreachable(#[source] TransportError),
    /// The TSA answered with an HTTP error status.
    #[error("the time-stamping authority at {url} answered HTTP {status}")]
    Http {
        /// The TSA URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The answer is not a time-stamp response (content type, DER).
    #[error("the answer from {url} is not a time-stamp response: {message}")]
    BadResponse {
        /// The TSA URL.
        url: String,
        /// What was wrong (with the DER byte position where relevant).
        message: String,
    },
    /// The TSA refused the request (PKIStatus other than granted / grantedWithMods).
    #[error("the time-stamping authority refused the request: status {status}{}{}",
        failure_info.map(|f| format!(", failure {f}")).unwrap_or_default(),
        if text.is_empty() { String::new() } else { format!(", \"{}\"", text.join("; ")) })]
    Refused {
        /// The status.
        status: PkiStatus,
        /// The PKIFreeText, if any.
        text: Vec<String>,
        /// The failure bits, if any.
        failure_info: Option<PkiFailureInfo>,
    },
    /// The token time-stamps another hash than the one sent.
    #[error("the time-stamp token is for another message imprint than the one requested")]
    ImprintMismatch,
    /// The token does not echo the request's nonce.
    #[error("the time-stamp token does not echo the request's nonce")]
    NonceMismatch,
    /// The token was issued under another policy than the one requested.
    #[error("the time-stamp token was issued under policy {got}, not the requested {requested}")]
    PolicyMismatch {
        /// The policy in the request.
        requested: const_oid::ObjectIdentifier,
        /// The policy in the token.
        got: const_oid::ObjectIdentifier,
    },
    /// The token is malformed or its signature does not verify.
    #[error("invalid time-stamp token: {0}")]
    BadToken(String),
    /// The token hashes with an algorithm shomei does not accept (SHA-1, say): it can be
    /// read, but proves nothing.
    #[error("invalid time-stamp token: {0}")]
    UnsupportedAlgorithm(String),
    /// The TSA certificate does not chain to a trusted root.
    #[error("untrusted time-stamping authority: {0}")]
    UntrustedTsa(String),
    /// The token's signer certificate is not a time-stamping certificate
    /// (RFC 3161 2.3: critical extended key usage with only id-kp-timeStamping).
    #[error("not a time-stamping certificate: {0}")]
    NotTimestampingCert(String),
    /// The configuration is unusable (for example a user name without a password).
    #[error("time-stamping configuration: {0}")]
    Config(String),
    /// No random nonce could be drawn.
    #[error("the system random number generator failed")]
    Random,
    /// A request could not be encoded. Never caused by what a TSA sends.
    #[error("cannot encode the time-stamp request: {0}")]
    Encode(der::Error),
}

impl TspError {
    pub(crate) fn bad_token(context: &str, e: impl std::fmt::Display) -> Self {
        Self::BadToken(format!("{context}: {e}"))
    }
}
