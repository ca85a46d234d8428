//! The [`RevocationSource`] trait, its online implementation, and the chain helpers the
//! B-LT level uses: complete a chain from AIA caIssuers, then gather evidence for it.

use crate::certs::{self, check_validity, is_self_signed};
use crate::crl::{self, CrlResult};
use crate::error::RevocationError;
use crate::ocsp::{CertIdHash, OcspClient, OcspResult, DEFAULT_MAX_SKEW};
use crate::rfc6960::oid;
use async_trait::async_trait;
use shomei_core::chain::ChainCert;
use shomei_core::{Clock, HttpTransport};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

/// A certificate's revocation status.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked at `time`.
    Revoked {
        /// Revocation time.
        time: SystemTime,
        /// Reason name as in RFC 5280 (`keyCompromise`), when given.
        reason: Option<String>,
    },
    /// The source does not know the certificate.
    Unknown,
}

/// Revocation data for one certificate, ready to embed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RevocationEvidence {
    /// What the data says.
    pub status: CertStatus,
    /// Whole OCSPResponse DER values (PDF `/DSS /OCSPs`, XAdES `OCSPValues`).
    pub ocsp_responses: Vec<Vec<u8>>,
    /// CRL DER values (PDF `/DSS /CRLs`, XAdES `CRLValues`).
    pub crls: Vec<Vec<u8>>,
    /// Certificates needed to verify the data, e.g. delegated responder certificates.
    pub extra_certs: Vec<ChainCert>,
}

impl RevocationEvidence {
    /// Evidence with a status and no data yet.
    pub fn new(status: CertStatus) -> Self {
        Self {
            status,
            ocsp_responses: Vec::new(),
            crls: Vec::new(),
            extra_certs: Vec::new(),
        }
    }

    /// Adds an OCSPResponse DER.
    pub fn with_ocsp_response(mut self, der: Vec<u8>) -> Self {
        self.ocsp_responses.push(der);
        self
    }

    /// Adds a CRL DER.
    pub fn with_crl(mut self, der: Vec<u8>) -> Self {
        self.crls.push(der);
        self
    }

    /// Adds certificates needed to verify the data.
    pub fn with_extra_certs(mut self, certs: impl IntoIterator<Item = ChainCert>) -> Self {
        self.extra_certs.extend(certs);
        self
    }
}

impl From<OcspResult> for RevocationEvidence {
    fn from(r: OcspResult) -> Self {
        Self::new(r.status)
            .with_ocsp_response(r.der)
            .with_extra_certs(r.responder_certs)
    }
}

impl From<CrlResult> for RevocationEvidence {
    fn from(r: CrlResult) -> Self {
        Self::new(r.status).with_crl(r.der)
    }
}

/// Where revocation evidence and missing issuer certificates come from.
#[async_trait]
pub trait RevocationSource: Send + Sync {
    /// Current revocation evidence for `cert` issued by `issuer`.
    async fn check(
        &self,
        cert: &ChainCert,
        issuer: &ChainCert,
    ) -> Result<RevocationEvidence, RevocationError>;

    /// The issuer certificate from the AIA caIssuers URL, for chain completion (None
    /// when the cert has none).
    async fn fetch_issuer(&self, cert: &ChainCert) -> Result<Option<ChainCert>, RevocationError>;
}

/// Evidence remembered until its `nextUpdate`.
#[derive(Debug, Clone)]
struct Cached<T> {
    value: T,
    next_update: Option<SystemTime>,
}

#[derive(Debug, Default)]
struct Cache {
    /// By (issuer public key, serial).
    evidence: HashMap<(Vec<u8>, Vec<u8>), Cached<RevocationEvidence>>,
    /// CRL bytes by URL.
    crls: HashMap<String, Vec<u8>>,
    /// Issuer certificates by caIssuers URL.
    issuers: HashMap<String, Vec<ChainCert>>,
}

/// Online revocation checking: OCSP first (AIA OCSP URL), CRL as fallback (CRL
/// distribution points) when the certificate has no OCSP URL, OCSP fails, or OCSP says
/// `unknown`.
///
/// Results are cached in memory by (issuer, serial) until their `nextUpdate`, CRLs and
/// issuer certificates by URL, so each certificate costs at most one fetch per process.
/// Failures are not cached. Concurrent first checks of one certificate may both fetch.
pub struct OnlineRevocation {
    transport: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    ocsp: OcspClient,
    max_skew: Duration,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for OnlineRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineRevocation")
            .field("ocsp", &self.ocsp)
            .field("max_skew", &self.max_skew)
            .finish_non_exhaustive()
    }
}

