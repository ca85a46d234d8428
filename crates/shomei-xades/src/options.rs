//! Signing options.

use shomei_core::DigestAlgorithm;
use std::time::SystemTime;

/// How the signature and the signed data are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Packaging {
    /// The `ds:Signature` becomes the last child of the document element; the Reference
    /// (`URI=""`) covers the whole document minus the signature.
    #[default]
    Enveloped,
}

/// What to sign and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct XadesOptions {
    /// Packaging (only enveloped for now).
    pub packaging: Packaging,
    /// Digest for references and signature; `None` = the key's default.
    pub digest: Option<DigestAlgorithm>,
    /// Sign RSA keys with RSASSA-PSS instead of PKCS#1 v1.5.
    pub rsa_pss: bool,
    /// The claimed signing time (`xades:SigningTime`), injected so tests can freeze it.
    pub signing_time: SystemTime,
    /// `xades:MimeType` of the signed data object.
    pub mime_type: String,
}

impl XadesOptions {
    /// Defaults (enveloped, key's digest, `text/xml`) with the given signing time.
    pub fn new(signing_time: SystemTime) -> Self {
        Self {
            packaging: Packaging::Enveloped,
            digest: None,
            rsa_pss: false,
            signing_time,
            mime_type: "text/xml".into(),
        }
    }
}

impl Default for XadesOptions {
    /// Defaults with the current system time as signing time.
    fn default() -> Self {
        Self::new(SystemTime::now())
    }
}
