//! The validation report: per signature (or document time-stamp) the ETSI EN 319 102-1
//! indication and sub-indication, the level reached, the signer, the claimed and the
//! proven signing time, what the signature covers, and why. Serde-ready (the JSON form
//! is what `--format json` prints).

use serde::{Deserialize, Serialize};

/// The main status of a validation (EN 319 102-1 5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Indication {
    /// Every check passed.
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    /// A check failed in a way that cannot change: the signature is not valid.
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
    /// The checks could not conclude (missing data, untrusted chain, no proof of
    /// existence in time).
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
}

/// Why a signature is not TOTAL-PASSED (EN 319 102-1 5.1.3), the codes used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SubIndication {
    /// The signature is not of the format claimed (or is not readable).
    FormatFailure,
    /// A signed digest does not match the data (the data changed after signing).
    HashFailure,
    /// The signature value does not verify with the signing certificate's key.
    SigCryptoFailure,
    /// The signing certificate was revoked before any proof of existence of the
    /// signature.
    Revoked,
    /// A constraint on the signature is not met (a signed attribute missing or wrong).
    SigConstraintsFailure,
    /// A constraint on the certificate chain is not met (key usage, basic
    /// constraints, validity of an issuer).
    ChainConstraintsFailure,
    /// The signing certificate cannot be identified.
    NoSigningCertificateFound,
    /// No path from the signing certificate to a trust anchor.
    NoCertificateChainFound,
    /// The signing certificate was not yet valid at the signing time.
    NotYetValid,
    /// The signing certificate expired before the validation time and nothing proves
    /// that the signature existed while it was valid.
    OutOfBoundsNoPoe,
    /// The signing certificate was revoked, and the proofs of existence do not reach
    /// before the revocation.
    RevokedNoPoe,
    /// An algorithm is not supported (or no longer considered secure) and nothing
    /// proves the signature existed before that.
    CryptoConstraintsFailureNoPoe,
    /// The revocation status cannot be established now (no revocation data; fetching
    /// it is not allowed or failed): may pass later.
    TryLater,
    /// The signed data cannot be found (a detached document missing).
    SignedDataNotFound,
    /// A time-stamp is not valid, or the time-stamps are out of order.
    TimestampOrderFailure,
}

/// What a signature is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureKind {
    /// A signature (CAdES in PDF, XAdES).
    Signature,
    /// A document time-stamp (PAdES B-LTA).
    DocumentTimestamp,
}

/// The baseline level a signature reaches (EN 319 142-1 / 319 132-1); its
/// `jis_name` is the long-term profile used in Japan (JIS X 5092/5093).
pub use shomei_core::Level;

/// One step of the validation and its outcome, for the reader of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked (`byte range`, `integrity`, `signature value`, `signing
    /// certificate`, `certificate path`, `revocation`, `signature time-stamp`, …).
    pub name: String,
    /// Passed or not.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// The validation of one signature or document time-stamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignatureReport {
    /// The signature's name: the PDF field name, or the XML signature's Id.
    pub name: String,
    /// Signature or document time-stamp.
    pub kind: SignatureKind,
    /// The verdict.
    pub indication: Indication,
    /// Why, when not TOTAL-PASSED.
    pub sub_indication: Option<SubIndication>,
    /// The level reached (only when the signature is TOTAL-PASSED or INDETERMINATE for
    /// a reason that does not concern its form).
    pub level: Option<Level>,
    /// The JIS long-term profile of `level` (`BES`, `T`, `XL`, `A`).
    pub jis_level: Option<String>,
    /// The signing (or time-stamping) certificate's subject.
    pub signer: Option<String>,
    /// The signing time the signer claims (PDF `/M`, XAdES SigningTime), RFC 3339.
    pub claimed_time: Option<String>,
    /// The earliest time the signature is proven to have existed (its first valid
    /// time-stamp), RFC 3339.
    pub proven_time: Option<String>,
    /// What the signature covers, in words (`bytes 0–1234 and 5678–9999 of 9999: the
    /// whole document up to revision 2 of 3`).
    pub covers: String,
    /// Every check made, in order.
    pub checks: Vec<Check>,
}

impl SignatureReport {
    /// A report for `name` that nothing has been found against yet (TOTAL-PASSED, no
    /// level, no check), to be filled in by the validation.
    pub fn new(name: impl Into<String>, kind: SignatureKind) -> Self {
        Self {
            name: name.into(),
            kind,
            indication: Indication::TotalPassed,
            sub_indication: None,
            level: None,
            jis_level: None,
            signer: None,
            claimed_time: None,
            proven_time: None,
            covers: String::new(),
            checks: Vec::new(),
        }
    }
}

