//! In-process RFC 3161 time-stamping authority over the test PKI: real, verifiable
//! tokens signed with `fixtures/pki/tsa.key.pem` at a frozen time, and no network.
//!
//! [`InProcessTsa`] implements shomei-tsp's [`TimestampAuthority`] (for code that takes
//! a TSA) and shomei-core's [`HttpTransport`] (answering `application/timestamp-query`
//! POSTs, so [`shomei_tsp::HttpTsa`] can be tested end to end without a socket).
//! It counts requests and can be set down to simulate an outage.

use crate::signers::test_signer;
use async_trait::async_trait;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{Int, OctetString, SetOfVec, Uint};
use der::{Any, Decode, Encode};
use shomei_core::{
    CertificateChain, Clock, Digest, DigestAlgorithm, FixedClock, HttpMethod, HttpRequest,
    HttpResponse, HttpTransport, KeyKind, SignatureAlgorithm, TransportError,
};
use shomei_keys::SoftwareSigner;
use shomei_tsp::ess::{EssCertIdV2, IssuerSerial, SigningCertificateV2};
use shomei_tsp::rfc3161::{
    oid, Accuracy, GenTime, MessageImprint, PkiFailureInfo, PkiStatus, PkiStatusInfo, TimeStampReq,
    TimeStampResp, TstInfo, TIMESTAMP_QUERY, TIMESTAMP_REPLY,
};
use shomei_tsp::{TimestampAuthority, TimestampToken, TspError};
use spki::AlgorithmIdentifierOwned;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

/// The policy of the in-process TSA's tokens (a placeholder OID, meaningless outside
/// tests).
pub const TEST_TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.3.4.3161");

/// The frozen time of [`InProcessTsa::new`]: 2026-03-02T09:00:00Z, inside the test
/// PKI's validity (2025–2045).
pub const TEST_TSA_TIME_UNIX: u64 = 1_772_442_000;

/// The URL [`InProcessTsa`] reports in transport errors and answers on as an
/// [`HttpTransport`] (any URL is answered).
pub const IN_PROCESS_TSA_URL: &str = "http://in-process-tsa.invalid/tsa";

/// An RFC 3161 TSA living in the test process.
///
/// Tokens: SignedData v3 over a DER TSTInfo (policy [`TEST_TSA_POLICY`], serials 1, 2,
/// 3…, genTime from the clock, accuracy 1 s, the nonce echoed), signed attributes
/// content-type, message-digest and ESS signing-certificate-v2, signed with SHA-256
/// (PKCS #1 v1.5 for RSA keys, ECDSA otherwise), with the TSA certificate and its
/// chain embedded (unless a request says certReq false).
pub struct InProcessTsa {
    signer: SoftwareSigner,
    clock: Arc<dyn Clock>,
    serial: AtomicU64,
    requests: AtomicU64,
    down: AtomicBool,
}

