use shomei_core::DigestAlgorithm;
use std::time::SystemTime;

pub use shomei_core::Level;

/// Everything the caller chooses about a PAdES signature.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PadesOptions {
    /// Target level.
    pub level: Level,
    /// Digest algorithm; `None` picks the key's natural one (SHA-384 for P-384, else SHA-256).
    pub digest: Option<DigestAlgorithm>,
    /// Use RSASSA-PSS instead of PKCS#1 v1.5 for RSA keys.
    pub rsa_pss: bool,
    /// Existing empty signature field to fill, or the name of the new field.
    pub field_name: Option<String>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/ContactInfo`.
    pub contact_info: Option<String>,
    /// `/Name`.
    pub name: Option<String>,
    /// Certification signature with DocMDP permissions 1, 2 or 3.
    pub certify: Option<u8>,
    /// Signing time written to `/M` (PAdES keeps it out of the CMS).
    pub signing_time: SystemTime,
    /// `Some`: a visible signature stamp (signer, time, free text, seal) on the page and
    /// rectangle it names, inside the signed revision; `None`: an invisible signature.
    pub stamp: Option<shomei_stamp::Stamp>,
    /// Extra bytes reserved in `/Contents` for unsigned attributes added when the
    /// signature is completed (a signature time-stamp token for B-T).
    pub unsigned_attrs_reserve: usize,
}

impl Default for PadesOptions {
    fn default() -> Self {
        Self {
            level: Level::BB,
            digest: None,
            rsa_pss: false,
            field_name: None,
            reason: None,
            location: None,
            contact_info: None,
            name: None,
            certify: None,
            signing_time: SystemTime::now(),
            stamp: None,
            unsigned_attrs_reserve: 0,
        }
    }
}
