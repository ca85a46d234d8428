//! Gathering long-term validation data for a signature, whatever its format: the
//! certificate chain (completed from AIA), and OCSP responses or CRLs for each of its
//! non-root certificates. PAdES stores the result in `/DSS`, XAdES in
//! `xades:CertificateValues` / `xades:RevocationValues`.

use shomei_core::chain::ChainCert;
use shomei_core::{Clock, Level};
use shomei_revocation::{CertStatus, RevocationError, RevocationSource};
use std::time::SystemTime;

/// Longest chain followed when completing a chain from AIA (leaf, intermediates, root).
const MAX_CHAIN: usize = 8;

/// How strictly problems with a certificate are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strictness {
    /// The signature being made now: a revoked, expired or not-yet-valid signer, or
    /// missing revocation data, refuses the level.
    NewSignature,
    /// Signatures already in the document: a revoked certificate refuses, other gaps
    /// (an expired certificate of an old signature, an unreachable responder) become
    /// warnings and the data that could be had is still added.
    Existing,
}

/// Certificates and revocation data gathered for one or more chains, without
/// duplicates, with anything that could not be had.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationData {
    /// Certificates (DER), leaf first for each chain.
    pub certs: Vec<Vec<u8>>,
    /// Complete `OCSPResponse` values (DER).
    pub ocsps: Vec<Vec<u8>>,
    /// CRLs (DER).
    pub crls: Vec<Vec<u8>>,
    /// Certificates whose status could not be established, each with the reason
    /// (`Strictness::Existing` only): gaps in the data, see [`MissingData`].
    pub warnings: Vec<String>,
}

fn push_new(list: &mut Vec<Vec<u8>>, item: Vec<u8>) {
    if !list.contains(&item) {
        list.push(item);
    }
}

impl ValidationData {
    /// True when there is no certificate and no revocation data.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.ocsps.is_empty() && self.crls.is_empty()
    }

    fn add_cert(&mut self, c: &ChainCert) {
        push_new(&mut self.certs, c.der().to_vec());
    }

    /// Removes every item that `other` already holds (for data stored next to earlier
    /// data, as XAdES `TimeStampValidationData` is).
    pub fn without(&self, other: &ValidationData) -> ValidationData {
        let keep = |mine: &[Vec<u8>], theirs: &[Vec<u8>]| {
            mine.iter()
                .filter(|i| !theirs.contains(i))
                .cloned()
                .collect::<Vec<_>>()
        };
        ValidationData {
            certs: keep(&self.certs, &other.certs),
            ocsps: keep(&self.ocsps, &other.ocsps),
            crls: keep(&self.crls, &other.crls),
            warnings: self.warnings.clone(),
        }
    }
}

/// Orders `pool` into a chain starting at `leaf` by following issuer names.
pub fn order_chain(leaf: &ChainCert, pool: &[ChainCert]) -> Vec<ChainCert> {
    let mut chain = vec![leaf.clone()];
    while chain.len() < MAX_CHAIN {
        let Some(last) = chain.last() else { break };
        if is_self_issued(last) {
            break;
        }
        let issuer = last.cert().tbs_certificate().issuer();
        match pool.iter().find(|c| {
            c.cert().tbs_certificate().subject() == issuer
                && !chain.iter().any(|h| h.der() == c.der())
        }) {
            Some(next) => chain.push(next.clone()),
            None => break,
        }
    }
    chain
}

fn is_self_issued(c: &ChainCert) -> bool {
    let tbs = c.cert().tbs_certificate();
    tbs.issuer() == tbs.subject()
}

fn validity(c: &ChainCert) -> (SystemTime, SystemTime) {
    let v = c.cert().tbs_certificate().validity();
    (v.not_before.to_system_time(), v.not_after.to_system_time())
}

