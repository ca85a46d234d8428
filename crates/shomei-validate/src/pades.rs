//! PAdES validation (ETSI EN 319 102-1 basic and long-term validation, for the checks
//! listed in the crate docs): every signature and document time-stamp of a PDF, in
//! document order, from the bytes and the trust anchors given. Revocation data comes
//! from the document's `/DSS` first; [`validate_pdf_online`] fetches what is missing
//! through a [`RevocationSource`] (never needed for B-LT and B-LTA files).

use crate::changes::Finding;
use crate::evidence::{fetch, Draft, Embedded, Evidence};
pub use crate::evidence::{Options, ValidateError};
use crate::placement::{self, Coverage};
use crate::report::{
    rfc3339, Indication, Level, Report, SignatureKind, SignatureReport, SubIndication,
};
use crate::revisions::Signed;
use shomei_cms::check::CheckFailure;
use shomei_cms::ess_check::EssFailure;
use shomei_cms::inspect::{der_prefix, summarize, SignatureSummary};
use shomei_core::chain::ChainCert;
use shomei_core::Digest;
use shomei_pdf::{ExistingSignature, PdfReader};
use shomei_revocation::{Crl, RevocationSource};
use shomei_tsp::TimestampToken;
use std::cell::RefCell;
use std::io::Cursor;
use std::time::SystemTime;

/// A verdict other than TOTAL-PASSED with the name of the check that gave it.
type NamedFailure = (Indication, SubIndication, &'static str, String);

/// A document time-stamp that passed: where its coverage ends and its time.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    end: u64,
    time: SystemTime,
}

/// Validates every signature and document time-stamp of `file`.
///
/// # Errors
/// [`ValidateError::Pdf`] when the file is not a PDF that can be read; problems of a
/// signature are in its report, never an error.
pub fn validate_pdf(file: &[u8], options: &Options) -> Result<Report, ValidateError> {
    Ok(validate_with(file, options, &Embedded::default())?.0)
}

/// [`validate_pdf`], fetching the revocation status of every certificate the document
/// has no data for through `source` (OCSP, CRL), then validating again with it. Data
/// fetched now vouches for now: it makes a signature pass, not reach B-LT.
///
/// # Errors
/// As [`validate_pdf`]. A fetch that fails leaves that status unknown (TRY_LATER).
pub async fn validate_pdf_online(
    file: &[u8],
    options: &Options,
    source: &dyn RevocationSource,
) -> Result<Report, ValidateError> {
    let (report, missing) = validate_with(file, options, &Embedded::default())?;
    if missing.is_empty() {
        return Ok(report);
    }
    let fetched = fetch(&missing, source).await;
    Ok(validate_with(file, options, &fetched)?.0)
}

