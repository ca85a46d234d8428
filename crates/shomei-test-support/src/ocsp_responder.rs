//! In-process OCSP responder and CRL issuer over the test PKI (`fixtures/pki/`), with a
//! frozen clock and no network.
//!
//! - [`InProcessRevocation`] implements shomei-revocation's `RevocationSource`: real
//!   OCSP responses signed by the delegated responder `ocsp-responder` for certificates
//!   issued by `intermediate` (`signer-revoked` is revoked, keyCompromise, 2025-06-01;
//!   everything else is good), and real CRLs signed by `intermediate` (listing
//!   `signer-revoked`) and by `root` (empty, covering `intermediate` and `tsa`).
//! - [`OcspResponseSpec`], [`build_crl`] and [`reissue_with_urls`] build the same kind
//!   of data with chosen defects or URLs, for tests of the verifying side.

use crate::paths::pki_dir;
use async_trait::async_trait;
use der::asn1::{BitString, Ia5String, Null, OctetString};
use der::{Decode, Encode, Sequence};
use shomei_core::chain::ChainCert;
use shomei_core::{
    CertificateChain, Clock, Digest, DigestAlgorithm, FixedClock, KeyKind, SignatureAlgorithm,
};
use shomei_keys::SoftwareSigner;
use shomei_revocation::ocsp::{key_hash, nonce_extension};
use shomei_revocation::rfc6960::{
    self, oid, BasicOcspResponse, CertId, CrlReason, OcspResponse, OcspResponseStatus, OcspTime,
    ResponderId, ResponseBytes, ResponseData, RevokedInfo, SingleResponse,
};
use shomei_revocation::{CertStatus, RevocationError, RevocationEvidence, RevocationSource};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    crl::dp::DistributionPoint, AccessDescription, AuthorityInfoAccessSyntax, CrlDistributionPoints,
};
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// The frozen "now" of the in-process services: 2026-01-15T00:00:00Z.
pub const FROZEN_NOW_UNIX: u64 = 1_768_435_200;

/// When `signer-revoked` was revoked: 2025-06-01T00:00:00Z (keyCompromise).
pub const REVOKED_AT_UNIX: u64 = 1_748_736_000;

/// How long the generated OCSP responses are valid (nextUpdate − thisUpdate).
pub const OCSP_VALIDITY: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long the generated CRLs are valid.
pub const CRL_VALIDITY: Duration = Duration::from_secs(30 * 24 * 3600);

/// The frozen clock.
pub fn frozen_clock() -> FixedClock {
    FixedClock::at_unix(FROZEN_NOW_UNIX)
}

/// A certificate of `fixtures/pki/` by name (`intermediate`, `signer-revoked`...).
pub fn fixture_cert(name: &str) -> ChainCert {
    let path = pki_dir().join(format!("{name}.cert.pem"));
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    shomei_core::chain::parse_certificates(&pem)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .remove(0)
}

/// A signer for a fixture key and its certificate (`ocsp-responder`, `intermediate`,
/// `root`, `tsa`, `signer-rsa`, `signer-ec`...).
pub fn fixture_signer(name: &str) -> SoftwareSigner {
    let path = pki_dir().join(format!("{name}.key.pem"));
    let key = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let chain = CertificateChain::new(vec![fixture_cert(name)]).expect("one certificate");
    SoftwareSigner::from_key_and_chain(&key, chain).expect("fixture key matches its certificate")
}

/// Signs `message` with the fixture key `name`: RSA PKCS#1 v1.5 or ECDSA, SHA-256
/// (SHA-384 on P-384). Returns the AlgorithmIdentifier and the value (ECDSA as DER).
pub fn sign_as(name: &str, message: &[u8]) -> (AlgorithmIdentifierOwned, Vec<u8>) {
    let signer = fixture_signer(name);
    let alg = match signer.key_kind() {
        KeyKind::Rsa { .. } => SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
        other => SignatureAlgorithm::Ecdsa(other.default_digest()),
    };
    let digest = Digest::compute(alg.digest(), message);
    let value = signer
        .sign_digests_blocking(alg, &[digest])
        .expect("software signature")
        .remove(0)
        .to_cms()
        .expect("CMS encoding");
    (alg.algorithm_identifier(), value)
}

/// Which responder ID a response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponderIdKind {
    /// SHA-1 of the signer's key (what most responders send).
    ByKey,
    /// The signer's subject.
    ByName,
}

