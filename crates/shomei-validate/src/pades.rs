//! PAdES validation (ETSI EN 319 102-1 basic and long-term validation, for the checks
//! listed in the crate docs): every signature and document time-stamp of a PDF, in
//! document order, from the bytes and the trust anchors given. Revocation data comes
//! from the document's `/DSS` first; [`validate_pdf_online`] fetches what is missing
//! through a [`RevocationSource`] (never needed for B-LT and B-LTA files).

use crate::path::{self, OutOfValidity, PathFailure};
use crate::placement::{self, Coverage};
use crate::report::{
    rfc3339, Check, Indication, Level, Report, SignatureKind, SignatureReport, SubIndication,
};
use shomei_cms::check::CheckFailure;
use shomei_cms::ess_check::EssFailure;
use shomei_cms::inspect::{der_prefix, summarize};
use shomei_core::chain::ChainCert;
use shomei_core::Digest;
use shomei_pdf::{ExistingSignature, PdfError, PdfReader};
use shomei_revocation::ocsp::{verify_response, VerifyOptions};
use shomei_revocation::{CertStatus, Crl, RevocationSource};
use shomei_tsp::TimestampToken;
use std::cell::RefCell;
use std::io::Cursor;
use std::time::{Duration, SystemTime};

/// How long before the time it must vouch for revocation data may have been issued:
/// clocks of signers, TSAs and responders differ by this much.
const GRACE: Duration = Duration::from_secs(10 * 60);

/// What the validation takes besides the file.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// The trust anchors (roots or any certificate the user trusts).
    pub anchors: Vec<ChainCert>,
    /// Validate as of this time instead of now.
    pub at: Option<SystemTime>,
}

impl Options {
    /// Options with these trust anchors, validating as of now.
    pub fn new(anchors: Vec<ChainCert>) -> Self {
        Self { anchors, at: None }
    }
}

/// The file cannot be validated at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// Not a PDF that can be read.
    #[error("not a readable PDF: {0}")]
    Pdf(#[from] PdfError),
}

/// Validation data: what the document embeds in `/DSS`, or what was fetched.
#[derive(Default)]
struct Embedded {
    certs: Vec<ChainCert>,
    ocsps: Vec<Vec<u8>>,
    crls: Vec<Crl>,
}

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
    let mut fetched = Embedded::default();
    for (cert, issuer) in &missing {
        if let Ok(evidence) = source.check(cert, issuer).await {
            fetched.ocsps.extend(evidence.ocsp_responses);
            fetched.crls.extend(
                evidence
                    .crls
                    .iter()
                    .filter_map(|d| Crl::from_der_or_pem(d).ok()),
            );
            fetched.certs.extend(evidence.extra_certs);
        }
    }
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
    let permission = crate::changes::docmdp_permission(&mut reader).unwrap_or(None);
    let ctx = Context {
        file,
        options,
        permission,
        now,
        embedded: &embedded,
        fetched,
        missing: RefCell::new(Vec::new()),
        statuses: RefCell::new(Vec::new()),
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
    let report = Report {
        format: "PDF".into(),
        validation_time: rfc3339(now),
        signatures: reports,
    };
    Ok((report, ctx.missing.into_inner()))
}

struct Context<'a> {
    file: &'a [u8],
    options: &'a Options,
    now: SystemTime,
    /// The DocMDP permission of the certification signature, if there is one.
    permission: Option<i64>,
    embedded: &'a Embedded,
    fetched: &'a Embedded,
    /// The (certificate, issuer) pairs no data was found for.
    missing: RefCell<Vec<(ChainCert, ChainCert)>>,
    /// Statuses already established.
    statuses: RefCell<Vec<Known>>,
}

/// A report under construction.
struct Draft {
    report: SignatureReport,
}

impl Draft {
    fn new(sig: &ExistingSignature, kind: SignatureKind) -> Self {
        Self {
            report: SignatureReport::new(sig.field_name.clone(), kind),
        }
    }