/// One pass: the report, and the (certificate, issuer) pairs whose status no data
/// gave.
fn validate_with(
    file: &[u8],
    options: &Options,
    fetched: &Embedded,
) -> Result<(Report, Vec<(ChainCert, ChainCert)>), ValidateError> {
    let now = options.at.unwrap_or_else(SystemTime::now);
    let mut reader = PdfReader::open(Cursor::new(file))?;
    let signatures = reader.signatures()?;
    let dss = reader.dss_data()?;
    let embedded = Embedded {
        certs: dss
            .certs
            .iter()
            .filter_map(|d| ChainCert::from_der(d).ok())
            .collect(),
        ocsps: dss.ocsps,
        crls: dss
            .crls
            .iter()
            .filter_map(|d| Crl::from_der_or_pem(d).ok())
            .collect(),
    };
    let certification = crate::changes::certification(&mut reader).unwrap_or(None);
    // A certification signature must be the first signature of the document (ISO
    // 32000-2 12.8.2.2): one whose coverage ends after another's was added later.
    let first_end = signatures
        .iter()
        .filter_map(|s| coverage_end(&s.byte_range))
        .min();
    let late_certification = certification
        .as_ref()
        .filter(|c| coverage_end(&c.byte_range) > first_end)
        .map(|c| c.byte_range.clone());
    let ctx = Context {
        file,
        permission: certification.map(|c| c.permission),
        late_certification,
        ev: Evidence::new(options, now, &embedded, fetched),
        findings: RefCell::new(Vec::new()),
    };
    // Document time-stamps first: each valid one is a proof of existence for what it
    // covers.
    // The last one first: an earlier one is proven by those after it.
    let mut anchors = Vec::new();
    let mut by_name = Vec::new();
    for sig in signatures.iter().rev().filter(|s| s.is_document_timestamp) {
        let (report, anchor) = ctx.document_timestamp(sig, &anchors);
        if let Some(a) = anchor {
            anchors.push(a);
        }
        by_name.push((sig.field_name.clone(), report));
    }
    let mut reports = Vec::with_capacity(signatures.len());
    for sig in &signatures {
        if sig.is_document_timestamp {
            if let Some(i) = by_name.iter().position(|(n, _)| *n == sig.field_name) {
                reports.push(by_name.swap_remove(i).1);
            }
        } else {
            reports.push(ctx.signature(sig, &anchors));
        }
    }
    // Each revision and what it changed, judged by the findings of the signatures
    // before it.
    let findings = ctx.findings.borrow();
    let signed: Vec<Signed<'_>> = signatures
        .iter()
        .filter_map(|s| {
            let end = coverage_end(&s.byte_range)?;
            let found = findings
                .iter()
                .find(|(e, _)| *e == end)
                .map_or(&[][..], |(_, f)| f.as_slice());
            Some(Signed {
                end,
                name: &s.field_name,
                timestamp: s.is_document_timestamp,
                findings: found,
            })
        })
        .collect();
    let (revisions, revisions_error) = match crate::revisions::revisions(file, &mut reader, &signed)
    {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    drop(signed);
    drop(findings);
    let report = Report {
        format: "PDF".into(),
        validation_time: rfc3339(now),
        signatures: reports,
        revisions,
        revisions_error,
    };
    Ok((report, ctx.ev.missing.into_inner()))
}

struct Context<'a> {
    file: &'a [u8],
    /// The DocMDP permission of the certification signature, if there is one.
    permission: Option<i64>,
    /// The `/ByteRange` of a certification signature that is not the first signature.
    late_certification: Option<Vec<u64>>,
    ev: Evidence<'a>,
    /// The changes each signature does not allow, by where its coverage ends.
    findings: RefCell<Vec<(u64, Vec<Finding>)>>,
}

/// The result of the integrity and signature-value checks, as a verdict.
fn integrity_verdict(e: &CheckFailure) -> (Indication, SubIndication) {
    match e {
        CheckFailure::Digest(_) => (Indication::TotalFailed, SubIndication::HashFailure),
        CheckFailure::SignatureValue => (Indication::TotalFailed, SubIndication::SigCryptoFailure),
        CheckFailure::NoSignerCertificate => (
            Indication::Indeterminate,
            SubIndication::NoSigningCertificateFound,
        ),
        CheckFailure::Unsupported(_) => (
            Indication::Indeterminate,
            SubIndication::CryptoConstraintsFailureNoPoe,
        ),
        _ => (Indication::TotalFailed, SubIndication::FormatFailure),
    }
}