/// An OCSP response to build, with every field open for tests to spoil.
#[derive(Debug, Clone)]
pub struct OcspResponseSpec {
    /// The SingleResponse's CertID.
    pub cert_id: CertId,
    /// The status.
    pub status: rfc6960::CertStatus,
    /// `producedAt`.
    pub produced_at: SystemTime,
    /// `thisUpdate`.
    pub this_update: SystemTime,
    /// `nextUpdate`.
    pub next_update: Option<SystemTime>,
    /// Fixture whose key signs (`ocsp-responder` for the delegated responder,
    /// `intermediate` for issuer-signed responses).
    pub signer: String,
    /// How the responder is named (after `signer`'s certificate).
    pub responder_id: ResponderIdKind,
    /// Certificates included in the response.
    pub certs: Vec<ChainCert>,
    /// Nonce to echo.
    pub nonce: Option<Vec<u8>>,
}

impl OcspResponseSpec {
    /// A good status at `now` for `cert_id`, valid [`OCSP_VALIDITY`], signed by the
    /// delegated responder (named by key, its certificate included).
    pub fn good(cert_id: CertId, now: SystemTime) -> Self {
        Self {
            cert_id,
            status: rfc6960::CertStatus::Good(Null),
            produced_at: now,
            this_update: now,
            next_update: Some(now + OCSP_VALIDITY),
            signer: "ocsp-responder".into(),
            responder_id: ResponderIdKind::ByKey,
            certs: vec![fixture_cert("ocsp-responder")],
            nonce: None,
        }
    }

    /// Revoked at `time` for `reason`.
    pub fn revoked(mut self, time: SystemTime, reason: CrlReason) -> Self {
        self.status = rfc6960::CertStatus::Revoked(RevokedInfo {
            revocation_time: OcspTime::from_system_time(time).expect("time in range"),
            revocation_reason: Some(reason),
        });
        self
    }

    /// Signed by the issuer itself (`intermediate`, named by subject, no certificates).
    pub fn issuer_signed(mut self) -> Self {
        self.signer = "intermediate".into();
        self.responder_id = ResponderIdKind::ByName;
        self.certs.clear();
        self
    }

    /// The DER of the OCSPResponse.
    pub fn build(&self) -> Vec<u8> {
        let signer_cert = fixture_cert(&self.signer);
        let responder_id = match self.responder_id {
            ResponderIdKind::ByKey => {
                ResponderId::ByKey(OctetString::new(key_hash(&signer_cert)).unwrap())
            }
            ResponderIdKind::ByName => {
                ResponderId::ByName(signer_cert.cert().tbs_certificate().subject().clone())
            }
        };
        let time = |t: SystemTime| OcspTime::from_system_time(t).expect("time in range");
        let data = ResponseData {
            version: None,
            responder_id,
            produced_at: time(self.produced_at),
            responses: vec![SingleResponse {
                cert_id: self.cert_id.clone(),
                cert_status: self.status.clone(),
                this_update: time(self.this_update),
                next_update: self.next_update.map(time),
                single_extensions: None,
            }],
            response_extensions: self
                .nonce
                .as_ref()
                .map(|n| vec![nonce_extension(n).unwrap()]),
        };
        let tbs = data.to_der().unwrap();
        let (signature_algorithm, signature) = sign_as(&self.signer, &tbs);
        let certs = (!self.certs.is_empty()).then(|| {
            self.certs
                .iter()
                .map(|c| c.cert().clone())
                .collect::<Vec<_>>()
        });
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm,
            signature: BitString::from_bytes(&signature).unwrap(),
            certs,
        };
        OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: oid::OCSP_BASIC,
                response: OctetString::new(basic.to_der().unwrap()).unwrap(),
            }),
        }
        .to_der()
        .unwrap()
    }
}

/// An OCSPResponse with a non-successful status and no body (`tryLater`...).
pub fn ocsp_error_response(status: OcspResponseStatus) -> Vec<u8> {
    OcspResponse {
        response_status: status,
        response_bytes: None,
    }
    .to_der()
    .unwrap()
}