impl std::fmt::Debug for InProcessTsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessTsa")
            .field("tsa", &self.signer.chain().signing_cert().subject())
            .field("requests", &self.request_count())
            .field("down", &self.down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Default for InProcessTsa {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcessTsa {
    /// The test PKI's TSA (`fixtures/pki/tsa.*` + `chain.pem`), frozen at
    /// [`TEST_TSA_TIME_UNIX`].
    pub fn new() -> Self {
        Self::at(FixedClock::at_unix(TEST_TSA_TIME_UNIX).0)
    }

    /// The test PKI's TSA, frozen at `time`.
    pub fn at(time: SystemTime) -> Self {
        Self::with_identity(test_signer("tsa"), Arc::new(FixedClock(time)))
    }

    /// A TSA signing with any identity and clock. With a certificate that is not a
    /// time-stamping certificate (e.g. `test_signer("signer-rsa")`) it makes tokens
    /// that [`TimestampToken::verify`] must refuse.
    pub fn with_identity(signer: SoftwareSigner, clock: Arc<dyn Clock>) -> Self {
        Self {
            signer,
            clock,
            serial: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            down: AtomicBool::new(false),
        }
    }

    /// Requests received (through either trait), including refused ones and those
    /// made while down.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// While down, every request fails as unreachable.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::Relaxed);
    }

    /// The TSA certificate followed by its issuers.
    pub fn chain(&self) -> &CertificateChain {
        self.signer.chain()
    }

    fn unreachable(&self) -> Option<TransportError> {
        self.down
            .load(Ordering::Relaxed)
            .then(|| TransportError::Unreachable {
                url: IN_PROCESS_TSA_URL.into(),
                message: "the in-process TSA is set down for this test".into(),
            })
    }

    /// Issues a token for `imprint` (DER `ContentInfo`), without counting a request.
    pub fn issue(&self, imprint: &Digest, nonce: Option<Int>, cert_req: bool) -> Vec<u8> {
        let chain = self.signer.chain();
        let cert = chain.signing_cert();
        let tbs = cert.cert().tbs_certificate();
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        let tst = TstInfo {
            version: 1,
            policy: TEST_TSA_POLICY,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: imprint.algorithm().oid(),
                    parameters: None,
                },
                hashed_message: OctetString::new(imprint.as_bytes()).unwrap(),
            },
            serial_number: Int::from(Uint::new(&serial.to_be_bytes()).unwrap()),
            gen_time: GenTime::new(self.clock.now()),
            accuracy: Some(Accuracy {
                seconds: Some(1),
                millis: None,
                micros: None,
            }),
            ordering: false,
            nonce,
            tsa: Some(GeneralName::DirectoryName(tbs.subject().clone())),
            extensions: None,
        };
        let tst_der = tst.to_der().unwrap();
        let alg = match self.signer.key_kind() {
            KeyKind::Rsa { .. } => SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
            _ => SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
        };
        let digest_alg = AlgorithmIdentifierOwned {
            oid: alg.digest().oid(),
            parameters: None,
        };
        let ess = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(
                    Digest::compute(DigestAlgorithm::Sha256, cert.der()).as_bytes(),
                )
                .unwrap(),
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                    serial_number: tbs.serial_number().clone(),
                }),
            }],
            policies: None,
        };
        let mut attrs = SetOfVec::new();
        attrs
            .insert(attribute(oid::ID_CONTENT_TYPE, &oid::ID_CT_TST_INFO))
            .unwrap();
        attrs
            .insert(attribute(
                oid::ID_MESSAGE_DIGEST,
                &OctetString::new(Digest::compute(alg.digest(), &tst_der).as_bytes()).unwrap(),
            ))
            .unwrap();
        attrs
            .insert(attribute(oid::ID_AA_SIGNING_CERTIFICATE_V2, &ess))
            .unwrap();
        let to_sign = Digest::compute(alg.digest(), &attrs.to_der().unwrap());
        let signature = self
            .signer
            .sign_digests_blocking(alg, &[to_sign])
            .unwrap()
            .pop()
            .and_then(|v| v.to_cms())
            .unwrap();
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: digest_alg.clone(),
            signed_attrs: Some(attrs),
            signature_algorithm: alg.algorithm_identifier(),
            signature: OctetString::new(signature).unwrap(),
            unsigned_attrs: None,
        };
        let certificates = cert_req.then(|| {
            let certs: Vec<_> = chain
                .certs()
                .iter()
                .map(|c| CertificateChoices::Certificate(c.cert().clone()))
                .collect();
            CertificateSet::try_from(certs).unwrap()
        });
        let signed_data = SignedData {
            // RFC 5652 5.1: version 3 when eContentType is not id-data.
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![digest_alg]).unwrap(),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: oid::ID_CT_TST_INFO,
                econtent: Some(Any::encode_from(&OctetString::new(tst_der).unwrap()).unwrap()),
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info]).unwrap(),
        };
        ContentInfo {
            content_type: oid::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    /// Answers a DER `TimeStampReq` with a DER `TimeStampResp`, as a TSA would:
    /// rejection with badDataFormat for an unreadable request, badAlg for a hash other
    /// than SHA-256/384/512, unacceptedPolicy for a policy other than
    /// [`TEST_TSA_POLICY`]; otherwise granted. Counts a request.
    pub fn respond(&self, request_der: &[u8]) -> Vec<u8> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let refuse = |bit: u8, text: &str| TimeStampResp {
            status: PkiStatusInfo {
                status: PkiStatus::Rejection,
                status_string: Some(vec![text.to_string()]),
                fail_info: Some(PkiFailureInfo::from_bits(&[bit])),
            },
            time_stamp_token: None,
        };
        let resp = match TimeStampReq::from_der(request_der) {
            Err(e) => refuse(
                PkiFailureInfo::BAD_DATA_FORMAT,
                &format!("unreadable request: {e}"),
            ),
            Ok(req) => {
                let mi = &req.message_imprint;
                let imprint = DigestAlgorithm::from_oid(&mi.hash_algorithm.oid)
                    .and_then(|a| Digest::new(a, mi.hashed_message.as_bytes().to_vec()));
                match imprint {
                    None => refuse(PkiFailureInfo::BAD_ALG, "unsupported hash algorithm"),
                    Some(_) if req.req_policy.is_some_and(|p| p != TEST_TSA_POLICY) => {
                        refuse(PkiFailureInfo::UNACCEPTED_POLICY, "unsupported policy")
                    }
                    Some(imprint) => {
                        let token = self.issue(&imprint, req.nonce, req.cert_req);
                        TimeStampResp {
                            status: PkiStatusInfo {
                                status: PkiStatus::Granted,
                                status_string: None,
                                fail_info: None,
                            },
                            time_stamp_token: Some(Any::from_der(&token).unwrap()),
                        }
                    }
                }
            }
        };
        resp.to_der().unwrap()
    }
}

