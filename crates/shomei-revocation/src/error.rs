//! The crate's error type.

use shomei_core::{TransportError, UtcTime};
use std::time::SystemTime;

/// Why revocation data could not be obtained, or why a certificate must not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationError {
    /// No answer from a responder or repository (connection, timeout, size limit).
    #[error("cannot reach {url}: {message}")]
    Unreachable {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The server answered with an HTTP status other than 200.
    #[error("{url} answered HTTP {status}")]
    Http {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The OCSP responder answered, but not with a response (`tryLater`, `unauthorized`...).
    #[error("the OCSP responder refused to answer: {0}")]
    OcspStatus(String),
    /// The bytes are not a well-formed response, CRL or certificate (with the DER position).
    #[error("malformed revocation data: {0}")]
    BadResponse(String),
    /// The signature over a response or CRL does not verify.
    #[error("invalid signature: {0}")]
    InvalidSignature(String),
    /// The response or CRL was signed by someone not entitled to speak for the issuer.
    #[error("unauthorized responder: {0}")]
    UnauthorizedResponder(String),
    /// The response or CRL is not current (or is dated in the future).
    #[error("stale revocation data: {0}")]
    Stale(String),
    /// The certificate names neither an OCSP responder nor a CRL distribution point.
    #[error(
        "no revocation source for {subject}: it has no OCSP URL and no CRL distribution point"
    )]
    NoSource {
        /// The certificate's subject.
        subject: String,
    },
    /// The issuer of a certificate in a chain is not in the chain.
    #[error("the issuer of {subject} is not in the chain")]
    MissingIssuer {
        /// The certificate's subject.
        subject: String,
    },
    /// The certificate is revoked.
    #[error("certificate {subject} was revoked on {}{}", fmt_time(*.time), fmt_reason(.reason))]
    Revoked {
        /// The certificate's subject.
        subject: String,
        /// Revocation time.
        time: SystemTime,
        /// Reason name (`keyCompromise`), when given.
        reason: Option<String>,
    },
    /// The certificate's validity period has ended.
    #[error("certificate {subject} expired on {}", fmt_time(*.not_after))]
    Expired {
        /// The certificate's subject.
        subject: String,
        /// End of validity.
        not_after: SystemTime,
    },
    /// The certificate's validity period has not begun.
    #[error("certificate {subject} is not valid before {}", fmt_time(*.not_before))]
    NotYetValid {
        /// The certificate's subject.
        subject: String,
        /// Start of validity.
        not_before: SystemTime,
    },
    /// A level was asked for whose validation data could not all be had: claiming it
    /// would overstate what the file proves.
    #[error(
        "cannot reach {level}: the status of {} could not be established ({}); nothing was \
         written (--allow-missing-revocation writes the file anyway, marked incomplete)",
        if gaps.len() == 1 { "one certificate".to_string() } else { format!("{} certificates", gaps.len()) },
        gaps.join("; ")
    )]
    Incomplete {
        /// The level asked for.
        level: shomei_core::Level,
        /// Each certificate whose status is unknown, with the reason.
        gaps: Vec<String>,
    },
}

impl RevocationError {
    /// Maps a transport failure for `url`.
    pub fn from_transport(url: &str, e: TransportError) -> Self {
        match e {
            TransportError::Unreachable { url, message } => Self::Unreachable { url, message },
            other => Self::Unreachable {
                url: url.to_string(),
                message: other.to_string(),
            },
        }
    }

    pub(crate) fn der(what: &str, e: &der::Error) -> Self {
        Self::BadResponse(format!("{what}: {e}"))
    }
}

impl From<TransportError> for RevocationError {
    fn from(e: TransportError) -> Self {
        let url = match &e {
            TransportError::Unreachable { url, .. }
            | TransportError::Timeout { url, .. }
            | TransportError::TooLarge { url, .. }
            | TransportError::BadUrl(url) => url.clone(),
            _ => String::new(),
        };
        Self::from_transport(&url, e)
    }
}

/// `2025-06-01T00:00:00Z`.
pub(crate) fn fmt_time(t: SystemTime) -> String {
    UtcTime::from_system_time(t).map_or_else(|| format!("{t:?}"), UtcTime::to_xml_datetime)
}

fn fmt_reason(reason: &Option<String>) -> String {
    reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default()
}