    fn check(&mut self, name: &str, passed: bool, detail: impl Into<String>) {
        self.report.checks.push(Check {
            name: name.into(),
            passed,
            detail: detail.into(),
        });
    }

    /// Ends the validation with a verdict other than TOTAL-PASSED.
    fn stop(
        mut self,
        indication: Indication,
        sub: SubIndication,
        check: &str,
        why: impl Into<String>,
    ) -> SignatureReport {
        self.check(check, false, why);
        self.report.indication = indication;
        self.report.sub_indication = Some(sub);
        self.report.level = None;
        self.report.jis_level = None;
        self.report
    }

    fn finish(mut self, level: Option<Level>) -> SignatureReport {
        self.report.level = level;
        self.report.jis_level = level.map(|l| l.jis_name().to_string());
        self.report
    }
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

/// A status already established: (certificate DER, issuer DER, time needed, status).
type Known = (Vec<u8>, Vec<u8>, SystemTime, Status);

/// How a certificate's revocation status was established (`true`: from the data the
/// document embeds).
#[derive(Clone)]
enum Status {
    Good(String, bool),
    Revoked(SystemTime, String),
    Unknown(String),
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
    ) -> Result<Coverage, (Indication, SubIndication, &'static str, String)> {
        let coverage = placement::check(self.file, sig)
            .map_err(|(sub, why)| (Indication::TotalFailed, sub, "byte range", why))?;
        draft.check("byte range", true, coverage.describe(self.file_len()));
        draft.report.covers = coverage.describe(self.file_len());
        shomei_pades::extend::check_signature(&mut Cursor::new(self.file), sig).map_err(|e| {
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
            match crate::changes::disallowed_changes(self.file, coverage.end, self.permission) {
                Ok(found) if found.is_empty() => draft.check(
                    "changes after signing",
                    true,
                    "only validation data, time-stamps, signatures or form filling were added after it",
                ),
                Ok(found) => {
                    return Err((
                        Indication::TotalFailed,
                        SubIndication::SigConstraintsFailure,
                        "changes after signing",
                        found.join("; "),
                    ))
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
        Ok(coverage)
    }

    fn document_timestamp(
        &self,
        sig: &ExistingSignature,
        later: &[Anchor],
    ) -> (SignatureReport, Option<Anchor>) {
        let mut draft = Draft::new(sig, SignatureKind::DocumentTimestamp);
        let coverage = match self.intact(sig, &mut draft) {
            Ok(c) => c,
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
        match self.timestamp(&token, &token.imprint(), covered, &mut draft) {
            Ok(time) => {
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

    /// Checks a time-stamp token over `imprint`: the token itself, its TSA's path to a
    /// trust anchor and validity at its time — and now, unless a later time-stamp
    /// (`covered`) proves the token existed before its TSA certificate expired — and
    /// the TSA chain's revocation when the document embeds data for it. Returns its
    /// time.
    fn timestamp(
        &self,
        token: &TimestampToken,
        imprint: &Digest,
        covered: Option<SystemTime>,
        draft: &mut Draft,
    ) -> Result<SystemTime, (Indication, SubIndication, String)> {
        let time = token.gen_time();
        token
            .verify_with_certs(imprint, &self.embedded.certs)
            .map_err(|e| {
                (
                    Indication::TotalFailed,
                    SubIndication::FormatFailure,
                    format!("the time-stamp token does not verify: {e}"),
                )
            })?;
        let tsa = token
            .signer_cert_with(&self.embedded.certs)
            .ok_or_else(|| {
                (
                    Indication::Indeterminate,
                    SubIndication::NoSigningCertificateFound,
                    "the TSA certificate is not available".to_string(),
                )
            })?;
        if draft.report.signer.is_none() {
            draft.report.signer = Some(tsa.subject());
        }
        let mut pool = token.certificates();
        pool.extend(self.embedded.certs.iter().cloned());
        let chain = self.path(&tsa, &pool)?;
        if let Err(e) = path::check_validity(&chain, time) {
            return Err(validity_failure(&chain, &e));
        }
        if let Err(e) = path::check_validity(&chain, self.now) {
            match covered {
                Some(later) if later <= self.now => draft.check(
                    "time-stamp validity",
                    true,
                    format!(
                        "the TSA chain is no longer valid, but a later time-stamp of {} proves this one",
                        rfc3339(later)
                    ),
                ),
                _ => {
                    let (_, _, why) = validity_failure(&chain, &e);
                    return Err((
                        Indication::Indeterminate,
                        SubIndication::OutOfBoundsNoPoe,
                        format!("{why}, and no later time-stamp covers this one"),
                    ));
                }
            }
        }
        draft.check(
            "time-stamp",
            true,
            format!(
                "{} by {}, path to a trust anchor valid then",
                rfc3339(time),
                tsa.subject()
            ),
        );
        // The TSA chain's revocation: checked when the document holds data for it; a
        // time-stamp's own status is not required here yet.
        for (cert, issuer) in chain.iter().zip(chain.iter().skip(1)) {
            match self.status(cert, issuer, time) {
                Status::Good(how, _) => draft.check("time-stamp revocation", true, how),
                Status::Revoked(at, how) if at <= time => {
                    return Err((
                        Indication::TotalFailed,
                        SubIndication::Revoked,
                        format!("the TSA chain was revoked before the time-stamp: {how}"),
                    ))
                }
                Status::Revoked(_, how) => draft.check("time-stamp revocation", true, how),
                Status::Unknown(how) => draft.check(
                    "time-stamp revocation",
                    false,
                    format!("{how} (not required for a time-stamp by this validator yet)"),
                ),
            }
        }
        Ok(time)
    }

    /// A path from `leaf` to the trust anchors.
    fn path(
        &self,
        leaf: &ChainCert,
        pool: &[ChainCert],
    ) -> Result<Vec<ChainCert>, (Indication, SubIndication, String)> {
        path::build(leaf, &self.options.anchors, pool).map_err(|e| match e {
            PathFailure::NoChain(why) => (
                Indication::Indeterminate,
                SubIndication::NoCertificateChainFound,
                why,
            ),
            other => (
                Indication::Indeterminate,
                SubIndication::ChainConstraintsFailure,
                other.to_string(),
            ),
        })
    }

    /// The revocation status of `cert` (issued by `issuer`) at `needed_at`, from the
    /// embedded OCSP responses and CRLs that speak for that time: issued after it, or
    /// current then (`thisUpdate` ≤ `needed_at` ≤ `nextUpdate`), within [`GRACE`].
    fn status(&self, cert: &ChainCert, issuer: &ChainCert, needed_at: SystemTime) -> Status {
        let known = self.statuses.borrow().iter().find_map(|(c, i, t, s)| {
            (c == cert.der() && i == issuer.der() && *t == needed_at).then(|| s.clone())
        });
        if let Some(status) = known {
            return status;
        }
        let status = self.find_status(cert, issuer, needed_at);
        self.statuses.borrow_mut().push((
            cert.der().to_vec(),
            issuer.der().to_vec(),
            needed_at,
            status.clone(),
        ));
        status
    }

    fn find_status(&self, cert: &ChainCert, issuer: &ChainCert, needed_at: SystemTime) -> Status {
        let mut stale = false;
        for (data, embedded) in [(self.embedded, true), (self.fetched, false)] {
            match status_in(data, cert, issuer, needed_at, embedded) {
                Ok(status) => return status,
                Err(was_stale) => stale |= was_stale,
            }
        }
        if let Ok(mut missing) = self.missing.try_borrow_mut() {
            if !missing
                .iter()
                .any(|(c, i)| c.der() == cert.der() && i.der() == issuer.der())
            {
                missing.push((cert.clone(), issuer.clone()));
            }
        }
        Status::Unknown(format!(
            "{}: no {}revocation data in the document{}",
            cert.subject(),
            if stale { "fresh enough " } else { "" },
            if self.fetched.ocsps.is_empty() && self.fetched.crls.is_empty() {
                ""
            } else {
                " nor fetched"
            }
        ))
    }

    fn signature(&self, sig: &ExistingSignature, anchors: &[Anchor]) -> SignatureReport {
        let mut draft = Draft::new(sig, SignatureKind::Signature);
        let coverage = match self.intact(sig, &mut draft) {
            Ok(c) => c,
            Err((i, sub, name, why)) => return draft.stop(i, sub, name, why),
        };
        let summary = match summarize(&sig.contents) {
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
                    match self.timestamp(&token, &imprint, archived, &mut draft) {
                        Ok(t) => {
                            proven = Some(t);
                            by_signature_timestamp = true;
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
        // The signing certificate's path, its validity, its revocation.
        let mut pool = summary.certificates.clone();
        pool.extend(self.embedded.certs.iter().cloned());
        let chain = match self.path(&signer, &pool) {
            Ok(c) => c,
            Err((i, sub, why)) => return draft.stop(i, sub, "certificate path", why),
        };
        if let Err(e) = path::may_sign(&signer) {
            return draft.stop(
                Indication::Indeterminate,
                SubIndication::ChainConstraintsFailure,
                "certificate path",
                e.to_string(),
            );
        }
        let names: Vec<String> = chain.iter().map(ChainCert::subject).collect();
        draft.check("certificate path", true, names.join(" ← "));
        match path::check_validity(&chain, self.now) {
            Ok(()) => draft.check("validity", true, format!("every certificate is valid at {}", rfc3339(self.now))),
            Err(e) => match proven.filter(|p| path::check_validity(&chain, *p).is_ok()) {
                Some(p) => draft.check(
                    "validity",
                    true,
                    format!("not every certificate is valid now, but all were at {}, when the signature is proven to exist", rfc3339(p)),
                ),
                None => {
                    let (i, sub, why) = validity_failure(&chain, &e);
                    let sub = if matches!(e, OutOfValidity::Expired(..)) && proven.is_none() {
                        SubIndication::OutOfBoundsNoPoe
                    } else {
                        sub
                    };
                    return draft.stop(i, sub, "validity", why);
                }
            },
        }
        let needed_at = proven.unwrap_or(self.now);
        let mut all_embedded = true;
        for (cert, issuer) in chain.iter().zip(chain.iter().skip(1)) {
            match self.status(cert, issuer, needed_at) {
                Status::Good(how, embedded) => {
                    all_embedded &= embedded;
                    draft.check("revocation", true, how);
                }
                Status::Revoked(at, how) => match proven {
                    Some(p) if p < at => draft.check(
                        "revocation",
                        true,
                        format!(
                            "{how}, after {}, when the signature is proven to exist",
                            rfc3339(p)
                        ),
                    ),
                    Some(_) => {
                        return draft.stop(
                            Indication::TotalFailed,
                            SubIndication::Revoked,
                            "revocation",
                            how,
                        )
                    }
                    None => {
                        return draft.stop(
                            Indication::Indeterminate,
                            SubIndication::RevokedNoPoe,
                            "revocation",
                            format!("{how}, and nothing proves the signature existed before"),
                        )
                    }
                },
                Status::Unknown(how) => {
                    // The rest of the chain is looked at too, so that everything
                    // missing is known (and can be fetched) at once.
                    for (c, i) in chain.iter().zip(chain.iter().skip(1)) {
                        let _ = self.status(c, i, needed_at);
                    }
                    return draft.stop(
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        "revocation",
                        how,
                    );
                }
            }
        }
        let level = if !baseline {
            None
        } else if proven.is_none() {
            Some(Level::BB)
        } else if !all_embedded {
            Some(Level::BT)
        } else if archived.is_some() && (by_signature_timestamp || anchors.len() > 1) {
            Some(Level::BLTA)
        } else {
            Some(Level::BLT)
        };
        draft.finish(level)
    }
}

/// A certificate of `chain` out of its validity, as a verdict.
fn validity_failure(chain: &[ChainCert], e: &OutOfValidity) -> (Indication, SubIndication, String) {
    let (i, why, sub) = match e {
        OutOfValidity::Expired(i, t) => (
            *i,
            format!("expired at {}", rfc3339(*t)),
            SubIndication::OutOfBoundsNoPoe,
        ),
        OutOfValidity::NotYetValid(i, t) => (
            *i,
            format!("not valid before {}", rfc3339(*t)),
            SubIndication::NotYetValid,
        ),
    };
    let subject = chain.get(i).map(ChainCert::subject).unwrap_or_default();
    let sub = if i == 0 {
        sub
    } else {
        SubIndication::ChainConstraintsFailure
    };
    (Indication::Indeterminate, sub, format!("{subject} {why}"))
}

/// The status of `cert` at `needed_at` from `data`'s OCSP responses and CRLs that
/// speak for that time: issued after it, or current then (`thisUpdate` ≤ `needed_at`
/// ≤ `nextUpdate`), within [`GRACE`]. `Err(true)` when only older data was there.
fn status_in(
    data: &Embedded,
    cert: &ChainCert,
    issuer: &ChainCert,
    needed_at: SystemTime,
    embedded: bool,
) -> Result<Status, bool> {
    let speaks_for = |this_update: SystemTime, next_update: Option<SystemTime>| {
        this_update + GRACE >= needed_at
            || (this_update <= needed_at + GRACE
                && next_update.is_some_and(|n| needed_at <= n + GRACE))
    };
    let origin = if embedded { "embedded" } else { "fetched" };
    let mut stale = false;
    let century = Duration::from_secs(100 * 365 * 86_400);
    for der in &data.ocsps {
        let opts = VerifyOptions::new(needed_at).with_max_skew(century);
        let Ok(result) = verify_response(der, cert, issuer, &opts) else {
            continue;
        };
        if !speaks_for(result.this_update, result.next_update) {
            stale = true;
            continue;
        }
        let when = rfc3339(result.this_update);
        match result.status {
            CertStatus::Good => {
                return Ok(Status::Good(
                    format!(
                        "{}: good ({origin} OCSP response of {when})",
                        cert.subject()
                    ),
                    embedded,
                ))
            }
            CertStatus::Revoked { time, .. } => {
                return Ok(Status::Revoked(
                    time,
                    format!(
                        "{}: revoked at {} ({origin} OCSP response of {when})",
                        cert.subject(),
                        rfc3339(time)
                    ),
                ))
            }
            _ => continue,
        }
    }
    for crl in &data.crls {
        // Names first (cheap): only the CRL of the certificate's issuer is verified.
        if crl.list().tbs_cert_list.issuer != *cert.cert().tbs_certificate().issuer() {
            continue;
        }
        if crl.verify_issuer(issuer).is_err() {
            continue;
        }
        if !speaks_for(crl.this_update(), crl.next_update()) {
            stale = true;
            continue;
        }
        let when = rfc3339(crl.this_update());
        match crl.status_of(cert) {
            Ok(CertStatus::Good) => {
                return Ok(Status::Good(
                    format!("{}: not on the {origin} CRL of {when}", cert.subject()),
                    embedded,
                ))
            }
            Ok(CertStatus::Revoked { time, .. }) => {
                return Ok(Status::Revoked(
                    time,
                    format!(
                        "{}: revoked at {} ({origin} CRL of {when})",
                        cert.subject(),
                        rfc3339(time)
                    ),
                ))
            }
            _ => continue,
        }
    }
    Err(stale)
}