/// A signed attribute with one value.
fn attribute<T: der::EncodeValue + der::Tagged>(oid: ObjectIdentifier, value: &T) -> Attribute {
    Attribute {
        oid,
        values: SetOfVec::try_from(vec![Any::encode_from(value).unwrap()]).unwrap(),
    }
}

#[async_trait]
impl TimestampAuthority for InProcessTsa {
    async fn timestamp(&self, imprint: &Digest) -> Result<TimestampToken, TspError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(e) = self.unreachable() {
            return Err(TspError::Unreachable(e));
        }
        let token = TimestampToken::from_der(&self.issue(imprint, None, true))?;
        token.verify(imprint)?;
        Ok(token)
    }

    /// The in-process tokens are about 4.5 KiB (three RSA certificates); the
    /// same estimate as a real TSA before its first answer.
    fn expected_token_len(&self) -> usize {
        shomei_tsp::DEFAULT_TOKEN_ESTIMATE
    }
}

#[async_trait]
impl HttpTransport for InProcessTsa {
    /// Answers any POST of an `application/timestamp-query`; 415 for another content
    /// type, 405 for GET.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        if let Some(e) = self.unreachable() {
            self.requests.fetch_add(1, Ordering::Relaxed);
            return Err(e);
        }
        if request.method != HttpMethod::Post {
            self.requests.fetch_add(1, Ordering::Relaxed);
            return Ok(HttpResponse::new(405, None, Vec::new()));
        }
        if request.content_type.as_deref() != Some(TIMESTAMP_QUERY) {
            self.requests.fetch_add(1, Ordering::Relaxed);
            return Ok(HttpResponse::new(415, None, Vec::new()));
        }
        Ok(HttpResponse::new(
            200,
            Some(TIMESTAMP_REPLY.to_string()),
            self.respond(&request.body),
        ))
    }
}
