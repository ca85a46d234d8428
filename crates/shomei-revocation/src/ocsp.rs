//! OCSP client (RFC 6960): build a request, POST it, and verify the answer.
//!
//! A response is accepted only when all of these hold:
//! - `responseStatus` is `successful` and the response type is `id-pkix-ocsp-basic`;
//! - the responder is authorized (RFC 6960 4.2.2.2): either the issuer itself (by name
//!   or key hash), or a delegated responder whose certificate is included in the
//!   response, was issued *and signed* by the issuer, carries `id-kp-OCSPSigning` in
//!   extendedKeyUsage and is within its validity period;
//! - the signature over `tbsResponseData`, as received, verifies with that key;
//! - a `SingleResponse` names the certificate (issuer name hash, issuer key hash and
//!   serial, with whatever hash the responder used);
//! - `thisUpdate` is not in the future and `nextUpdate`, when present, has not passed
//!   (both with [`OcspClient::with_max_skew`] of tolerance);
//! - the nonce, when one was sent and the responder echoes one, is the same.
//!   Responders that pre-produce responses ignore nonces, so a missing echo is
//!   accepted unless [`VerifyOptions::require_nonce`] is set.

use crate::certs::{self, chain_cert};
use crate::error::{fmt_time, RevocationError};
use crate::revocation::CertStatus;
use crate::rfc6960::{
    self, oid, BasicOcspResponse, CertId, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, TbsRequest,
};
use aws_lc_rs::digest as lc_digest;
use der::asn1::OctetString;
use der::{Decode, Encode};
use shomei_core::chain::ChainCert;
use shomei_core::{Clock, HttpRequest, HttpTransport};
use spki::AlgorithmIdentifierOwned;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use x509_cert::ext::Extension;

/// Content type of an OCSP request (RFC 6960 appendix A.1).
pub const OCSP_REQUEST_CONTENT_TYPE: &str = "application/ocsp-request";

/// Default tolerance between the responder's clock and ours.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// Nonce length: RFC 8954 2.1 recommends 32 octets.
const NONCE_LEN: usize = 32;

/// The hash of a CertID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CertIdHash {
    /// SHA-1: what RFC 5019 responders (most public CAs) index their responses by.
    #[default]
    Sha1,
    /// SHA-256.
    Sha256,
}

impl CertIdHash {
    /// The hash algorithm's OID.
    pub fn oid(self) -> const_oid::ObjectIdentifier {
        match self {
            Self::Sha1 => oid::SHA1,
            Self::Sha256 => shomei_core::alg::oid::SHA256,
        }
    }

    fn from_oid(o: &const_oid::ObjectIdentifier) -> Option<Self> {
        [Self::Sha1, Self::Sha256]
            .into_iter()
            .find(|h| h.oid() == *o)
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            Self::Sha1 => &lc_digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => &lc_digest::SHA256,
        };
        lc_digest::digest(alg, data).as_ref().to_vec()
    }
}

/// SHA-1 of a certificate's subjectPublicKey bits: the `byKey` responder ID.
pub fn key_hash(cert: &ChainCert) -> Vec<u8> {
    CertIdHash::Sha1.hash(cert.public_key_bits())
}

/// The CertID of `cert` issued by `issuer`.
pub fn cert_id(
    cert: &ChainCert,
    issuer: &ChainCert,
    hash: CertIdHash,
) -> Result<CertId, RevocationError> {
    let name_der = cert
        .cert()
        .tbs_certificate()
        .issuer()
        .to_der()
        .map_err(|e| RevocationError::der("issuer name", &e))?;
    let octets = |v: Vec<u8>| OctetString::new(v).map_err(|e| RevocationError::der("hash", &e));
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: hash.oid(),
            parameters: Some(der::Any::null()),
        },
        issuer_name_hash: octets(hash.hash(&name_der))?,
        issuer_key_hash: octets(hash.hash(issuer.public_key_bits()))?,
        serial_number: cert.cert().tbs_certificate().serial_number().clone(),
    })
}

/// The nonce request/response extension (RFC 8954: an OCTET STRING inside extnValue).
pub fn nonce_extension(nonce: &[u8]) -> Result<Extension, RevocationError> {
    let inner = OctetString::new(nonce)
        .and_then(|o| o.to_der())
        .and_then(OctetString::new)
        .map_err(|e| RevocationError::der("nonce", &e))?;
    Ok(Extension {
        extn_id: oid::OCSP_NONCE,
        critical: false,
        extn_value: inner,
    })
}

