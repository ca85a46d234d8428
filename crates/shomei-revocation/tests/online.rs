//! `OnlineRevocation`, `complete_chain` and `gather_for_chain` over a scripted transport
//! that answers like an OCSP responder, CRL repository and certificate repository of the
//! test PKI (shomei-test-support's in-process services behind fake URLs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

mod common;

use common::{ok, unreachable, FakeTransport};
use shomei_core::chain::ChainCert;
use shomei_core::{FixedClock, HttpMethod, HttpResponse};
use shomei_revocation::ocsp::cert_id;
use shomei_revocation::rfc6960;
use shomei_revocation::{
    complete_chain, gather_for_chain, CertIdHash, CertStatus, OnlineRevocation, RevocationError,
    RevocationSource,
};
use shomei_test_support::ocsp_responder::{
    fixture_cert, frozen_clock, reissue_with_urls, InProcessRevocation, OcspResponseSpec,
    FROZEN_NOW_UNIX,
};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const OCSP: &str = "http://ocsp.test/intermediate";
const CRL: &str = "http://crl.test/intermediate.crl";
const CA: &str = "http://ca.test/intermediate.crt";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(FROZEN_NOW_UNIX)
}

/// `name` re-issued with OCSP, caIssuers and CRL URLs.
fn with_urls(name: &str) -> ChainCert {
    reissue_with_urls(name, Some(OCSP), Some(CA), Some(CRL))
}

fn intermediate() -> ChainCert {
    fixture_cert("intermediate")
}

/// A transport serving the test PKI; `ocsp` overrides the OCSP answer.
fn pki_transport(
    ocsp: impl Fn(&[u8]) -> Result<HttpResponse, shomei_core::TransportError> + Send + Sync + 'static,
) -> Arc<FakeTransport> {
    let services = InProcessRevocation::new();
    Arc::new(FakeTransport::new(move |req| match req.url.as_str() {
        OCSP => {
            assert_eq!(req.method, HttpMethod::Post);
            assert_eq!(
                req.content_type.as_deref(),
                Some("application/ocsp-request")
            );
            ocsp(&req.body)
        }
        CRL => ok(services.crl("intermediate")),
        CA => ok(fixture_cert("intermediate").der().to_vec()),
        _ => Ok(HttpResponse::new(404, None, Vec::new())),
    }))
}

fn responder() -> Arc<FakeTransport> {
    let services = InProcessRevocation::new();
    pki_transport(move |body| ok(services.respond(body)))
}

fn online(transport: &Arc<FakeTransport>) -> OnlineRevocation {
    OnlineRevocation::new(transport.clone(), Arc::new(frozen_clock()))
}

#[tokio::test]
async fn ocsp_good_and_revoked() {
    let t = responder();
    let source = online(&t);
    let good = source
        .check(&with_urls("signer-rsa"), &intermediate())
        .await
        .unwrap();
    assert_eq!(good.status, CertStatus::Good);
    assert_eq!(good.ocsp_responses.len(), 1);
    assert!(good.crls.is_empty());
    assert_eq!(good.extra_certs, vec![fixture_cert("ocsp-responder")]);

    let revoked = source
        .check(&with_urls("signer-revoked"), &intermediate())
        .await
        .unwrap();
    assert!(
        matches!(&revoked.status, CertStatus::Revoked { reason: Some(r), .. } if r == "keyCompromise"),
        "{:?}",
        revoked.status
    );
    assert_eq!(t.requests(), vec![(HttpMethod::Post, OCSP.to_string()); 2]);
}

#[tokio::test]
async fn sha256_cert_ids_work_end_to_end() {
    let t = responder();
    let source = online(&t)
        .with_cert_id_hash(CertIdHash::Sha256)
        .with_nonce(false);
    let ev = source
        .check(&with_urls("signer-ec"), &intermediate())
        .await
        .unwrap();
    assert_eq!(ev.status, CertStatus::Good);
}

