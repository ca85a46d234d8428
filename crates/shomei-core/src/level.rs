//! Baseline signature levels.

use serde::{Deserialize, Serialize};

/// Baseline signature levels, in increasing order — the same four for PAdES (ETSI EN
/// 319 142-1 6) and XAdES (ETSI EN 319 132-1 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub enum Level {
    /// B-B: the basic signature.
    #[default]
    #[serde(rename = "B-B", alias = "BB")]
    BB,
    /// B-T: plus a signature time-stamp (in PAdES, a document time-stamp covering the
    /// signature counts too).
    #[serde(rename = "B-T", alias = "BT")]
    BT,
    /// B-LT: plus the certificates and revocation data (`/DSS` in PDF,
    /// `CertificateValues` / `RevocationValues` in XAdES).
    #[serde(rename = "B-LT", alias = "BLT")]
    BLT,
    /// B-LTA: plus an archive time-stamp over all of it (a document time-stamp in PDF,
    /// `xades141:ArchiveTimeStamp` in XAdES).
    #[serde(rename = "B-LTA", alias = "BLTA")]
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

    /// The JIS X 5092 (CAdES) / JIS X 5093 (XAdES) long-term profile that corresponds:
    /// `BES`, `T`, `XL`, `A`.
    pub fn jis_name(self) -> &'static str {
        match self {
            Self::BB => "BES",
            Self::BT => "T",
            Self::BLT => "XL",
            Self::BLTA => "A",
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