impl Context<'_> {
    fn file_len(&self) -> u64 {
        u64::try_from(self.file.len()).unwrap_or(u64::MAX)
    }

    /// Placement, integrity and signature value: the checks every kind shares.
    fn intact(
        &self,
        sig: &ExistingSignature,
        draft: &mut Draft,
    ) -> Result<(Coverage, Option<SignatureSummary>), NamedFailure> {
        let coverage = placement::check(self.file, sig)
            .map_err(|(sub, why)| (Indication::TotalFailed, sub, "byte range", why))?;
        draft.check("byte range", true, coverage.describe(self.file_len()));
        draft.report.covers = coverage.describe(self.file_len());
        let (verdict, summary) =
            shomei_pades::extend::check_signature_summarized(&mut Cursor::new(self.file), sig);
        verdict.map_err(|e| {
            let (indication, sub) = integrity_verdict(&e);
            let name = match sub {
                SubIndication::SigCryptoFailure => "signature value",
                _ => "integrity",
            };
            (indication, sub, name, e.to_string())
        })?;
        draft.check(
            "integrity",
            true,
            "the digest of the signed bytes is the one the signature binds to",
        );
        draft.check(
            "signature value",
            true,
            "verifies with the key of the certificate the signature names",
        );
        if !coverage.is_whole_file() {
            match crate::changes::findings(self.file, coverage.end, self.permission) {
                Ok(found) if found.is_empty() => draft.check(
                    "changes after signing",
                    true,
                    "only validation data, time-stamps, signatures or form filling were added after it",
                ),
                Ok(found) => {
                    let text: Vec<&str> = found.iter().map(|f| f.text.as_str()).collect();
                    let text = text.join("; ");
                    self.findings.borrow_mut().push((coverage.end, found));
                    return Err((
                        Indication::TotalFailed,
                        SubIndication::SigConstraintsFailure,
                        "changes after signing",
                        text,
                    ));
                }
                Err(e) => {
                    return Err((
                        Indication::Indeterminate,
                        SubIndication::FormatFailure,
                        "changes after signing",
                        format!("the revisions after the signature cannot be compared: {e}"),
                    ))
                }
            }
        }
        Ok((coverage, summary))
    }

    fn document_timestamp(
        &self,
        sig: &ExistingSignature,
        later: &[Anchor],
    ) -> (SignatureReport, Option<Anchor>) {
        let mut draft = Draft::new(sig.field_name.clone(), SignatureKind::DocumentTimestamp);
        let coverage = match self.intact(sig, &mut draft) {
            Ok((c, _)) => c,
            Err((i, sub, name, why)) => return (draft.stop(i, sub, name, why), None),
        };
        // Many producers write the token in BER.
        // Many producers write the token in BER.
        let parsed = match der_prefix(&sig.contents) {
            Ok(der) => TimestampToken::from_ber(der),
            Err(_) => TimestampToken::from_ber(&sig.contents),
        }
        .or_else(|_| TimestampToken::from_ber(&sig.contents));
        let token = match parsed {
            Ok(t) => t,
            Err(e) => {
                // A hash too weak to be a proof (SHA-1) is not a broken token.
                let (indication, sub) = match e {
                    shomei_tsp::TspError::UnsupportedAlgorithm(_) => (
                        Indication::Indeterminate,
                        SubIndication::CryptoConstraintsFailureNoPoe,
                    ),
                    _ => (Indication::TotalFailed, SubIndication::FormatFailure),
                };
                return (
                    draft.stop(indication, sub, "time-stamp token", e.to_string()),
                    None,
                );
            }
        };
        let covered = later
            .iter()
            .filter(|a| a.end > coverage.end)
            .map(|a| a.time)
            .min();
        match self
            .ev
            .timestamp(&token, &token.imprint(), covered, &mut draft)
        {
            Ok((time, _)) => {
                draft.report.proven_time = Some(rfc3339(time));
                draft.report.claimed_time = Some(rfc3339(time));
                let anchor = Anchor {
                    end: coverage.end,
                    time,
                };
                (draft.finish(None), Some(anchor))
            }
            Err((i, sub, why)) => (draft.stop(i, sub, "time-stamp", why), None),
        }
    }

    fn signature(&self, sig: &ExistingSignature, anchors: &[Anchor]) -> SignatureReport {
        let mut draft = Draft::new(sig.field_name.clone(), SignatureKind::Signature);
        let (coverage, checked) = match self.intact(sig, &mut draft) {
            Ok(c) => c,
            Err((i, sub, name, why)) => return draft.stop(i, sub, name, why),
        };
        if self.late_certification.as_ref() == Some(&sig.byte_range) {
            return draft.stop(
                Indication::TotalFailed,
                SubIndication::FormatFailure,
                "certification",
                "a certification (DocMDP) signature that is not the first signature of the \
                 document: it was added after another one",
            );
        }
        let summary = match checked.map_or_else(|| summarize(&sig.contents), Ok) {
            Ok(s) => s,
            Err(e) => {
                return draft.stop(
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    "CMS",
                    e.to_string(),
                )
            }
        };
        let Some(signer) = summary.signer.clone() else {
            return draft.stop(
                Indication::Indeterminate,
                SubIndication::NoSigningCertificateFound,
                "signing certificate",
                "the certificate the signature names is not in it",
            );
        };
        draft.report.signer = Some(signer.subject());
        // The signing certificate is bound by the ESS attribute (baseline), or not.
        let mut baseline = sig.sub_filter == "ETSI.CAdES.detached";
        match &summary.ess {
            Some(Ok(v)) => draft.check(
                "signing certificate",
                true,
                format!(
                    "{} is named by the ESS signing-certificate{} attribute",
                    signer.subject(),
                    if matches!(v, shomei_cms::ess_check::EssVersion::V2) {
                        "-v2"
                    } else {
                        ""
                    }
                ),
            ),
            Some(Err(EssFailure::Absent)) | None => {
                baseline = false;
                draft.check(
                    "signing certificate",
                    false,
                    "no ESS signing-certificate attribute binds the certificate: not a PAdES baseline signature",
                );
            }
            Some(Err(e)) => {
                return draft.stop(
                    Indication::Indeterminate,
                    SubIndication::NoSigningCertificateFound,
                    "signing certificate",
                    e.to_string(),
                )
            }
        }
        if !baseline && sig.sub_filter != "ETSI.CAdES.detached" {
            draft.check(
                "format",
                false,
                format!(
                    "SubFilter {}: not a PAdES baseline signature",
                    sig.sub_filter
                ),
            );
        }
        // Proofs of existence: the signature time-stamp, and document time-stamps that
        // cover this signature.
        let mut proven: Option<SystemTime> = None;
        let mut by_signature_timestamp = false;
        // The signature time-stamp's TSA chain has its revocation data in the file.
        let mut timestamp_data = true;
        let archived = anchors
            .iter()
            .filter(|a| a.end > coverage.end)
            .map(|a| a.time)
            .min();
        if let Some(der) = &summary.signature_timestamp {
            match TimestampToken::from_ber(der) {
                Ok(token) => {
                    let imprint =
                        Digest::compute(token.imprint().algorithm(), &summary.signature_value);
                    match self.ev.timestamp(&token, &imprint, archived, &mut draft) {
                        Ok((t, embedded)) => {
                            proven = Some(t);
                            by_signature_timestamp = true;
                            timestamp_data = embedded;
                        }
                        Err((_, _, why)) => draft.check("signature time-stamp", false, why),
                    }
                }
                Err(e) => draft.check("signature time-stamp", false, e.to_string()),
            }
        }
        if let Some(t) = archived {
            draft.check(
                "document time-stamp",
                true,
                format!(
                    "a document time-stamp of {} covers this signature",
                    rfc3339(t)
                ),
            );
            proven = Some(proven.map_or(t, |p| p.min(t)));
        }
        draft.report.proven_time = proven.map(rfc3339);
        // Revocation data the CMS carries (SignedData.crls, Adobe's archival attribute).
        if !summary.crls.is_empty() || !summary.ocsps.is_empty() {
            let mut cms = self.ev.cms.borrow_mut();
            cms.ocsps.extend(summary.ocsps.iter().cloned());
            cms.crls.extend(
                summary
                    .crls
                    .iter()
                    .filter_map(|d| Crl::from_der_or_pem(d).ok()),
            );
        }
        // The signing certificate's path, its validity, its revocation.
        let mut pool = summary.certificates.clone();
        pool.extend(self.ev.embedded.certs.iter().cloned());
        let all_embedded = match self.ev.signer_checks(&signer, &pool, proven, &mut draft) {
            Ok(e) => e,
            Err((i, sub, name, why)) => return draft.stop(i, sub, name, why),
        };
        let level = if !baseline {
            None
        } else if proven.is_none() {
            Some(Level::BB)
        } else if !all_embedded || !timestamp_data {
            Some(Level::BT)
        } else if archived.is_some() && (by_signature_timestamp || anchors.len() > 1) {
            Some(Level::BLTA)
        } else {
            Some(Level::BLT)
        };
        draft.finish(level)
    }
}

/// Where a signature's coverage ends (`/ByteRange` `[a b c d]`: `c + d`).
fn coverage_end(byte_range: &[u64]) -> Option<u64> {
    match byte_range {
        [_, _, c, d] => c.checked_add(*d),
        _ => None,
    }
}
