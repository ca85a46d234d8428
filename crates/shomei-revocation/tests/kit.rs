//! `OnlineRevocation` against the conformance kit's real certomancer OCSP responder and
//! CRL repository on loopback, through the production HTTP transport.
//!
//! Start the kit PKI and point `SHOMEI_KIT_ENV` at its env file, then run the ignored
//! tests (`.ci/run` does this):
//!
//! ```text
//! /work/shared/conformance/pki/pki-serve --port 9392
//! SHOMEI_KIT_ENV=${TMPDIR:-/tmp}/sig-conformance-0/pki-9392/env \
//!     cargo test -p shomei-revocation --test kit -- --ignored
//! /work/shared/conformance/pki/pki-stop --port 9392
//! ```
//!
//! When run without the variable, or with the kit down, these tests fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

use async_trait::async_trait;
use shomei_core::chain::{parse_certificates, ChainCert};
use shomei_core::{HttpRequest, HttpResponse, HttpTransport, SystemClock, TransportError};
use shomei_http::ReqwestTransport;
use shomei_revocation::{
    complete_chain, gather_for_chain, CertIdHash, CertStatus, OcspClient, OnlineRevocation,
    RevocationError, RevocationSource,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// 2025-01-01T00:00:00Z, when the kit's signer-revoked was revoked.
const KIT_REVOKED_AT: u64 = 1_735_689_600;

struct Kit {
    vars: HashMap<String, String>,
}

impl Kit {
    fn load() -> Self {
        let path = std::env::var("SHOMEI_KIT_ENV").unwrap_or_else(|_| {
            panic!(
                "SHOMEI_KIT_ENV is not set: start the kit PKI with \
                 /work/shared/conformance/pki/pki-serve --port 9392 and set \
                 SHOMEI_KIT_ENV=${{TMPDIR:-/tmp}}/sig-conformance-0/pki-9392/env"
            )
        });
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the kit env file {path}: {e}"));
        let vars = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Self { vars }
    }

    fn var(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from the kit env file"))
    }

    fn cert(&self, key: &str) -> ChainCert {
        let path = self.var(key);
        let pem = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse_certificates(&pem).unwrap().remove(0)
    }

    /// signer, interm, root.
    fn chain(&self, signer_key: &str) -> Vec<ChainCert> {
        let mut chain = vec![self.cert(signer_key)];
        let pem = std::fs::read(self.var("CHAIN")).unwrap();
        chain.extend(parse_certificates(&pem).unwrap());
        chain
    }
}

/// The production transport, counting requests and optionally refusing OCSP URLs.
struct Counting {
    inner: ReqwestTransport,
    requests: AtomicUsize,
    refuse_ocsp: bool,
}

impl Counting {
    fn new(refuse_ocsp: bool) -> Arc<Self> {
        Arc::new(Self {
            inner: ReqwestTransport::new(Duration::from_secs(20)).unwrap(),
            requests: AtomicUsize::new(0),
            refuse_ocsp,
        })
    }
}

#[async_trait]
impl HttpTransport for Counting {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if self.refuse_ocsp && request.url.contains("/ocsp/") {
            return Err(TransportError::Unreachable {
                url: request.url,
                message: "OCSP switched off by the test".into(),
            });
        }
        self.inner.send(request).await
    }
}

fn online(t: &Arc<Counting>) -> OnlineRevocation {
    OnlineRevocation::new(t.clone(), Arc::new(SystemClock))
}

#[tokio::test]
#[ignore = "needs the kit PKI: .ci/run runs it"]
async fn kit_ocsp_good_with_nonce_echo_and_delegated_responder() {
    let kit = Kit::load();
    let chain = kit.chain("SIGNER_RSA_CERT");
    let t = Counting::new(false);
    let ev = online(&t).check(&chain[0], &chain[1]).await.unwrap();
    assert_eq!(ev.status, CertStatus::Good);
    assert_eq!(ev.ocsp_responses.len(), 1);
    assert!(ev.crls.is_empty());
    assert_eq!(ev.extra_certs.len(), 1);
    assert!(
        ev.extra_certs[0]
            .subject()
            .contains("Kit Test OCSP Responder"),
        "{}",
        ev.extra_certs[0].subject()
    );

    // certomancer echoes nonces and writes fractional seconds; insist on the echo
    let client = OcspClient::new(t.clone(), Arc::new(SystemClock)).require_nonce(true);
    let r = client.check(&chain[0], &chain[1]).await.unwrap();
    assert_eq!(r.status, CertStatus::Good);
    assert!(r.responder_nocheck);
    assert!(r.next_update.is_some());
}