/// Adds the chain of `leaf` (completed from `extra` and AIA) and revocation evidence for
/// each of its non-root certificates to `data`.
pub async fn add_chain(
    data: &mut ValidationData,
    leaf: &ChainCert,
    extra: &[ChainCert],
    source: &dyn RevocationSource,
    clock: &dyn Clock,
    strictness: Strictness,
) -> Result<(), RevocationError> {
    let mut chain = order_chain(leaf, extra);
    // Complete from AIA caIssuers while the chain does not end in a self-issued cert.
    while chain.len() < MAX_CHAIN {
        let Some(last) = chain.last().cloned() else {
            break;
        };
        if is_self_issued(&last) {
            break;
        }
        match source.fetch_issuer(&last).await {
            Ok(Some(issuer)) if !chain.iter().any(|c| c.der() == issuer.der()) => {
                chain.push(issuer)
            }
            Ok(_) => break,
            Err(e) if strictness == Strictness::Existing => {
                data.warnings
                    .push(format!("{}: issuer not found: {e}", last.subject()));
                break;
            }
            Err(e) => return Err(e),
        }
    }
    let now = clock.now();
    for c in &chain {
        data.add_cert(c);
    }
    // The checks first (in chain order), then the revocation requests of every
    // certificate at once: they do not depend on each other, and a responder's latency
    // is most of a B-LT signature's time. Their answers are taken in chain order.
    let mut pairs = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        if is_self_issued(cert) {
            continue;
        }
        let (not_before, not_after) = validity(cert);
        if i == 0 && strictness == Strictness::NewSignature {
            if now > not_after {
                return Err(RevocationError::Expired {
                    subject: cert.subject(),
                    not_after,
                });
            }
            if now < not_before {
                return Err(RevocationError::NotYetValid {
                    subject: cert.subject(),
                    not_before,
                });
            }
        }
        let Some(issuer) = chain.get(i.saturating_add(1)) else {
            if strictness == Strictness::NewSignature {
                return Err(RevocationError::MissingIssuer {
                    subject: cert.subject(),
                });
            }
            data.warnings.push(format!(
                "{}: issuer unknown, no revocation data",
                cert.subject()
            ));
            continue;
        };
        pairs.push((cert, issuer));
    }
    let answers = futures_util::future::join_all(
        pairs
            .iter()
            .map(|(cert, issuer)| source.check(cert, issuer)),
    )
    .await;
    for ((cert, _), answer) in pairs.iter().zip(answers) {
        match answer {
            Ok(evidence) => {
                if let CertStatus::Revoked { time, reason } = &evidence.status {
                    return Err(RevocationError::Revoked {
                        subject: cert.subject(),
                        time: *time,
                        reason: reason.clone(),
                    });
                }
                for o in evidence.ocsp_responses {
                    push_new(&mut data.ocsps, o);
                }
                for c in evidence.crls {
                    push_new(&mut data.crls, c);
                }
                for c in &evidence.extra_certs {
                    data.add_cert(c);
                }
            }
            Err(e)
                if strictness == Strictness::Existing
                    && !matches!(e, RevocationError::Revoked { .. }) =>
            {
                data.warnings.push(format!("{}: {e}", cert.subject()));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What to do when the validation data of a level cannot all be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MissingData {
    /// Refuse the level ([`RevocationError::Incomplete`]): the default, since a file
    /// that claims B-LT without the data would overstate what it proves.
    #[default]
    Refuse,
    /// Write what could be had; the gaps are reported as warnings and the result is
    /// marked incomplete.
    Allow,
}

impl MissingData {
    /// `Ok` when `data` has no gap or gaps are allowed; else the refusal naming each
    /// certificate whose status could not be established.
    pub fn check(self, level: Level, data: &ValidationData) -> Result<(), RevocationError> {
        if data.warnings.is_empty() || self == MissingData::Allow {
            return Ok(());
        }
        Err(RevocationError::Incomplete {
            level,
            gaps: data.warnings.clone(),
        })
    }
}

/// How to extend signatures already in a document (made by anyone), the same for every
/// format: the level to reach, certificates to complete chains with, and the two
/// explicit overrides of "never a silent wrong result".
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExtendOptions {
    /// The level to reach: B-T, B-LT or B-LTA (B-LTA renews an archive time-stamp).
    pub level: Level,
    /// Extra certificates to complete chains with (trust anchors, missing issuers).
    pub extra_certs: Vec<ChainCert>,
    /// What to do when B-LT data cannot all be had (default: refuse).
    pub missing: MissingData,
    /// Extend signatures that are broken or cannot be checked (default: refuse); each
    /// is listed in [`ExtensionReport::forced`].
    pub force: bool,
}

impl ExtendOptions {
    /// Options for `level`: nothing extra, gaps and broken signatures refused.
    pub fn new(level: Level) -> Self {
        Self {
            level,
            extra_certs: Vec::new(),
            missing: MissingData::Refuse,
            force: false,
        }
    }
}

/// What an extension did, the same for every format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtensionReport {
    /// What was added, in order (empty when the document already had the level).
    pub steps: Vec<String>,
    /// Certificates whose status could not be established (written only with
    /// [`MissingData::Allow`] for the level's own data; the archive time-stamp's own
    /// chain may add some at B-LTA).
    pub warnings: Vec<String>,
    /// True when B-LT data was written with gaps ([`MissingData::Allow`]): the level
    /// is claimed without all its validation data, and the caller must say so.
    pub incomplete: bool,
    /// Signatures that did not check out and were extended anyway
    /// ([`ExtendOptions::force`]), each with what failed.
    pub forced: Vec<String>,
}
