//! What PAdES and XAdES validation share once a signature is intact: time-stamps as
//! proofs of existence, certificate paths to the trust anchors, validity, and
//! revocation status from embedded data first, then from data fetched.

use crate::path::{self, OutOfValidity, PathFailure};
use crate::report::{
    rfc3339, Check, Indication, Level, SignatureKind, SignatureReport, SubIndication,
};
use shomei_core::chain::ChainCert;
use shomei_core::Digest;
use shomei_revocation::ocsp::{verify_response, VerifyOptions};
use shomei_revocation::{CertStatus, Crl, RevocationSource};
use shomei_tsp::TimestampToken;
use std::cell::RefCell;
use std::time::{Duration, SystemTime};

/// What the validation takes besides the file.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Options {
    /// The trust anchors (roots or any certificate the user trusts).
    pub anchors: Vec<ChainCert>,
    /// Validate as of this time instead of now.
    pub at: Option<SystemTime>,
    /// When neither the file nor a fetch gives a certificate's revocation status, go
    /// on without it (the report says, for each certificate, that its status was not
    /// checked) instead of stopping at INDETERMINATE / TRY_LATER. Off by default; an
    /// offline validation asked for by the user turns it on. Never raises a level: a
    /// status not established is never B-LT.
    pub revocation_soft_fail: bool,
}

impl Options {
    /// Options with these trust anchors, validating as of now.
    pub fn new(anchors: Vec<ChainCert>) -> Self {
        Self {
            anchors,
            at: None,
            revocation_soft_fail: false,
        }
    }
}