#[tokio::test]
async fn each_certificate_is_fetched_once() {
    let t = responder();
    let source = online(&t);
    let cert = with_urls("signer-rsa");
    let first = source.check(&cert, &intermediate()).await.unwrap();
    let second = source.check(&cert, &intermediate()).await.unwrap();
    assert_eq!(first.ocsp_responses, second.ocsp_responses);
    assert_eq!(t.request_count(), 1, "second check answered from the cache");
    source
        .check(&with_urls("signer-ec"), &intermediate())
        .await
        .unwrap();
    assert_eq!(t.request_count(), 2, "another certificate, another request");
}

#[tokio::test]
async fn http_500_falls_back_to_the_crl_which_is_fetched_once() {
    let t = pki_transport(|_| Ok(HttpResponse::new(500, None, b"oops".to_vec())));
    let source = online(&t);
    let ev = source
        .check(&with_urls("signer-revoked"), &intermediate())
        .await
        .unwrap();
    assert!(matches!(ev.status, CertStatus::Revoked { .. }));
    assert!(ev.ocsp_responses.is_empty());
    assert_eq!(ev.crls.len(), 1);
    let ev = source
        .check(&with_urls("signer-rsa"), &intermediate())
        .await
        .unwrap();
    assert_eq!(ev.status, CertStatus::Good);
    assert_eq!(
        t.requests(),
        vec![
            (HttpMethod::Post, OCSP.to_string()),
            (HttpMethod::Get, CRL.to_string()),
            (HttpMethod::Post, OCSP.to_string()),
        ],
        "the CRL is downloaded once for both certificates"
    );
}

#[tokio::test]
async fn http_500_without_crl_is_an_http_error() {
    let t = pki_transport(|_| Ok(HttpResponse::new(500, None, Vec::new())));
    let cert = reissue_with_urls("signer-rsa", Some(OCSP), None, None);
    let err = online(&t).check(&cert, &intermediate()).await.unwrap_err();
    assert_eq!(
        err,
        RevocationError::Http {
            url: OCSP.into(),
            status: 500
        }
    );
}

#[tokio::test]
async fn unreachable_responder_and_repository() {
    let t = Arc::new(FakeTransport::new(|req| unreachable(&req.url)));
    let err = online(&t)
        .check(&with_urls("signer-rsa"), &intermediate())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RevocationError::Unreachable { url, .. } if url == OCSP),
        "the first (OCSP) error is reported: {err}"
    );
    assert_eq!(t.request_count(), 2, "OCSP then CRL tried");
    // failures are not cached
    let _ = online(&t)
        .check(&with_urls("signer-rsa"), &intermediate())
        .await;
    assert_eq!(t.request_count(), 4);
}

#[tokio::test]
async fn timeouts_are_unreachable_with_the_url() {
    let t = Arc::new(FakeTransport::new(|req| {
        Err(shomei_core::TransportError::Timeout {
            url: req.url.clone(),
            seconds: 10,
        })
    }));
    let cert = reissue_with_urls("signer-rsa", Some(OCSP), None, None);
    let err = online(&t).check(&cert, &intermediate()).await.unwrap_err();
    assert!(
        matches!(&err, RevocationError::Unreachable { url, message } if url == OCSP && message.contains("10 s")),
        "{err}"
    );
}

#[tokio::test]
async fn garbage_answers_are_bad_responses() {
    let real = InProcessRevocation::new().ocsp_response_for(&fixture_cert("signer-rsa"));
    let cert = reissue_with_urls("signer-rsa", Some(OCSP), None, None);
    for len in (0..real.len()).step_by(7) {
        let body = real[..len].to_vec();
        let t = pki_transport(move |_| ok(body.clone()));
        let err = online(&t)
            .with_nonce(false)
            .check(&cert, &intermediate())
            .await
            .unwrap_err();
        assert!(
            matches!(err, RevocationError::BadResponse(_)),
            "{len}: {err}"
        );
        assert!(err.to_string().contains(OCSP), "names the URL: {err}");
    }
}