impl OnlineRevocation {
    /// SHA-1 CertIDs with a nonce, [`DEFAULT_MAX_SKEW`].
    pub fn new(transport: Arc<dyn HttpTransport>, clock: Arc<dyn Clock>) -> Self {
        Self {
            ocsp: OcspClient::new(transport.clone(), clock.clone()),
            transport,
            clock,
            max_skew: DEFAULT_MAX_SKEW,
            cache: Mutex::new(Cache::default()),
        }
    }

    /// Changes the OCSP CertID hash.
    pub fn with_cert_id_hash(mut self, hash: CertIdHash) -> Self {
        self.ocsp = self.ocsp.with_cert_id_hash(hash);
        self
    }

    /// Sends an OCSP nonce (default) or not.
    pub fn with_nonce(mut self, send: bool) -> Self {
        self.ocsp = self.ocsp.with_nonce(send);
        self
    }

    /// Changes the clock tolerance for OCSP and CRL times.
    pub fn with_max_skew(mut self, skew: Duration) -> Self {
        self.ocsp = self.ocsp.with_max_skew(skew);
        self.max_skew = skew;
        self
    }

    fn cache(&self) -> MutexGuard<'_, Cache> {
        // the cache holds plain data: a panic elsewhere cannot leave it half-updated
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn remember(
        &self,
        key: (Vec<u8>, Vec<u8>),
        value: RevocationEvidence,
        next: Option<SystemTime>,
    ) {
        self.cache().evidence.insert(
            key,
            Cached {
                value,
                next_update: next,
            },
        );
    }

    /// Checks with the CRL at `url`, downloading it at most once while it is current.
    async fn check_crl_at(
        &self,
        url: &str,
        cert: &ChainCert,
        issuer: &ChainCert,
    ) -> Result<CrlResult, RevocationError> {
        let now = self.clock.now();
        let cached = self.cache().crls.get(url).cloned();
        if let Some(bytes) = cached {
            match crl::check_crl(&bytes, cert, issuer, now, self.max_skew) {
                Err(RevocationError::Stale(_)) => {
                    self.cache().crls.remove(url);
                }
                other => return other,
            }
        }
        let bytes = crl::fetch_crl(self.transport.as_ref(), url).await?;
        let result = crl::check_crl(&bytes, cert, issuer, now, self.max_skew);
        if result.is_ok() {
            self.cache().crls.insert(url.to_string(), bytes);
        }
        result.map_err(|e| match e {
            RevocationError::BadResponse(m) => RevocationError::BadResponse(format!("{url}: {m}")),
            other => other,
        })
    }
}