/// The validation of a whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// `PDF` or `XML`.
    pub format: String,
    /// The time the validation was made as of (RFC 3339).
    pub validation_time: String,
    /// Every signature and document time-stamp, in document order.
    pub signatures: Vec<SignatureReport>,
    /// PDF: each revision, and what each incremental update changed (empty for XML).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<RevisionReport>,
    /// PDF: why the revisions could not be listed, if they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revisions_error: Option<String>,
}

pub use crate::revisions::{ChangeKind, ObjectChange, RevisionReport};

impl Report {
    /// The verdict of the file: TOTAL-FAILED if any signature failed, else
    /// INDETERMINATE if any is indeterminate or there is no signature, else
    /// TOTAL-PASSED.
    pub fn indication(&self) -> Indication {
        if self
            .signatures
            .iter()
            .any(|s| s.indication == Indication::TotalFailed)
        {
            Indication::TotalFailed
        } else if self.signatures.is_empty()
            || self
                .signatures
                .iter()
                .any(|s| s.indication == Indication::Indeterminate)
        {
            Indication::Indeterminate
        } else {
            Indication::TotalPassed
        }
    }
}

impl Indication {
    /// `TOTAL-PASSED`, `TOTAL-FAILED`, `INDETERMINATE`.
    pub fn name(self) -> &'static str {
        match self {
            Self::TotalPassed => "TOTAL-PASSED",
            Self::TotalFailed => "TOTAL-FAILED",
            Self::Indeterminate => "INDETERMINATE",
        }
    }
}

impl SubIndication {
    /// The EN 319 102-1 name (`HASH_FAILURE`, …).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl Report {
    /// The readable report: per signature the verdict, why, the signer, the times,
    /// the level (with its JIS name), what it covers, and every check.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}: {} signature(s), validated as of {} — {}\n",
            self.format,
            self.signatures.len(),
            self.validation_time,
            self.indication().name()
        );
        for s in &self.signatures {
            let kind = match s.kind {
                SignatureKind::Signature => "signature",
                SignatureKind::DocumentTimestamp => "document time-stamp",
            };
            out.push_str(&format!("\n{kind} {}: {}", s.name, s.indication.name()));
            if let Some(sub) = s.sub_indication {
                out.push_str(&format!(" / {}", sub.name()));
            }
            out.push('\n');
            if let Some(signer) = &s.signer {
                out.push_str(&format!("  signer:       {signer}\n"));
            }
            if let Some(level) = s.level {
                out.push_str(&format!(
                    "  level:        {} (JIS: {})\n",
                    level.name(),
                    level.jis_name()
                ));
            }
            if let Some(t) = &s.claimed_time {
                out.push_str(&format!("  claimed time: {t}\n"));
            }
            if let Some(t) = &s.proven_time {
                out.push_str(&format!("  proven time:  {t}\n"));
            }
            if !s.covers.is_empty() {
                out.push_str(&format!("  covers:       {}\n", s.covers));
            }
            for c in &s.checks {
                let mark = if c.passed { "ok " } else { "NO " };
                out.push_str(&format!("  {mark} {}: {}\n", c.name, c.detail));
            }
        }
        if !self.revisions.is_empty() {
            out.push_str("\nrevisions:\n");
        }
        for r in &self.revisions {
            out.push_str(&r.to_text());
        }
        if let Some(e) = &self.revisions_error {
            out.push_str(&format!("\nrevisions: cannot be listed: {e}\n"));
        }
        out
    }
}

/// RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`) of a time.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    shomei_core::time::UtcTime::from_system_time(t)
        .map_or_else(|| "?".into(), shomei_core::time::UtcTime::to_xml_datetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_are_the_standard_ones() {
        let json = serde_json::to_string(&(
            Indication::TotalPassed,
            Indication::Indeterminate,
            SubIndication::OutOfBoundsNoPoe,
            Level::BLTA,
            SignatureKind::DocumentTimestamp,
        ))
        .unwrap();
        assert_eq!(
            json,
            r#"["TOTAL-PASSED","INDETERMINATE","OUT_OF_BOUNDS_NO_POE","B-LTA","document-timestamp"]"#
        );
        assert_eq!(Level::BLT.jis_name(), "XL");
    }

    #[test]
    fn the_file_verdict_is_the_worst_signature() {
        let sig = |indication| {
            let mut s = SignatureReport::new("s", SignatureKind::Signature);
            s.indication = indication;
            s
        };
        let mut report = Report {
            format: "PDF".into(),
            validation_time: String::new(),
            signatures: vec![],
            revisions: vec![],
            revisions_error: None,
        };
        assert_eq!(report.indication(), Indication::Indeterminate);
        report.signatures = vec![sig(Indication::TotalPassed)];
        assert_eq!(report.indication(), Indication::TotalPassed);
        report.signatures.push(sig(Indication::Indeterminate));
        assert_eq!(report.indication(), Indication::Indeterminate);
        report.signatures.push(sig(Indication::TotalFailed));
        assert_eq!(report.indication(), Indication::TotalFailed);
    }
}
