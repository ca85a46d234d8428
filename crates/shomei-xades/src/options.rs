//! Signing options.

use shomei_core::DigestAlgorithm;
use std::time::SystemTime;

/// How the signature and the signed data are arranged (ETSI EN 319 132-1 4.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Packaging {
    /// The `ds:Signature` becomes the last child of the document element; the Reference
    /// (`URI=""`, enveloped-signature transform) covers the whole document minus the
    /// signature. The original bytes are kept; the signature is spliced in.
    #[default]
    Enveloped,
    /// The output is a new document whose root is the `ds:Signature`; the signed document
    /// element travels inside a `ds:Object` (written in canonical form, UTF-8) that the
    /// Reference points to by Id.
    Enveloping,
    /// The output is a standalone `ds:Signature` whose Reference names the signed data by
    /// a relative URI; the data (any bytes, XML or not) is digested as it is and stays in
    /// its own file.
    Detached {
        /// The relative URI by which the signature refers to the data (for example
        /// `invoice.xml` when both files sit in the same directory).
        uri: String,
    },
}

impl Packaging {
    /// The name used on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Enveloped => "enveloped",
            Self::Enveloping => "enveloping",
            Self::Detached { .. } => "detached",
        }
    }
}

/// What to sign and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct XadesOptions {
    /// Packaging (enveloped by default).
    pub packaging: Packaging,
    /// Digest for references and signature; `None` = the key's default.
    pub digest: Option<DigestAlgorithm>,
    /// Sign RSA keys with RSASSA-PSS instead of PKCS#1 v1.5.
    pub rsa_pss: bool,
    /// The claimed signing time (`xades:SigningTime`), injected so tests can freeze it.
    pub signing_time: SystemTime,
    /// `xades:MimeType` of the signed data object; `None` = `text/xml` for XML data,
    /// `application/pdf` for a PDF, `application/octet-stream` otherwise.
    pub mime_type: Option<String>,
    /// The level to reach (B-B by default), as in `shomei_pades::PadesOptions`; the
    /// levels above B-B need services at [`crate::sign_at_level`].
    pub level: shomei_core::Level,
}

impl XadesOptions {
    /// Defaults (enveloped, key's digest, guessed MIME type) with the given signing time.
    pub fn new(signing_time: SystemTime) -> Self {
        Self {
            packaging: Packaging::Enveloped,
            digest: None,
            rsa_pss: false,
            signing_time,
            mime_type: None,
            level: shomei_core::Level::BB,
        }
    }
}

impl Default for XadesOptions {
    /// Defaults with the current system time as signing time.
    fn default() -> Self {
        Self::new(SystemTime::now())
    }
}