/// A CRL (v2, CRL number 1) signed by the fixture `issuer` (`intermediate` or `root`)
/// listing `revoked` (certificate, time, reason).
pub fn build_crl(
    issuer: &str,
    revoked: &[(ChainCert, SystemTime, CrlReason)],
    this_update: SystemTime,
    next_update: Option<SystemTime>,
) -> Vec<u8> {
    let issuer_cert = fixture_cert(issuer);
    let (alg, _) = sign_as(issuer, b"probe");
    let time = |t: SystemTime| Time::UtcTime(der::asn1::UtcTime::from_system_time(t).unwrap());
    let entries: Vec<RevokedCert> = revoked
        .iter()
        .map(|(cert, at, reason)| RevokedCert {
            serial_number: cert.cert().tbs_certificate().serial_number().clone(),
            revocation_date: time(*at),
            crl_entry_extensions: Some(vec![Extension {
                extn_id: oid::CE_CRL_REASONS,
                critical: false,
                extn_value: OctetString::new(reason.to_der().unwrap()).unwrap(),
            }]),
        })
        .collect();
    let crl_number = der::asn1::Uint::new(&[1]).unwrap().to_der().unwrap();
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: alg.clone(),
        issuer: issuer_cert.cert().tbs_certificate().subject().clone(),
        this_update: time(this_update),
        next_update: next_update.map(time),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(vec![Extension {
            extn_id: oid::CE_CRL_NUMBER,
            critical: false,
            extn_value: OctetString::new(crl_number).unwrap(),
        }]),
    };
    let tbs_der = tbs.to_der().unwrap();
    let (_, signature) = sign_as(issuer, &tbs_der);
    CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&signature).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// RFC 5280 TBSCertificate, for re-issuing fixture certificates with other extensions
/// (x509-cert 0.3 keeps its fields private).
#[derive(Sequence)]
struct TbsCertificate {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: x509_cert::Version,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

#[derive(Sequence)]
struct Certificate {
    tbs_certificate: TbsCertificate,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// The fixture certificate `name` (issued by `intermediate`) re-issued by
/// `intermediate` with the same serial and key, and with an AIA extension naming
/// `ocsp_url` / `ca_issuers_url` and a CRL distribution point `crl_url` (each when
/// given) — the fixture certificates carry no URLs.
pub fn reissue_with_urls(
    name: &str,
    ocsp_url: Option<&str>,
    ca_issuers_url: Option<&str>,
    crl_url: Option<&str>,
) -> ChainCert {
    let original = fixture_cert(name);
    let tbs = original.cert().tbs_certificate();
    let uri = |u: &str| GeneralName::UniformResourceIdentifier(Ia5String::new(u).unwrap());
    let mut extensions: Vec<Extension> = tbs
        .extensions()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.extn_id != oid::PE_AIA && e.extn_id != oid::CE_CRL_DISTRIBUTION_POINTS)
        .collect();
    let mut access = Vec::new();
    if let Some(u) = ocsp_url {
        access.push(AccessDescription {
            access_method: oid::AD_OCSP,
            access_location: uri(u),
        });
    }
    if let Some(u) = ca_issuers_url {
        access.push(AccessDescription {
            access_method: oid::AD_CA_ISSUERS,
            access_location: uri(u),
        });
    }
    if !access.is_empty() {
        extensions.push(Extension {
            extn_id: oid::PE_AIA,
            critical: false,
            extn_value: OctetString::new(AuthorityInfoAccessSyntax(access).to_der().unwrap())
                .unwrap(),
        });
    }
    if let Some(u) = crl_url {
        let dp = CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(vec![uri(u)])),
            reasons: None,
            crl_issuer: None,
        }]);
        extensions.push(Extension {
            extn_id: oid::CE_CRL_DISTRIBUTION_POINTS,
            critical: false,
            extn_value: OctetString::new(dp.to_der().unwrap()).unwrap(),
        });
    }
    let new_tbs = TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: tbs.serial_number().clone(),
        signature: tbs.signature().clone(),
        issuer: tbs.issuer().clone(),
        validity: *tbs.validity(),
        subject: tbs.subject().clone(),
        subject_public_key_info: tbs.subject_public_key_info().clone(),
        extensions: Some(extensions),
    };
    let tbs_der = new_tbs.to_der().unwrap();
    let (alg, signature) = sign_as("intermediate", &tbs_der);
    assert_eq!(
        alg,
        *tbs.signature(),
        "intermediate signs with the fixtures' algorithm"
    );
    let der = Certificate {
        tbs_certificate: new_tbs,
        signature_algorithm: alg,
        signature: BitString::from_bytes(&signature).unwrap(),
    }
    .to_der()
    .unwrap();
    ChainCert::from_der(&der).unwrap()
}

