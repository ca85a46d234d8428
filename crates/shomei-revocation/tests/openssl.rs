//! OpenSSL as an independent judge of the data shomei-test-support produces (and that
//! shomei-revocation accepts). openssl must be installed: a missing judge is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

mod common;

use shomei_test_support::ocsp_responder::{fixture_cert, InProcessRevocation, OcspResponseSpec};
use shomei_test_support::paths::pki_dir;
use shomei_test_support::tools::openssl;
use std::path::PathBuf;
use std::time::SystemTime;

/// The services dated at the real time, so OpenSSL's own time checks pass.
fn services_now() -> InProcessRevocation {
    InProcessRevocation::new().with_clock(std::sync::Arc::new(shomei_core::SystemClock))
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("shomei-revocation-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn pki(name: &str) -> String {
    pki_dir().join(name).display().to_string()
}

#[test]
fn openssl_verifies_the_delegated_responders_answer() {
    let resp = scratch("revoked.ocsp.der");
    std::fs::write(
        &resp,
        services_now().ocsp_response_for(&fixture_cert("signer-revoked")),
    )
    .unwrap();
    let (ok, text) = openssl(
        None,
        &[
            "ocsp",
            "-respin",
            &resp.display().to_string(),
            "-issuer",
            &pki("intermediate.cert.pem"),
            "-cert",
            &pki("signer-revoked.cert.pem"),
            "-CAfile",
            &pki("root.cert.pem"),
            "-VAfile",
            &pki("ocsp-responder.cert.pem"),
            "-no_nonce",
            "-resp_text",
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains(": revoked"), "{text}");
    assert!(
        text.contains("Revocation Time: Jun  1 00:00:00 2025 GMT"),
        "{text}"
    );
    assert!(text.contains("keyCompromise"), "{text}");
    assert!(text.contains("Responder Id: "), "{text}");
    assert!(!text.contains("WARNING"), "{text}");
}

#[test]
fn openssl_verifies_an_issuer_signed_good_answer_with_the_chain_only() {
    let cert = fixture_cert("signer-ec");
    let id = shomei_revocation::ocsp::cert_id(
        &cert,
        &fixture_cert("intermediate"),
        shomei_revocation::CertIdHash::Sha1,
    )
    .unwrap();
    let resp = scratch("good.ocsp.der");
    std::fs::write(
        &resp,
        OcspResponseSpec::good(id, SystemTime::now())
            .issuer_signed()
            .build(),
    )
    .unwrap();
    let (ok, text) = openssl(
        None,
        &[
            "ocsp",
            "-respin",
            &resp.display().to_string(),
            "-issuer",
            &pki("intermediate.cert.pem"),
            "-cert",
            &pki("signer-ec.cert.pem"),
            "-CAfile",
            &pki("chain.pem"),
            "-no_nonce",
            "-resp_text",
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains(": good"), "{text}");
    assert!(!text.contains("WARNING"), "{text}");
}

#[test]
fn openssl_verifies_the_crl() {
    let crl = scratch("intermediate.crl");
    std::fs::write(&crl, services_now().crl("intermediate")).unwrap();
    let (ok, text) = openssl(
        None,
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            &crl.display().to_string(),
            "-CAfile",
            &pki("chain.pem"),
            "-noout",
            "-text",
        ],
    );
    assert!(ok, "{text}");
    assert!(text.contains("verify OK"), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
    let serial = shomei_core::digest::hex_bytes::encode(
        fixture_cert("signer-revoked")
            .cert()
            .tbs_certificate()
            .serial_number()
            .as_bytes(),
    )
    .to_uppercase();
    assert!(
        text.contains(serial.trim_start_matches("00")),
        "{serial} in {text}"
    );
}

#[tokio::test]
async fn ca_issuers_certs_only_p7c_made_by_openssl() {
    use shomei_revocation::{OnlineRevocation, RevocationSource};
    let p7c = scratch("chain.p7c");
    let (ok, text) = openssl(
        None,
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            &pki("chain.pem"),
            "-outform",
            "DER",
            "-out",
            &p7c.display().to_string(),
        ],
    );
    assert!(ok, "{text}");
    let body = std::fs::read(&p7c).unwrap();
    let t = std::sync::Arc::new(common::FakeTransport::fixed(200, body));
    let source = OnlineRevocation::new(
        t.clone(),
        std::sync::Arc::new(shomei_test_support::ocsp_responder::frozen_clock()),
    );
    let cert = shomei_test_support::ocsp_responder::reissue_with_urls(
        "signer-rsa",
        None,
        Some("http://ca.test/chain.p7c"),
        None,
    );
    assert_eq!(
        source.fetch_issuer(&cert).await.unwrap(),
        Some(fixture_cert("intermediate"))
    );
}