#[async_trait]
impl RevocationSource for OnlineRevocation {
    async fn check(
        &self,
        cert: &ChainCert,
        issuer: &ChainCert,
    ) -> Result<RevocationEvidence, RevocationError> {
        let now = self.clock.now();
        let key = (
            issuer.public_key_bits().to_vec(),
            cert.cert()
                .tbs_certificate()
                .serial_number()
                .as_bytes()
                .to_vec(),
        );
        if let Some(hit) = self.cache().evidence.get(&key) {
            if hit
                .next_update
                .is_none_or(|next| next + self.max_skew >= now)
            {
                return Ok(hit.value.clone());
            }
        }
        let ocsp_urls = crate::ocsp::ocsp_urls(cert);
        let crl_urls = crl::crl_urls(cert);
        if ocsp_urls.is_empty() && crl_urls.is_empty() {
            return Err(RevocationError::NoSource {
                subject: cert.subject(),
            });
        }
        let mut first_err = None;
        let mut unknown = None;
        for url in &ocsp_urls {
            match self.ocsp.check_at(url, cert, issuer).await {
                Ok(r) if r.status == CertStatus::Unknown && !crl_urls.is_empty() => {
                    unknown = Some(r);
                    break;
                }
                Ok(r) => {
                    let next = r.next_update;
                    let evidence = RevocationEvidence::from(r);
                    self.remember(key, evidence.clone(), next);
                    return Ok(evidence);
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        for url in &crl_urls {
            match self.check_crl_at(url, cert, issuer).await {
                Ok(r) => {
                    let next = r.next_update;
                    let evidence = RevocationEvidence::from(r);
                    self.remember(key, evidence.clone(), next);
                    return Ok(evidence);
                }
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        if let Some(r) = unknown {
            let next = r.next_update;
            let evidence = RevocationEvidence::from(r);
            self.remember(key, evidence.clone(), next);
            return Ok(evidence);
        }
        Err(first_err.unwrap_or_else(|| RevocationError::NoSource {
            subject: cert.subject(),
        }))
    }

    async fn fetch_issuer(&self, cert: &ChainCert) -> Result<Option<ChainCert>, RevocationError> {
        let urls = certs::aia_urls(cert, &oid::AD_CA_ISSUERS);
        let mut first_err = None;
        for url in &urls {
            let cached = self.cache().issuers.get(url).cloned();
            let published = match cached {
                Some(c) => c,
                None => match fetch_published(self.transport.as_ref(), url).await {
                    Ok(c) => {
                        self.cache().issuers.insert(url.clone(), c.clone());
                        c
                    }
                    Err(e) => {
                        first_err.get_or_insert(e);
                        continue;
                    }
                },
            };
            match published
                .iter()
                .find(|c| certs::check_issued_by(cert, c).is_ok())
            {
                Some(found) => return Ok(Some(found.clone())),
                None => {
                    first_err.get_or_insert(RevocationError::BadResponse(format!(
                        "{url} does not hold the issuer of {}",
                        cert.subject()
                    )));
                }
            }
        }
        first_err.map_or(Ok(None), Err)
    }
}

async fn fetch_published(
    transport: &dyn HttpTransport,
    url: &str,
) -> Result<Vec<ChainCert>, RevocationError> {
    let body = crl::get_ok(transport, url).await?;
    certs::parse_published_certs(&body)
        .map_err(|e| RevocationError::BadResponse(format!("{url}: {e}")))
}

/// Appends missing issuers via [`RevocationSource::fetch_issuer`] until a self-signed
/// certificate, a certificate without caIssuers URL, or `max` certificates in total.
pub async fn complete_chain(
    source: &dyn RevocationSource,
    chain: &[ChainCert],
    max: usize,
) -> Result<Vec<ChainCert>, RevocationError> {
    let mut out = chain.to_vec();
    while out.len() < max {
        let Some(last) = out.last() else { break };
        if is_self_signed(last) {
            break;
        }
        // the issuer may already be somewhere in a chain given out of order
        if out
            .iter()
            .any(|c| c != last && certs::names_issuer(last, c))
        {
            break;
        }
        match source.fetch_issuer(last).await? {
            Some(issuer) if !out.contains(&issuer) => out.push(issuer),
            _ => break,
        }
    }
    Ok(out)
}

/// Evidence for every non-self-signed certificate of a chain (signing certificate
/// first), each checked against its issuer found in the chain.
///
/// Refuses when the signing certificate is expired or not yet valid at `clock`'s time
/// ([`RevocationError::Expired`], [`RevocationError::NotYetValid`]) — before any network
/// access — and when any certificate of the chain is revoked
/// ([`RevocationError::Revoked`]): a signature made under a revoked certificate or CA
/// would not validate. `Unknown` statuses are returned for the caller to judge.
pub async fn gather_for_chain(
    source: &dyn RevocationSource,
    chain: &[ChainCert],
    clock: &dyn Clock,
) -> Result<Vec<RevocationEvidence>, RevocationError> {
    if let Some(leaf) = chain.first() {
        check_validity(leaf, clock.now())?;
    }
    let mut out = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        if is_self_signed(cert) {
            continue;
        }
        let issuer = chain
            .get(i.saturating_add(1))
            .filter(|next| certs::names_issuer(cert, next))
            .or_else(|| {
                chain
                    .iter()
                    .find(|c| *c != cert && certs::names_issuer(cert, c))
            })
            .ok_or_else(|| RevocationError::MissingIssuer {
                subject: cert.subject(),
            })?;
        let evidence = source.check(cert, issuer).await?;
        if let CertStatus::Revoked { time, reason } = &evidence.status {
            return Err(RevocationError::Revoked {
                subject: cert.subject(),
                time: *time,
                reason: reason.clone(),
            });
        }
        out.push(evidence);
    }
    Ok(out)
}