/// What [`InProcessRevocation::check`] returns for certificates issued by `intermediate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// An OCSP response from the delegated responder (default).
    Ocsp,
    /// An OCSP response signed by `intermediate` itself.
    IssuerSignedOcsp,
    /// The intermediate's CRL.
    Crl,
    /// Both the delegated responder's OCSP response and the CRL.
    Both,
}

/// A `RevocationSource` over the test PKI: no network, a frozen clock, call counting,
/// and an outage switch.
pub struct InProcessRevocation {
    clock: Arc<dyn Clock>,
    kind: EvidenceKind,
    checks: AtomicUsize,
    issuer_fetches: AtomicUsize,
    down: AtomicBool,
}

impl std::fmt::Debug for InProcessRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessRevocation")
            .field("now", &self.clock.now())
            .field("kind", &self.kind)
            .field("checks", &self.checks())
            .field("down", &self.down.load(Ordering::Relaxed))
            .finish()
    }
}

impl Default for InProcessRevocation {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcessRevocation {
    /// OCSP evidence at [`FROZEN_NOW_UNIX`].
    pub fn new() -> Self {
        Self {
            clock: Arc::new(frozen_clock()),
            kind: EvidenceKind::Ocsp,
            checks: AtomicUsize::new(0),
            issuer_fetches: AtomicUsize::new(0),
            down: AtomicBool::new(false),
        }
    }

    /// Uses another clock (responses are dated at its `now`).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Chooses the evidence for certificates issued by `intermediate`.
    pub fn with_evidence(mut self, kind: EvidenceKind) -> Self {
        self.kind = kind;
        self
    }

    /// The clock the responses are dated by.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Simulates an outage: every call fails with `Unreachable` while `down`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }

    /// How many times `check` was called.
    pub fn checks(&self) -> usize {
        self.checks.load(Ordering::Relaxed)
    }

    /// How many times `fetch_issuer` was called.
    pub fn issuer_fetches(&self) -> usize {
        self.issuer_fetches.load(Ordering::Relaxed)
    }

    /// Revocation status by serial for certificates issued by `intermediate`.
    fn status_of(serial: &[u8]) -> rfc6960::CertStatus {
        let revoked = fixture_cert("signer-revoked");
        if revoked.cert().tbs_certificate().serial_number().as_bytes() == serial {
            rfc6960::CertStatus::Revoked(RevokedInfo {
                revocation_time: OcspTime::from_system_time(revoked_at()).unwrap(),
                revocation_reason: Some(CrlReason::KeyCompromise),
            })
        } else {
            rfc6960::CertStatus::Good(Null)
        }
    }

    /// The delegated responder's OCSPResponse for `cert` (issued by `intermediate`),
    /// SHA-1 CertID.
    pub fn ocsp_response_for(&self, cert: &ChainCert) -> Vec<u8> {
        let id = shomei_revocation::ocsp::cert_id(
            cert,
            &fixture_cert("intermediate"),
            shomei_revocation::CertIdHash::Sha1,
        )
        .unwrap();
        self.spec_for(id).build()
    }

    fn spec_for(&self, id: CertId) -> OcspResponseSpec {
        let mut spec = OcspResponseSpec::good(id.clone(), self.clock.now());
        spec.status = Self::status_of(id.serial_number.as_bytes());
        if self.kind == EvidenceKind::IssuerSignedOcsp {
            spec = spec.issuer_signed();
        }
        spec
    }

    /// Answers a DER OCSPRequest as an HTTP responder would (echoing its nonce).
    /// Certificates not issued by `intermediate` get `unknown`; a request that does not
    /// decode gets `malformedRequest`.
    pub fn respond(&self, request_der: &[u8]) -> Vec<u8> {
        let Ok(request) = rfc6960::OcspRequest::from_der(request_der) else {
            return ocsp_error_response(OcspResponseStatus::MalformedRequest);
        };
        let Some(first) = request.tbs_request.request_list.first() else {
            return ocsp_error_response(OcspResponseStatus::MalformedRequest);
        };
        let id = first.req_cert.clone();
        let mut spec = self.spec_for(id.clone());
        let intermediate = fixture_cert("intermediate");
        let ours = [
            shomei_revocation::CertIdHash::Sha1.oid(),
            shomei_revocation::CertIdHash::Sha256.oid(),
        ]
        .contains(&id.hash_algorithm.oid);
        let sha1_key = key_hash(&intermediate);
        let sha256_key = Digest::compute(DigestAlgorithm::Sha256, intermediate.public_key_bits());
        let key_matches = id.issuer_key_hash.as_bytes() == sha1_key.as_slice()
            || id.issuer_key_hash.as_bytes() == sha256_key.as_bytes();
        if !ours || !key_matches {
            spec.status = rfc6960::CertStatus::Unknown(Null);
        }
        spec.nonce = request
            .tbs_request
            .request_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid::OCSP_NONCE)
            .and_then(|e| OctetString::from_der(e.extn_value.as_bytes()).ok())
            .map(|o| o.as_bytes().to_vec());
        spec.build()
    }