/// DER of an unsigned OCSPRequest for `ids`, with a nonce extension when given.
pub fn build_request(ids: &[CertId], nonce: Option<&[u8]>) -> Result<Vec<u8>, RevocationError> {
    let request_extensions = nonce
        .map(|n| nonce_extension(n).map(|e| vec![e]))
        .transpose()?;
    OcspRequest {
        tbs_request: TbsRequest {
            version: None,
            requestor_name: None,
            request_list: ids
                .iter()
                .map(|id| Request {
                    req_cert: id.clone(),
                    single_request_extensions: None,
                })
                .collect(),
            request_extensions,
        },
        optional_signature: None,
    }
    .to_der()
    .map_err(|e| RevocationError::der("OCSP request", &e))
}

/// The `http://` OCSP responder URLs of the certificate's AIA extension.
pub fn ocsp_urls(cert: &ChainCert) -> Vec<String> {
    certs::aia_urls(cert, &oid::AD_OCSP)
}

/// A verified OCSP answer for one certificate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OcspResult {
    /// The whole OCSPResponse DER, as embedded in PDF `/DSS /OCSPs` and XAdES.
    pub der: Vec<u8>,
    /// The certificate's status.
    pub status: CertStatus,
    /// `producedAt`.
    pub produced_at: SystemTime,
    /// `thisUpdate` of the certificate's SingleResponse.
    pub this_update: SystemTime,
    /// `nextUpdate`, when the responder gives one.
    pub next_update: Option<SystemTime>,
    /// The delegated responder's certificate (empty when the issuer signed).
    pub responder_certs: Vec<ChainCert>,
    /// Whether the delegated responder certificate carries `id-pkix-ocsp-nocheck`
    /// (its own revocation status need not be checked, RFC 6960 4.2.2.2.1).
    pub responder_nocheck: bool,
}

/// What a response is checked against besides the certificate and its issuer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// The current time.
    pub now: SystemTime,
    /// Tolerance for `thisUpdate` in the future and `nextUpdate` in the past.
    pub max_skew: Duration,
    /// The nonce sent in the request.
    pub nonce: Option<Vec<u8>>,
    /// Refuse a response that does not echo the nonce.
    pub require_nonce: bool,
}

impl VerifyOptions {
    /// Checks at `now` with [`DEFAULT_MAX_SKEW`] and no nonce.
    pub fn new(now: SystemTime) -> Self {
        Self {
            now,
            max_skew: DEFAULT_MAX_SKEW,
            nonce: None,
            require_nonce: false,
        }
    }

    /// Expects `nonce` to be echoed if the responder echoes one.
    pub fn with_nonce(mut self, nonce: Vec<u8>) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// Refuses a response without the nonce echo.
    pub fn require_nonce(mut self, yes: bool) -> Self {
        self.require_nonce = yes;
        self
    }

    /// Changes the clock tolerance.
    pub fn with_max_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew;
        self
    }
}