#[tokio::test]
#[ignore = "needs the kit PKI: .ci/run runs it"]
async fn kit_ocsp_revoked_and_sha256_cert_id() {
    let kit = Kit::load();
    let chain = kit.chain("SIGNER_REVOKED_CERT");
    let t = Counting::new(false);
    for hash in [CertIdHash::Sha1, CertIdHash::Sha256] {
        let ev = online(&t)
            .with_cert_id_hash(hash)
            .check(&chain[0], &chain[1])
            .await
            .unwrap();
        assert_eq!(
            ev.status,
            CertStatus::Revoked {
                time: UNIX_EPOCH + Duration::from_secs(KIT_REVOKED_AT),
                reason: Some("keyCompromise".into())
            },
            "{hash:?}"
        );
    }
}

#[tokio::test]
#[ignore = "needs the kit PKI: .ci/run runs it"]
async fn kit_crl_fallback_when_ocsp_is_down() {
    let kit = Kit::load();
    let t = Counting::new(true);
    let source = online(&t);
    let revoked = kit.chain("SIGNER_REVOKED_CERT");
    let ev = source.check(&revoked[0], &revoked[1]).await.unwrap();
    assert!(
        matches!(&ev.status, CertStatus::Revoked { time, reason: Some(r) }
            if *time == UNIX_EPOCH + Duration::from_secs(KIT_REVOKED_AT) && r == "keyCompromise"),
        "{:?}",
        ev.status
    );
    assert_eq!(ev.crls.len(), 1);
    assert!(ev.ocsp_responses.is_empty());
    let good = kit.chain("SIGNER_EC_CERT");
    let ev = source.check(&good[0], &good[1]).await.unwrap();
    assert_eq!(ev.status, CertStatus::Good);
    // OCSP tried twice (refused), the interm CRL downloaded once
    assert_eq!(t.requests.load(Ordering::Relaxed), 3);
}

#[tokio::test]
#[ignore = "needs the kit PKI: .ci/run runs it"]
async fn kit_each_certificate_costs_one_request() {
    let kit = Kit::load();
    let chain = kit.chain("SIGNER_EC_CERT");
    let t = Counting::new(false);
    let source = online(&t);
    let a = source.check(&chain[0], &chain[1]).await.unwrap();
    let b = source.check(&chain[0], &chain[1]).await.unwrap();
    assert_eq!(a.ocsp_responses, b.ocsp_responses);
    assert_eq!(t.requests.load(Ordering::Relaxed), 1);
}

#[tokio::test]
#[ignore = "needs the kit PKI: .ci/run runs it"]
async fn kit_gather_for_chain() {
    let kit = Kit::load();
    let t = Counting::new(false);
    let source = online(&t);
    let chain = kit.chain("SIGNER_RSA_CERT");
    // the kit's certificates have no caIssuers URL: the chain stays as given
    let completed = complete_chain(&source, &chain[..1], 5).await.unwrap();
    assert_eq!(completed, chain[..1].to_vec());

    let ev = gather_for_chain(&source, &chain, &SystemClock)
        .await
        .unwrap();
    assert_eq!(ev.len(), 2, "signer (OCSP) and interm (root CRL)");
    assert_eq!(ev[0].ocsp_responses.len(), 1);
    assert_eq!(ev[1].crls.len(), 1);
    assert!(ev.iter().all(|e| e.status == CertStatus::Good));

    let revoked = kit.chain("SIGNER_REVOKED_CERT");
    let err = gather_for_chain(&source, &revoked, &SystemClock)
        .await
        .unwrap_err();
    assert!(matches!(err, RevocationError::Revoked { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("Mallory Revoked"), "{msg}");
    assert!(msg.contains("2025-01-01T00:00:00Z"), "{msg}");
    assert!(msg.contains("keyCompromise"), "{msg}");
}
