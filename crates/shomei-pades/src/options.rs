use serde::{Deserialize, Serialize};
use shomei_core::DigestAlgorithm;
use std::time::SystemTime;

/// PAdES baseline levels (ETSI EN 319 142-1 6), in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub enum Level {
    /// B-B: the basic signature.
    #[default]
    BB,
    /// B-T: plus a signature time-stamp (or a document time-stamp covering it).
    BT,
    /// B-LT: plus the certificates and revocation data in `/DSS`.
    BLT,
    /// B-LTA: plus a document time-stamp over the `/DSS`.
    BLTA,
}

impl Level {
    /// The name used on the command line (`B-LTA`).
    pub fn name(self) -> &'static str {
        match self {
            Self::BB => "B-B",
            Self::BT => "B-T",
            Self::BLT => "B-LT",
            Self::BLTA => "B-LTA",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().replace('_', "-").as_str() {
            "B-B" | "BB" => Ok(Self::BB),
            "B-T" | "BT" => Ok(Self::BT),
            "B-LT" | "BLT" => Ok(Self::BLT),
            "B-LTA" | "BLTA" => Ok(Self::BLTA),
            _ => Err(format!(
                "unknown level '{s}' (expected B-B, B-T, B-LT or B-LTA)"
            )),
        }
    }
}

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
            unsigned_attrs_reserve: 0,
        }
    }
}
