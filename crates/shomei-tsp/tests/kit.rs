//! `HttpTsa` against the conformance kit's certomancer TSA on loopback, through the
//! real reqwest transport. Ignored by default; CI runs them with `--ignored` after
//! starting the kit:
//!
//! ```text
//! /work/shared/conformance/pki/pki-serve --port 9391
//! SHOMEI_KIT_TSA_URL=http://127.0.0.1:9391/kit/tsa/tsa \
//! SHOMEI_KIT_TRUST_ROOT=${TMPDIR:-/tmp}/sig-conformance-0/pki-9391/certs/root.cert.pem \
//!   cargo test -p shomei-tsp -- --ignored
//! ```
//!
//! When run without the kit they fail, never skip.

// Helpers outside #[test] functions unwrap too (clippy.toml covers test bodies only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use shomei_core::{CertificateChain, Digest, DigestAlgorithm};
use shomei_tsp::{HttpTsa, HttpTsaConfig, TimestampAuthority, TspError, DEFAULT_TOKEN_ESTIMATE};
use std::sync::Arc;
use std::time::Duration;

const NEEDS_KIT: &str = "needs the kit TSA: run .ci/run, or start \
    /work/shared/conformance/pki/pki-serve --port 9391 and set SHOMEI_KIT_TSA_URL and \
    SHOMEI_KIT_TRUST_ROOT";

fn kit() -> (String, CertificateChain) {
    let url = std::env::var("SHOMEI_KIT_TSA_URL")
        .unwrap_or_else(|_| panic!("SHOMEI_KIT_TSA_URL is not set: {NEEDS_KIT}"));
    let root = std::env::var("SHOMEI_KIT_TRUST_ROOT")
        .unwrap_or_else(|_| panic!("SHOMEI_KIT_TRUST_ROOT is not set: {NEEDS_KIT}"));
    let pem =
        std::fs::read(&root).unwrap_or_else(|e| panic!("cannot read {root}: {e} ({NEEDS_KIT})"));
    (url, CertificateChain::from_pem_or_der(&pem).unwrap())
}

fn http_tsa(config: HttpTsaConfig) -> HttpTsa {
    let transport = shomei_http::ReqwestTransport::new(Duration::from_secs(20)).unwrap();
    HttpTsa::new(Arc::new(transport), config)
}

#[tokio::test]
#[ignore = "needs the kit TSA: run .ci/run or set SHOMEI_KIT_TSA_URL"]
async fn kit_tsa_round_trip() {
    let (url, root) = kit();
    let tsa = http_tsa(HttpTsaConfig::new(url));
    assert_eq!(tsa.expected_token_len(), DEFAULT_TOKEN_ESTIMATE);
    for alg in DigestAlgorithm::ALL {
        let imprint = Digest::compute(alg, b"shomei kit round trip");
        let token = tsa
            .timestamp(&imprint)
            .await
            .unwrap_or_else(|e| panic!("{e} ({NEEDS_KIT})"));
        token.verify(&imprint).unwrap();
        assert_eq!(token.imprint(), imprint);
        assert!(token.nonce().is_some());
        let signer = token.signer_cert().unwrap();
        assert!(
            signer.subject().contains("Kit Test TSA"),
            "{}",
            signer.subject()
        );
        let path = token
            .verify_chain_to(root.certs(), token.gen_time())
            .unwrap();
        assert_eq!(
            path.last().map(|c| c.der()),
            root.certs().first().map(|c| c.der())
        );
        let skew = token
            .gen_time()
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_else(|e| e.duration());
        assert!(skew < Duration::from_secs(300), "genTime is {skew:?} off");
        let len = token.der().len();
        assert!(tsa.expected_token_len() >= len + len / 10 + 256);
    }
}

#[tokio::test]
#[ignore = "needs the kit TSA: run .ci/run or set SHOMEI_KIT_TSA_URL"]
async fn kit_token_verifies_with_openssl() {
    let (url, _) = kit();
    let root = std::env::var("SHOMEI_KIT_TRUST_ROOT").unwrap();
    let imprint = Digest::compute(DigestAlgorithm::Sha256, b"judged by openssl");
    let token = http_tsa(HttpTsaConfig::new(url))
        .timestamp(&imprint)
        .await
        .unwrap_or_else(|e| panic!("{e} ({NEEDS_KIT})"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tok.der"), token.der()).unwrap();
    let out = std::process::Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-token_in",
            "-in",
            "tok.der",
            "-digest",
            &imprint.to_hex(),
            "-CAfile",
            &root,
        ])
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("openssl is required for this test: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("Verification: OK"),
        "{text}"
    );
}

#[tokio::test]
#[ignore = "needs the kit TSA: run .ci/run or set SHOMEI_KIT_TSA_URL"]
async fn kit_tsa_policy_is_checked() {
    let (url, _) = kit();
    let imprint = Digest::compute(DigestAlgorithm::Sha256, b"policy");
    let token = http_tsa(HttpTsaConfig::new(url.clone()))
        .timestamp(&imprint)
        .await
        .unwrap_or_else(|e| panic!("{e} ({NEEDS_KIT})"));
    // Asking for the policy the kit uses is fine...
    let same = http_tsa(HttpTsaConfig::new(url.clone()).with_policy(token.policy()))
        .timestamp(&imprint)
        .await
        .unwrap();
    assert_eq!(same.policy(), token.policy());
    // ...asking for another one is refused: certomancer ignores reqPolicy, so the
    // token comes back under its own policy.
    let other = const_oid::ObjectIdentifier::new_unwrap("1.2.3.4.5");
    let err = http_tsa(HttpTsaConfig::new(url).with_policy(other))
        .timestamp(&imprint)
        .await
        .unwrap_err();
    assert!(matches!(err, TspError::PolicyMismatch { .. }), "{err}");
}

#[tokio::test]
#[ignore = "needs the kit TSA: run .ci/run or set SHOMEI_KIT_TSA_URL"]
async fn kit_wrong_path_is_an_http_error() {
    let (url, _) = kit();
    let wrong = format!("{}/no-such-tsa", url.trim_end_matches("/tsa"));
    let err = http_tsa(HttpTsaConfig::new(wrong))
        .timestamp(&Digest::compute(DigestAlgorithm::Sha256, b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, TspError::Http { .. }), "{err}");
}