#[tokio::test]
async fn unauthorized_responder_over_http() {
    let cert = reissue_with_urls("signer-rsa", Some(OCSP), None, None);
    let mut spec = OcspResponseSpec::good(
        cert_id(&cert, &intermediate(), CertIdHash::Sha1).unwrap(),
        now(),
    );
    spec.signer = "signer-ec".into();
    spec.certs = vec![fixture_cert("signer-ec")];
    let body = spec.build();
    let t = pki_transport(move |_| ok(body.clone()));
    let err = online(&t).check(&cert, &intermediate()).await.unwrap_err();
    assert!(
        matches!(err, RevocationError::UnauthorizedResponder(_)),
        "{err}"
    );
}

#[tokio::test]
async fn stale_answers_are_refused() {
    // the services' clock is 60 days behind ours: OCSP nextUpdate (7 d) and CRL
    // nextUpdate (30 d) have both passed
    let t = responder();
    let later = FixedClock::at_unix(FROZEN_NOW_UNIX + 60 * 86400);
    let source = OnlineRevocation::new(t.clone(), Arc::new(later));
    let err = source
        .check(&with_urls("signer-rsa"), &intermediate())
        .await
        .unwrap_err();
    assert!(matches!(err, RevocationError::Stale(_)), "{err}");
    assert_eq!(t.request_count(), 2);
}

#[tokio::test]
async fn replayed_nonce_is_refused() {
    let cert = reissue_with_urls("signer-rsa", Some(OCSP), None, None);
    let mut spec = OcspResponseSpec::good(
        cert_id(&cert, &intermediate(), CertIdHash::Sha1).unwrap(),
        now(),
    );
    spec.nonce = Some(vec![9; 32]);
    let body = spec.build();
    let t = pki_transport(move |_| ok(body.clone()));
    let err = online(&t).check(&cert, &intermediate()).await.unwrap_err();
    assert!(matches!(err, RevocationError::Stale(_)), "{err}");
    // without a nonce of ours, the same response is fine
    assert!(online(&t)
        .with_nonce(false)
        .check(&cert, &intermediate())
        .await
        .is_ok());
}

#[tokio::test]
async fn unknown_from_ocsp_falls_back_to_the_crl() {
    let cert = with_urls("signer-revoked");
    let mut spec = OcspResponseSpec::good(
        cert_id(&cert, &intermediate(), CertIdHash::Sha1).unwrap(),
        now(),
    );
    spec.status = rfc6960::CertStatus::Unknown(der::asn1::Null);
    let body = spec.build();
    let t = pki_transport(move |_| ok(body.clone()));
    let ev = online(&t).check(&cert, &intermediate()).await.unwrap();
    assert!(
        matches!(ev.status, CertStatus::Revoked { .. }),
        "the CRL knows"
    );
    assert_eq!(ev.crls.len(), 1);
    // without a CRL distribution point, unknown is the answer
    let ocsp_only = reissue_with_urls("signer-rsa", Some(OCSP), None, None);
    let mut spec = OcspResponseSpec::good(
        cert_id(&ocsp_only, &intermediate(), CertIdHash::Sha1).unwrap(),
        now(),
    );
    spec.status = rfc6960::CertStatus::Unknown(der::asn1::Null);
    let body = spec.build();
    let t = pki_transport(move |_| ok(body.clone()));
    let ev = online(&t).check(&ocsp_only, &intermediate()).await.unwrap();
    assert_eq!(ev.status, CertStatus::Unknown);
}

#[tokio::test]
async fn certificate_without_urls_has_no_source() {
    let t = responder();
    let err = online(&t)
        .check(&fixture_cert("signer-rsa"), &intermediate())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        RevocationError::NoSource {
            subject: fixture_cert("signer-rsa").subject()
        }
    );
    assert!(err.to_string().contains("shomei test signer RSA"), "{err}");
    assert_eq!(t.request_count(), 0);
}

