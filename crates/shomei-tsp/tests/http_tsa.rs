//! `HttpTsa` over injected transports: the in-process TSA answering HTTP, and canned
//! answers for every way a TSA can fail.

// Helpers outside #[test] functions unwrap too (clippy.toml covers test bodies only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use async_trait::async_trait;
use der::{Decode, Encode};
use shomei_core::{
    Digest, DigestAlgorithm, HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError,
};
use shomei_test_support::tsa::{InProcessTsa, TEST_TSA_POLICY};
use shomei_tsp::rfc3161::{
    PkiFailureInfo, PkiStatus, PkiStatusInfo, TimeStampReq, TimeStampResp, TIMESTAMP_QUERY,
    TIMESTAMP_REPLY,
};
use shomei_tsp::{
    HttpTsa, HttpTsaConfig, TimestampAuthority, TsaAuth, TspError, DEFAULT_TOKEN_ESTIMATE,
};
use std::sync::{Arc, Mutex};

const URL: &str = "http://tsa.test/rfc3161";

fn imprint(data: &[u8]) -> Digest {
    Digest::compute(DigestAlgorithm::Sha256, data)
}

/// Answers every request with the same canned response and keeps the requests.
struct Canned {
    status: u16,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    seen: Mutex<Vec<HttpRequest>>,
}