/// Parses and verifies an OCSPResponse about `cert` issued by `issuer`.
pub fn verify_response(
    der: &[u8],
    cert: &ChainCert,
    issuer: &ChainCert,
    opts: &VerifyOptions,
) -> Result<OcspResult, RevocationError> {
    let response =
        OcspResponse::from_der(der).map_err(|e| RevocationError::der("OCSPResponse", &e))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(RevocationError::OcspStatus(
            response.response_status.name().to_string(),
        ));
    }
    let bytes = response.response_bytes.ok_or_else(|| {
        RevocationError::BadResponse("a successful OCSPResponse without responseBytes".into())
    })?;
    if bytes.response_type != oid::OCSP_BASIC {
        return Err(RevocationError::BadResponse(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    let basic_der = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(basic_der)
        .map_err(|e| RevocationError::der("BasicOCSPResponse (inside responseBytes)", &e))?;
    let tbs = rfc6960::tbs_bytes(basic_der)
        .map_err(|e| RevocationError::der("BasicOCSPResponse (inside responseBytes)", &e))?;
    let data = &basic.tbs_response_data;

    // Is it about our certificate? (Asked first: it costs no signature check, and a
    // validator tries every response it holds.)
    let single = data
        .responses
        .iter()
        .find(|sr| cert_id_matches(&sr.cert_id, cert, issuer))
        .ok_or_else(|| {
            RevocationError::BadResponse(format!(
                "the response does not cover certificate {} (serial {}): none of its {} CertIDs match",
                cert.subject(),
                certs::serial_hex(cert),
                data.responses.len()
            ))
        })?;

    // Who signed, and may they?
    let included = basic
        .certs
        .iter()
        .flatten()
        .map(chain_cert)
        .collect::<Result<Vec<_>, _>>()?;
    let (signer, delegated) = if responder_is(&data.responder_id, issuer) {
        (issuer.clone(), None)
    } else {
        let responder = included
            .iter()
            .find(|c| responder_is(&data.responder_id, c))
            .ok_or_else(|| {
                RevocationError::UnauthorizedResponder(format!(
                    "the response is signed by {}, which is neither the issuer {} nor a responder certificate included in the response",
                    describe_responder(&data.responder_id),
                    issuer.subject()
                ))
            })?;
        authorize_delegate(responder, issuer, opts.now)?;
        (responder.clone(), Some(responder.clone()))
    };
    let signature = basic.signature.as_bytes().ok_or_else(|| {
        RevocationError::BadResponse("the OCSP signature is not a whole number of bytes".into())
    })?;
    certs::verify_signed(&signer, &basic.signature_algorithm, tbs, signature).map_err(|e| {
        RevocationError::InvalidSignature(format!(
            "the OCSP response does not verify with the key of {}: {e}",
            signer.subject()
        ))
    })?;

    // Is it current?
    let this_update = single.this_update.to_system_time();
    let next_update = single
        .next_update
        .as_ref()
        .map(rfc6960::OcspTime::to_system_time);
    if this_update > opts.now + opts.max_skew {
        return Err(RevocationError::Stale(format!(
            "thisUpdate {} is in the future (now {})",
            fmt_time(this_update),
            fmt_time(opts.now)
        )));
    }
    if let Some(next) = next_update {
        if next + opts.max_skew < opts.now {
            return Err(RevocationError::Stale(format!(
                "nextUpdate {} has passed (now {})",
                fmt_time(next),
                fmt_time(opts.now)
            )));
        }
    }
    if let Some(sent) = &opts.nonce {
        let expected = nonce_extension(sent)?;
        let echoed = data
            .response_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid::OCSP_NONCE);
        match echoed {
            Some(e) if e.extn_value != expected.extn_value => {
                return Err(RevocationError::Stale(
                    "the response echoes another nonce than the one sent (a replayed response?)"
                        .into(),
                ))
            }
            None if opts.require_nonce => {
                return Err(RevocationError::Stale(
                    "the responder did not echo the request nonce".into(),
                ))
            }
            _ => {}
        }
    }

    let status = match &single.cert_status {
        rfc6960::CertStatus::Good(_) => CertStatus::Good,
        rfc6960::CertStatus::Revoked(info) => CertStatus::Revoked {
            time: info.revocation_time.to_system_time(),
            reason: info.revocation_reason.map(|r| r.name().to_string()),
        },
        rfc6960::CertStatus::Unknown(_) => CertStatus::Unknown,
    };
    let responder_nocheck = delegated
        .as_ref()
        .is_some_and(|d| certs::extension(d, &oid::OCSP_NOCHECK).is_some());
    Ok(OcspResult {
        der: der.to_vec(),
        status,
        produced_at: data.produced_at.to_system_time(),
        this_update,
        next_update,
        responder_certs: delegated.into_iter().collect(),
        responder_nocheck,
    })
}

/// Whether the responder ID names `cert` (by subject or by SHA-1 key hash).
fn responder_is(id: &ResponderId, cert: &ChainCert) -> bool {
    match id {
        ResponderId::ByName(name) => name == cert.cert().tbs_certificate().subject(),
        ResponderId::ByKey(hash) => hash.as_bytes() == key_hash(cert).as_slice(),
    }
}

fn describe_responder(id: &ResponderId) -> String {
    match id {
        ResponderId::ByName(name) => format!("'{name}'"),
        ResponderId::ByKey(hash) => format!(
            "the key with SHA-1 hash {}",
            shomei_core::digest::hex_bytes::encode(hash.as_bytes())
        ),
    }
}

/// RFC 6960 4.2.2.2: a delegated responder is certified by the issuer for OCSP signing.
fn authorize_delegate(
    responder: &ChainCert,
    issuer: &ChainCert,
    now: SystemTime,
) -> Result<(), RevocationError> {
    let who = responder.subject();
    certs::check_issued_by(responder, issuer).map_err(|e| {
        RevocationError::UnauthorizedResponder(format!(
            "responder certificate {who} is not certified by the issuer {}: {e}",
            issuer.subject()
        ))
    })?;
    let eku = certs::extended_key_usage(responder).unwrap_or_default();
    if !eku.contains(&oid::KP_OCSP_SIGNING) {
        return Err(RevocationError::UnauthorizedResponder(format!(
            "responder certificate {who} lacks the id-kp-OCSPSigning extended key usage"
        )));
    }
    certs::check_validity(responder, now)
        .map_err(|e| RevocationError::UnauthorizedResponder(format!("responder certificate: {e}")))
}

fn cert_id_matches(id: &CertId, cert: &ChainCert, issuer: &ChainCert) -> bool {
    let Some(hash) = CertIdHash::from_oid(&id.hash_algorithm.oid) else {
        return false;
    };
    cert_id(cert, issuer, hash).is_ok_and(|ours| {
        ours.issuer_name_hash == id.issuer_name_hash
            && ours.issuer_key_hash == id.issuer_key_hash
            && ours.serial_number.as_bytes() == id.serial_number.as_bytes()
    })
}

/// Asks OCSP responders over an [`HttpTransport`].
#[derive(Clone)]
pub struct OcspClient {
    transport: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    hash: CertIdHash,
    nonce: bool,
    require_nonce: bool,
    max_skew: Duration,
}

impl std::fmt::Debug for OcspClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcspClient")
            .field("hash", &self.hash)
            .field("nonce", &self.nonce)
            .field("require_nonce", &self.require_nonce)
            .field("max_skew", &self.max_skew)
            .finish_non_exhaustive()
    }
}