    /// The CRL of `issuer` (`intermediate`: lists `signer-revoked`; `root`: empty),
    /// thisUpdate one hour before now, valid [`CRL_VALIDITY`].
    pub fn crl(&self, issuer: &str) -> Vec<u8> {
        let now = self.clock.now();
        let revoked = if issuer == "intermediate" {
            vec![(
                fixture_cert("signer-revoked"),
                revoked_at(),
                CrlReason::KeyCompromise,
            )]
        } else {
            Vec::new()
        };
        build_crl(
            issuer,
            &revoked,
            now - Duration::from_secs(3600),
            Some(now + CRL_VALIDITY),
        )
    }

    fn unreachable(what: &str) -> RevocationError {
        RevocationError::Unreachable {
            url: format!("in-process://{what}"),
            message: "the in-process revocation service is down".into(),
        }
    }
}

fn revoked_at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(REVOKED_AT_UNIX)
}

fn status_of_evidence(status: &rfc6960::CertStatus) -> CertStatus {
    match status {
        rfc6960::CertStatus::Good(_) => CertStatus::Good,
        rfc6960::CertStatus::Revoked(info) => CertStatus::Revoked {
            time: info.revocation_time.to_system_time(),
            reason: info.revocation_reason.map(|r| r.name().to_string()),
        },
        rfc6960::CertStatus::Unknown(_) => CertStatus::Unknown,
    }
}

#[async_trait]
impl RevocationSource for InProcessRevocation {
    async fn check(
        &self,
        cert: &ChainCert,
        issuer: &ChainCert,
    ) -> Result<RevocationEvidence, RevocationError> {
        self.checks.fetch_add(1, Ordering::Relaxed);
        if self.down.load(Ordering::Relaxed) {
            return Err(Self::unreachable("ocsp"));
        }
        let subject = |c: &ChainCert| c.cert().tbs_certificate().subject().clone();
        if subject(issuer) == subject(&fixture_cert("root")) {
            // root-issued certificates (intermediate, tsa) are covered by the root's CRL
            return Ok(RevocationEvidence::new(CertStatus::Good).with_crl(self.crl("root")));
        }
        if subject(issuer) != subject(&fixture_cert("intermediate")) {
            return Err(RevocationError::NoSource {
                subject: cert.subject(),
            });
        }
        let serial = cert
            .cert()
            .tbs_certificate()
            .serial_number()
            .as_bytes()
            .to_vec();
        let status = status_of_evidence(&Self::status_of(&serial));
        let mut evidence = RevocationEvidence::new(status);
        if matches!(
            self.kind,
            EvidenceKind::Ocsp | EvidenceKind::IssuerSignedOcsp | EvidenceKind::Both
        ) {
            evidence = evidence.with_ocsp_response(self.ocsp_response_for(cert));
            if self.kind != EvidenceKind::IssuerSignedOcsp {
                evidence = evidence.with_extra_certs([fixture_cert("ocsp-responder")]);
            }
        }
        if matches!(self.kind, EvidenceKind::Crl | EvidenceKind::Both) {
            evidence = evidence.with_crl(self.crl("intermediate"));
        }
        Ok(evidence)
    }

    async fn fetch_issuer(&self, cert: &ChainCert) -> Result<Option<ChainCert>, RevocationError> {
        self.issuer_fetches.fetch_add(1, Ordering::Relaxed);
        if self.down.load(Ordering::Relaxed) {
            return Err(Self::unreachable("ca-issuers"));
        }
        if shomei_revocation::is_self_signed(cert) {
            return Ok(None);
        }
        let wanted = cert.cert().tbs_certificate().issuer();
        Ok(["intermediate", "root"]
            .into_iter()
            .map(fixture_cert)
            .find(|c| c.cert().tbs_certificate().subject() == wanted))
    }
}