/// The file cannot be validated at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// Not a PDF that can be read.
    #[error("not a readable PDF: {0}")]
    Pdf(#[from] shomei_pdf::PdfError),
    /// Not an XML document that can be read.
    #[error("not a readable XML document: {0}")]
    Xml(#[from] shomei_xades::XadesError),
    /// Not an ASiC-E container that can be read.
    #[error("not a readable ASiC-E container: {0}")]
    Container(String),
    /// Neither a PDF, an XML document nor an ASiC-E container.
    #[error("neither a PDF, an XML document nor an ASiC-E container")]
    UnknownFormat,
}

/// A verdict other than TOTAL-PASSED: indication, sub-indication, why.
pub(crate) type Failure = (Indication, SubIndication, String);

/// How long before the time it must vouch for revocation data may have been issued:
/// clocks of signers, TSAs and responders differ by this much.
const GRACE: Duration = Duration::from_secs(10 * 60);

/// Validation data: what the document embeds in `/DSS`, or what was fetched.
#[derive(Default)]
pub(crate) struct Embedded {
    pub(crate) certs: Vec<ChainCert>,
    pub(crate) ocsps: Vec<Vec<u8>>,
    pub(crate) crls: Vec<Crl>,
}

/// A report under construction.
pub(crate) struct Draft {
    pub(crate) report: SignatureReport,
}

impl Draft {
    pub(crate) fn new(name: impl Into<String>, kind: SignatureKind) -> Self {
        Self {
            report: SignatureReport::new(name, kind),
        }
    }

    pub(crate) fn check(&mut self, name: &str, passed: bool, detail: impl Into<String>) {
        self.report.checks.push(Check {
            name: name.into(),
            passed,
            detail: detail.into(),
        });
    }

    /// Ends the validation with a verdict other than TOTAL-PASSED.
    pub(crate) fn stop(
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

    pub(crate) fn finish(mut self, level: Option<Level>) -> SignatureReport {
        self.report.level = level;
        self.report.jis_level = level.map(|l| l.jis_name().to_string());
        self.report
    }
}

/// A status already established: (certificate DER, issuer DER, time needed, status).
pub(crate) type Known = (Vec<u8>, Vec<u8>, SystemTime, Status);

/// How a certificate's revocation status was established (`true`: from the data the
/// document embeds).
#[derive(Clone)]
pub(crate) enum Status {
    Good(String, bool),
    Revoked(SystemTime, String),
    Unknown(String),
}

/// The evidence a validation works with and what it has established: trust anchors,
/// the time validated as of, embedded and fetched validation data, the statuses found
/// and the (certificate, issuer) pairs no data was found for.
pub(crate) struct Evidence<'a> {
    pub(crate) anchors: &'a [ChainCert],
    pub(crate) now: SystemTime,
    /// Go on without a revocation status no data gives ([`Options::revocation_soft_fail`]).
    pub(crate) soft_fail: bool,
    pub(crate) embedded: &'a Embedded,
    pub(crate) fetched: &'a Embedded,
    /// The (certificate, issuer) pairs no data was found for.
    pub(crate) missing: RefCell<Vec<(ChainCert, ChainCert)>>,
    /// Statuses already established.
    pub(crate) statuses: RefCell<Vec<Known>>,
    /// Revocation data found inside the signatures' CMS.
    pub(crate) cms: RefCell<Embedded>,
    /// CRL signatures checked.
    crls_checked: RefCell<Vec<CrlVerdict>>,
}

/// A CRL signature checked: (source, index in it, issuer DER, verified).
type CrlVerdict = (&'static str, usize, Vec<u8>, bool);

impl<'a> Evidence<'a> {
    pub(crate) fn new(
        options: &'a Options,
        now: SystemTime,
        embedded: &'a Embedded,
        fetched: &'a Embedded,
    ) -> Self {
        Self {
            anchors: &options.anchors,
            soft_fail: options.revocation_soft_fail,
            now,
            embedded,
            fetched,
            missing: RefCell::new(Vec::new()),
            statuses: RefCell::new(Vec::new()),
            cms: RefCell::new(Embedded::default()),
            crls_checked: RefCell::new(Vec::new()),
        }
    }
}

impl Evidence<'_> {
    /// Checks a time-stamp token over `imprint`: the token itself, its TSA's path to a
    /// trust anchor and validity at its time — and now, unless a later time-stamp
    /// (`covered`) proves the token existed before its TSA certificate expired — and
    /// the TSA chain's revocation when the document embeds data for it. Returns its
    /// time, and whether the file embeds the TSA chain's revocation data.
    pub(crate) fn timestamp(
        &self,
        token: &TimestampToken,
        imprint: &Digest,
        covered: Option<SystemTime>,
        draft: &mut Draft,
    ) -> Result<(SystemTime, bool), Failure> {
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
        // time-stamp's own status is not required here yet, but only data the file
        // embeds for it lets its signature count as long-term (B-LT).
        let mut embedded = true;
        for (cert, issuer) in chain.iter().zip(chain.iter().skip(1)) {
            match self.status(cert, issuer, time) {
                Status::Good(how, from_file) => {
                    embedded &= from_file;
                    draft.check("time-stamp revocation", true, how)
                }
                Status::Revoked(at, how) if at <= time => {
                    return Err((
                        Indication::TotalFailed,
                        SubIndication::Revoked,
                        format!("the TSA chain was revoked before the time-stamp: {how}"),
                    ))
                }
                Status::Revoked(_, how) => draft.check("time-stamp revocation", true, how),
                Status::Unknown(how) => {
                    embedded = false;
                    draft.check(
                        "time-stamp revocation",
                        false,
                        format!("{how} (not required for a time-stamp by this validator yet)"),
                    )
                }
            }
        }
        Ok((time, embedded))
    }

    /// A path from `leaf` to the trust anchors.
    pub(crate) fn path(
        &self,
        leaf: &ChainCert,
        pool: &[ChainCert],
    ) -> Result<Vec<ChainCert>, Failure> {
        // Each certificate signature is verified once per process (path::issued_by_cached).
        path::build_with(leaf, self.anchors, pool, &path::issued_by_cached).map_err(|e| match e {
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
    pub(crate) fn status(
        &self,
        cert: &ChainCert,
        issuer: &ChainCert,
        needed_at: SystemTime,
    ) -> Status {
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
        let cms = self.cms.borrow();
        let sources = [
            (self.embedded, "embedded", true),
            // In the CMS itself (Adobe's revocationInfoArchival): valid data, but not
            // where a PAdES B-LT level keeps it.
            (&*cms, "CMS-embedded", false),
            (self.fetched, "fetched", false),
        ];
        for (data, origin, counts) in sources {
            match status_in(
                data,
                cert,
                issuer,
                needed_at,
                origin,
                counts,
                &self.crls_checked,
            ) {
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

    /// The signing certificate's path to a trust anchor, whether it may sign, its
    /// validity (now, or at the `proven` time), and the revocation status of every
    /// certificate of the path at `proven` (else now). `Ok(true)` when every status
    /// came from embedded data.
    pub(crate) fn signer_checks(
        &self,
        signer: &ChainCert,
        pool: &[ChainCert],
        proven: Option<SystemTime>,
        draft: &mut Draft,
    ) -> Result<bool, (Indication, SubIndication, &'static str, String)> {
        let chain = self
            .path(signer, pool)
            .map_err(|(i, sub, why)| (i, sub, "certificate path", why))?;
        if let Err(e) = path::may_sign(signer) {
            return Err((
                Indication::Indeterminate,
                SubIndication::ChainConstraintsFailure,
                "certificate path",
                e.to_string(),
            ));
        }
        let names: Vec<String> = chain.iter().map(ChainCert::subject).collect();
        draft.check("certificate path", true, names.join(" ← "));
        match path::check_validity(&chain, self.now) {
            Ok(()) => draft.check(
                "validity",
                true,
                format!("every certificate is valid at {}", rfc3339(self.now)),
            ),
            Err(e) => match proven.filter(|p| path::check_validity(&chain, *p).is_ok()) {
                Some(p) => draft.check(
                    "validity",
                    true,
                    format!(
                        "not every certificate is valid now, but all were at {}, when the \
                         signature is proven to exist",
                        rfc3339(p)
                    ),
                ),
                None => {
                    let (i, sub, why) = validity_failure(&chain, &e);
                    let sub = if matches!(e, OutOfValidity::Expired(..)) && proven.is_none() {
                        SubIndication::OutOfBoundsNoPoe
                    } else {
                        sub
                    };
                    return Err((i, sub, "validity", why));
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
                        return Err((
                            Indication::TotalFailed,
                            SubIndication::Revoked,
                            "revocation",
                            how,
                        ))
                    }
                    None => {
                        return Err((
                            Indication::Indeterminate,
                            SubIndication::RevokedNoPoe,
                            "revocation",
                            format!("{how}, and nothing proves the signature existed before"),
                        ))
                    }
                },
                Status::Unknown(how) if self.soft_fail => {
                    all_embedded = false;
                    draft.check(
                        "revocation",
                        false,
                        format!("{how}: not checked (revocation soft-fail: offline validation)"),
                    );
                }
                Status::Unknown(how) => {
                    // The rest of the chain is looked at too, so that everything
                    // missing is known (and can be fetched) at once.
                    for (c, i) in chain.iter().zip(chain.iter().skip(1)) {
                        let _ = self.status(c, i, needed_at);
                    }
                    return Err((
                        Indication::Indeterminate,
                        SubIndication::TryLater,
                        "revocation",
                        how,
                    ));
                }
            }
        }
        Ok(all_embedded)
    }
}

/// The revocation data `source` gives for each (certificate, issuer) pair.
pub(crate) async fn fetch(
    missing: &[(ChainCert, ChainCert)],
    source: &dyn RevocationSource,
) -> Embedded {
    let mut fetched = Embedded::default();
    for (cert, issuer) in missing {
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
    fetched
}

/// A certificate of `chain` out of its validity, as a verdict.
pub(crate) fn validity_failure(chain: &[ChainCert], e: &OutOfValidity) -> Failure {
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
    origin: &'static str,
    embedded: bool,
    crls_checked: &RefCell<Vec<CrlVerdict>>,
) -> Result<Status, bool> {
    let speaks_for = |this_update: SystemTime, next_update: Option<SystemTime>| {
        this_update + GRACE >= needed_at
            || (this_update <= needed_at + GRACE
                && next_update.is_some_and(|n| needed_at <= n + GRACE))
    };
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
    for (index, crl) in data.crls.iter().enumerate() {
        // Names first (cheap): only the CRL of the certificate's issuer is verified, and
        // each once.
        if crl.list().tbs_cert_list.issuer != *cert.cert().tbs_certificate().issuer() {
            continue;
        }
        let known = crls_checked
            .borrow()
            .iter()
            .find(|(o, i, who, _)| *o == origin && *i == index && who == issuer.der())
            .map(|(_, _, _, ok)| *ok);
        let verified = known.unwrap_or_else(|| {
            let ok = crl.verify_issuer(issuer).is_ok();
            crls_checked
                .borrow_mut()
                .push((origin, index, issuer.der().to_vec(), ok));
            ok
        });
        if !verified {
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