impl Canned {
    fn new(status: u16, content_type: Option<&'static str>, body: Vec<u8>) -> Arc<Self> {
        Arc::new(Self {
            status,
            content_type,
            body,
            seen: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl HttpTransport for Canned {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.seen.lock().unwrap().push(request);
        Ok(HttpResponse::new(
            self.status,
            self.content_type.map(str::to_string),
            self.body.clone(),
        ))
    }
}

/// Rewrites each request before the in-process TSA answers it: a TSA that does not
/// answer the question asked.
struct Rewriting {
    tsa: InProcessTsa,
    rewrite: fn(&mut TimeStampReq),
}

#[async_trait]
impl HttpTransport for Rewriting {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut req = TimeStampReq::from_der(&request.body).unwrap();
        (self.rewrite)(&mut req);
        let mut forged = request.clone();
        forged.body = req.to_der().unwrap();
        self.tsa.send(forged).await
    }
}

#[tokio::test]
async fn round_trip_through_the_http_code_path() {
    let tsa = Arc::new(InProcessTsa::new());
    let http = HttpTsa::new(tsa.clone(), HttpTsaConfig::new(URL));
    assert_eq!(http.expected_token_len(), DEFAULT_TOKEN_ESTIMATE);
    let data = imprint(b"document");
    let token = http.timestamp(&data).await.unwrap();
    token.verify(&data).unwrap();
    assert_eq!(tsa.request_count(), 1);
    let nonce = token.nonce().expect("nonce echoed");
    assert!(
        (8..=9).contains(&nonce.len()),
        "64-bit positive nonce: {nonce:?}"
    );
    assert_eq!(token.certificates().len(), 3, "certReq true by default");
    let learned = token.der().len() + token.der().len() / 10 + 256;
    assert_eq!(http.expected_token_len(), learned);

    // A second request has a fresh nonce.
    let second = http.timestamp(&data).await.unwrap();
    assert_ne!(second.nonce(), token.nonce());
    assert_eq!(tsa.request_count(), 2);
}

#[tokio::test]
async fn requests_are_rfc3161_queries_with_credentials() {
    let canned = Canned::new(500, None, Vec::new());
    let config = HttpTsaConfig::new(URL)
        .with_policy(TEST_TSA_POLICY)
        .with_auth(TsaAuth::basic("alice", "s3cret"));
    let http = HttpTsa::new(canned.clone(), config);
    let data = imprint(b"document");
    let _ = http.timestamp(&data).await;
    let seen = canned.seen.lock().unwrap();
    let request = seen.first().unwrap();
    assert_eq!(request.method, HttpMethod::Post);
    assert_eq!(request.url, URL);
    assert_eq!(request.content_type.as_deref(), Some(TIMESTAMP_QUERY));
    assert_eq!(
        request.authorization.as_ref().map(|a| a.as_str()),
        Some("Basic YWxpY2U6czNjcmV0")
    );
    let req = TimeStampReq::from_der(&request.body).unwrap();
    assert_eq!(req.version, 1);
    assert!(req.cert_req);
    assert!(req.nonce.is_some());
    assert_eq!(req.req_policy, Some(TEST_TSA_POLICY));
    assert_eq!(
        req.message_imprint.hashed_message.as_bytes(),
        data.as_bytes()
    );
    assert_eq!(
        req.message_imprint.hash_algorithm.oid,
        data.algorithm().oid()
    );
    assert!(!format!("{http:?}").contains("s3cret"));
}

#[tokio::test]
async fn http_errors_are_reported_with_status_and_url() {
    let http = HttpTsa::new(
        Canned::new(500, Some("text/html"), b"<h1>oops</h1>".to_vec()),
        HttpTsaConfig::new(URL),
    );
    let err = http.timestamp(&imprint(b"d")).await.unwrap_err();
    assert!(matches!(err, TspError::Http { status: 500, .. }), "{err}");
    assert!(err.to_string().contains(URL), "{err}");
    assert_eq!(http.expected_token_len(), DEFAULT_TOKEN_ESTIMATE);
}

#[tokio::test]
async fn a_rejection_carries_status_text_and_failure_info() {
    let resp = TimeStampResp {
        status: PkiStatusInfo {
            status: PkiStatus::Rejection,
            status_string: Some(vec!["quota exceeded".into()]),
            fail_info: Some(PkiFailureInfo::from_bits(&[PkiFailureInfo::SYSTEM_FAILURE])),
        },
        time_stamp_token: None,
    };
    let http = HttpTsa::new(
        Canned::new(200, Some(TIMESTAMP_REPLY), resp.to_der().unwrap()),
        HttpTsaConfig::new(URL),
    );
    let err = http.timestamp(&imprint(b"d")).await.unwrap_err();
    match &err {
        TspError::Refused {
            status,
            text,
            failure_info,
        } => {
            assert_eq!(*status, PkiStatus::Rejection);
            assert_eq!(text, &["quota exceeded"]);
            assert!(failure_info
                .unwrap()
                .contains(PkiFailureInfo::SYSTEM_FAILURE));
        }
        other => panic!("{other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("rejection")
            && msg.contains("systemFailure")
            && msg.contains("quota exceeded"),
        "{msg}"
    );
}

#[tokio::test]
async fn an_unaccepted_policy_is_refused_by_the_tsa() {
    let tsa = Arc::new(InProcessTsa::new());
    let config =
        HttpTsaConfig::new(URL).with_policy(const_oid::ObjectIdentifier::new_unwrap("1.2.3.4.999"));
    let err = HttpTsa::new(tsa, config)
        .timestamp(&imprint(b"d"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TspError::Refused { failure_info: Some(f), .. } if f.contains(PkiFailureInfo::UNACCEPTED_POLICY)),
        "{err}"
    );
}

#[tokio::test]
async fn wrong_content_type_and_garbage_are_bad_responses() {
    let good = InProcessTsa::new().respond(
        &TimeStampReq {
            version: 1,
            message_imprint: shomei_tsp::rfc3161::MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifierOwned {
                    oid: DigestAlgorithm::Sha256.oid(),
                    parameters: None,
                },
                hashed_message: der::asn1::OctetString::new(imprint(b"d").as_bytes()).unwrap(),
            },
            req_policy: None,
            nonce: None,
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .unwrap(),
    );
    let http = HttpTsa::new(
        Canned::new(200, Some("text/plain"), good),
        HttpTsaConfig::new(URL),
    );
    let err = http.timestamp(&imprint(b"d")).await.unwrap_err();
    assert!(matches!(err, TspError::BadResponse { .. }), "{err}");
    assert!(err.to_string().contains("text/plain"), "{err}");

    let http = HttpTsa::new(
        Canned::new(
            200,
            Some("application/timestamp-reply; charset=binary"),
            vec![0x30, 0x03, 0x02, 0x01],
        ),
        HttpTsaConfig::new(URL),
    );
    let err = http.timestamp(&imprint(b"d")).await.unwrap_err();
    assert!(matches!(err, TspError::BadResponse { .. }), "{err}");
    assert!(err.to_string().contains("at DER byte"), "{err}");
}

#[tokio::test]
async fn a_token_without_the_nonce_is_refused() {
    let transport = Rewriting {
        tsa: InProcessTsa::new(),
        rewrite: |req| req.nonce = None,
    };
    let http = HttpTsa::new(Arc::new(transport), HttpTsaConfig::new(URL));
    let err = http.timestamp(&imprint(b"d")).await.unwrap_err();
    assert!(matches!(err, TspError::NonceMismatch), "{err}");
}

#[tokio::test]
async fn a_token_with_another_nonce_is_refused() {
    let transport = Rewriting {
        tsa: InProcessTsa::new(),
        rewrite: |req| req.nonce = Some(der::asn1::Int::new(&[0x01, 0x02]).unwrap()),
    };
    let http = HttpTsa::new(Arc::new(transport), HttpTsaConfig::new(URL));
    let err = http.timestamp(&imprint(b"d")).await.unwrap_err();
    assert!(matches!(err, TspError::NonceMismatch), "{err}");
}

#[tokio::test]
async fn a_token_for_another_imprint_is_refused() {
    let transport = Rewriting {
        tsa: InProcessTsa::new(),
        rewrite: |req| {
            req.message_imprint.hashed_message =
                der::asn1::OctetString::new(imprint(b"something else").as_bytes()).unwrap();
        },
    };
    let http = HttpTsa::new(Arc::new(transport), HttpTsaConfig::new(URL));
    let err = http.timestamp(&imprint(b"d")).await.unwrap_err();
    assert!(matches!(err, TspError::ImprintMismatch), "{err}");
}

#[tokio::test]
async fn without_cert_req_the_tsa_certificate_must_be_configured() {
    let tsa = Arc::new(InProcessTsa::new());
    let data = imprint(b"d");
    let bare = HttpTsa::new(tsa.clone(), HttpTsaConfig::new(URL).with_cert_req(false));
    let err = bare.timestamp(&data).await.unwrap_err();
    assert!(
        matches!(err, TspError::BadToken(ref m) if m.contains("not in the token")),
        "{err}"
    );

    let config = HttpTsaConfig::new(URL)
        .with_cert_req(false)
        .with_tsa_certs(vec![tsa.chain().signing_cert().clone()]);
    let token = HttpTsa::new(tsa.clone(), config)
        .timestamp(&data)
        .await
        .unwrap();
    assert!(token.certificates().is_empty());
    assert!(token.signer_cert().is_none());
}

#[tokio::test]
async fn an_unreachable_tsa_is_a_transport_error_naming_the_url() {
    struct Refusing;
    #[async_trait]
    impl HttpTransport for Refusing {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
            Err(TransportError::Unreachable {
                url: request.url,
                message: "connection refused".into(),
            })
        }
    }
    let http = HttpTsa::new(Arc::new(Refusing), HttpTsaConfig::new(URL));
    let err = http.timestamp(&imprint(b"d")).await.unwrap_err();
    assert!(matches!(err, TspError::Unreachable(_)), "{err}");
    assert!(err.to_string().contains(URL), "{err}");

    let tsa = Arc::new(InProcessTsa::new());
    tsa.set_down(true);
    let err = HttpTsa::new(tsa.clone(), HttpTsaConfig::new(URL))
        .timestamp(&imprint(b"d"))
        .await
        .unwrap_err();
    assert!(matches!(err, TspError::Unreachable(_)), "{err}");
    assert_eq!(tsa.request_count(), 1);
}

#[tokio::test]
async fn a_closed_port_through_the_real_transport_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let transport = shomei_http::ReqwestTransport::new(std::time::Duration::from_secs(5)).unwrap();
    let url = format!("http://127.0.0.1:{port}/tsa");
    let err = HttpTsa::new(Arc::new(transport), HttpTsaConfig::new(url.clone()))
        .timestamp(&imprint(b"d"))
        .await
        .unwrap_err();
    assert!(matches!(err, TspError::Unreachable(_)), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}