#[tokio::test]
async fn fetch_issuer_from_ca_issuers_der_and_pem_cached_by_url() {
    let t = responder();
    let source = online(&t);
    let cert = with_urls("signer-rsa");
    assert_eq!(
        source.fetch_issuer(&cert).await.unwrap(),
        Some(intermediate())
    );
    assert_eq!(
        source.fetch_issuer(&with_urls("signer-ec")).await.unwrap(),
        Some(intermediate())
    );
    assert_eq!(t.request_count(), 1, "one download for the URL");
    assert_eq!(source.fetch_issuer(&intermediate()).await.unwrap(), None);

    let pem = std::fs::read(shomei_test_support::paths::pki_dir().join("chain.pem")).unwrap();
    let t = Arc::new(FakeTransport::fixed(200, pem));
    assert_eq!(
        online(&t).fetch_issuer(&cert).await.unwrap(),
        Some(intermediate())
    );
}

#[tokio::test]
async fn fetch_issuer_refuses_a_certificate_that_did_not_issue() {
    let t = Arc::new(FakeTransport::fixed(
        200,
        fixture_cert("root").der().to_vec(),
    ));
    let err = online(&t)
        .fetch_issuer(&with_urls("signer-rsa"))
        .await
        .unwrap_err();
    assert!(matches!(err, RevocationError::BadResponse(_)), "{err}");
    let t = Arc::new(FakeTransport::fixed(404, Vec::new()));
    let err = online(&t)
        .fetch_issuer(&with_urls("signer-rsa"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RevocationError::Http { status: 404, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn complete_chain_follows_ca_issuers() {
    let t = responder();
    let source = online(&t);
    let leaf = with_urls("signer-rsa");
    // the fixture intermediate has no caIssuers URL: completion stops there
    let chain = complete_chain(&source, std::slice::from_ref(&leaf), 5)
        .await
        .unwrap();
    assert_eq!(chain, vec![leaf.clone(), intermediate()]);

    let services = InProcessRevocation::new();
    let chain = complete_chain(&services, &[fixture_cert("signer-rsa")], 5)
        .await
        .unwrap();
    assert_eq!(
        chain,
        vec![
            fixture_cert("signer-rsa"),
            intermediate(),
            fixture_cert("root")
        ]
    );
    let capped = complete_chain(&services, &[fixture_cert("signer-rsa")], 2)
        .await
        .unwrap();
    assert_eq!(capped.len(), 2);
    let complete = complete_chain(&services, &chain, 5).await.unwrap();
    assert_eq!(complete, chain);
}

fn fixture_chain(leaf: &str) -> Vec<ChainCert> {
    vec![fixture_cert(leaf), intermediate(), fixture_cert("root")]
}

#[tokio::test]
async fn gather_for_a_good_chain() {
    let services = InProcessRevocation::new();
    let clock = frozen_clock();
    let ev = gather_for_chain(&services, &fixture_chain("signer-ec"), &clock)
        .await
        .unwrap();
    assert_eq!(
        ev.len(),
        2,
        "signer and intermediate; the root is self-signed"
    );
    assert_eq!(ev[0].ocsp_responses.len(), 1);
    assert_eq!(
        ev[1].crls.len(),
        1,
        "the intermediate is covered by the root's CRL"
    );
    assert!(ev.iter().all(|e| e.status == CertStatus::Good));
    assert_eq!(services.checks(), 2);
}

#[tokio::test]
async fn gather_refuses_a_revoked_signer() {
    let services = InProcessRevocation::new();
    let err = gather_for_chain(&services, &fixture_chain("signer-revoked"), &frozen_clock())
        .await
        .unwrap_err();
    assert!(matches!(err, RevocationError::Revoked { .. }), "{err}");
    let msg = err.to_string();
    for part in [
        "shomei test signer REVOKED",
        "2025-06-01T00:00:00Z",
        "keyCompromise",
    ] {
        assert!(msg.contains(part), "{msg}");
    }
    // the same over OCSP on the wire
    let t = responder();
    let chain = vec![
        with_urls("signer-revoked"),
        intermediate(),
        fixture_cert("root"),
    ];
    let err = gather_for_chain(&online(&t), &chain, &frozen_clock())
        .await
        .unwrap_err();
    assert!(matches!(err, RevocationError::Revoked { .. }), "{err}");
}

#[tokio::test]
async fn gather_refuses_expired_and_not_yet_valid_signers_before_any_request() {
    let services = InProcessRevocation::new();
    let err = gather_for_chain(&services, &fixture_chain("signer-expired"), &frozen_clock())
        .await
        .unwrap_err();
    assert!(matches!(err, RevocationError::Expired { .. }), "{err}");
    assert!(
        err.to_string().contains("shomei test signer EXPIRED"),
        "{err}"
    );
    assert!(err.to_string().contains("2025-02-01T00:00:00Z"), "{err}");

    let early = FixedClock::at_unix(1_700_000_000); // 2023, before every fixture
    let err = gather_for_chain(&services, &fixture_chain("signer-rsa"), &early)
        .await
        .unwrap_err();
    assert!(matches!(err, RevocationError::NotYetValid { .. }), "{err}");
    assert!(err.to_string().contains("shomei test signer RSA"), "{err}");
    assert_eq!(services.checks(), 0);
}

#[tokio::test]
async fn gather_needs_every_issuer_and_a_working_source() {
    let services = InProcessRevocation::new();
    let err = gather_for_chain(&services, &[fixture_cert("signer-rsa")], &frozen_clock())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RevocationError::MissingIssuer { .. }),
        "{err}"
    );

    services.set_down(true);
    let err = gather_for_chain(&services, &fixture_chain("signer-rsa"), &frozen_clock())
        .await
        .unwrap_err();
    assert!(matches!(err, RevocationError::Unreachable { .. }), "{err}");
    assert!(services
        .fetch_issuer(&fixture_cert("signer-rsa"))
        .await
        .is_err());
    services.set_down(false);
    assert!(
        gather_for_chain(&services, &fixture_chain("signer-rsa"), &frozen_clock())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn in_process_evidence_kinds_verify() {
    use shomei_test_support::ocsp_responder::EvidenceKind;
    let cert = fixture_cert("signer-revoked");
    for kind in [
        EvidenceKind::Ocsp,
        EvidenceKind::IssuerSignedOcsp,
        EvidenceKind::Crl,
        EvidenceKind::Both,
    ] {
        let services = InProcessRevocation::new().with_evidence(kind);
        let ev = services.check(&cert, &intermediate()).await.unwrap();
        assert!(matches!(ev.status, CertStatus::Revoked { .. }));
        for der in &ev.ocsp_responses {
            let r = shomei_revocation::ocsp::verify_response(
                der,
                &cert,
                &intermediate(),
                &shomei_revocation::VerifyOptions::new(now()),
            )
            .unwrap();
            assert_eq!(r.status, ev.status, "{kind:?}");
        }
        for der in &ev.crls {
            let r = shomei_revocation::check_crl(
                der,
                &cert,
                &intermediate(),
                now(),
                Duration::from_secs(60),
            )
            .unwrap();
            assert_eq!(r.status, ev.status, "{kind:?}");
        }
        let expected = match kind {
            EvidenceKind::Ocsp => (1, 0),
            EvidenceKind::IssuerSignedOcsp => (1, 0),
            EvidenceKind::Crl => (0, 1),
            EvidenceKind::Both => (1, 1),
        };
        assert_eq!(
            (ev.ocsp_responses.len(), ev.crls.len()),
            expected,
            "{kind:?}"
        );
    }
}