impl OcspClient {
    /// SHA-1 CertIDs, a random nonce, [`DEFAULT_MAX_SKEW`].
    pub fn new(transport: Arc<dyn HttpTransport>, clock: Arc<dyn Clock>) -> Self {
        Self {
            transport,
            clock,
            hash: CertIdHash::default(),
            nonce: true,
            require_nonce: false,
            max_skew: DEFAULT_MAX_SKEW,
        }
    }

    /// Changes the CertID hash.
    pub fn with_cert_id_hash(mut self, hash: CertIdHash) -> Self {
        self.hash = hash;
        self
    }

    /// Sends a nonce (default) or not.
    pub fn with_nonce(mut self, send: bool) -> Self {
        self.nonce = send;
        self
    }

    /// Refuses responses that do not echo the nonce (implies sending one).
    pub fn require_nonce(mut self, yes: bool) -> Self {
        self.require_nonce = yes;
        self.nonce |= yes;
        self
    }

    /// Changes the clock tolerance.
    pub fn with_max_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew;
        self
    }

    /// Asks the first responder of the certificate's AIA that gives a valid answer.
    pub async fn check(
        &self,
        cert: &ChainCert,
        issuer: &ChainCert,
    ) -> Result<OcspResult, RevocationError> {
        let mut first_err = None;
        for url in ocsp_urls(cert) {
            match self.check_at(&url, cert, issuer).await {
                Ok(r) => return Ok(r),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or_else(|| RevocationError::NoSource {
            subject: cert.subject(),
        }))
    }

    /// Asks the responder at `url`.
    pub async fn check_at(
        &self,
        url: &str,
        cert: &ChainCert,
        issuer: &ChainCert,
    ) -> Result<OcspResult, RevocationError> {
        let id = cert_id(cert, issuer, self.hash)?;
        let nonce = self.nonce.then(random_nonce).transpose()?;
        let body = build_request(&[id], nonce.as_deref())?;
        let response = self
            .transport
            .send(HttpRequest::post(url, OCSP_REQUEST_CONTENT_TYPE, body))
            .await
            .map_err(|e| RevocationError::from_transport(url, e))?;
        if response.status != 200 {
            return Err(RevocationError::Http {
                url: url.to_string(),
                status: response.status,
            });
        }
        let mut opts = VerifyOptions::new(self.clock.now())
            .with_max_skew(self.max_skew)
            .require_nonce(self.require_nonce);
        opts.nonce = nonce;
        verify_response(&response.body, cert, issuer, &opts).map_err(|e| match e {
            RevocationError::BadResponse(m) => RevocationError::BadResponse(format!("{url}: {m}")),
            other => other,
        })
    }
}

fn random_nonce() -> Result<Vec<u8>, RevocationError> {
    use aws_lc_rs::rand::SecureRandom;
    let mut nonce = vec![0u8; NONCE_LEN];
    aws_lc_rs::rand::SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| RevocationError::BadResponse("no randomness for the OCSP nonce".into()))?;
    Ok(nonce)
}
