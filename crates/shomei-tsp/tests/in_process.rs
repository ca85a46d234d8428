//! Round trips against shomei-test-support's in-process TSA: no network.

// Helpers outside #[test] functions unwrap too (clippy.toml covers test bodies only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use shomei_core::chain::ChainCert;
use shomei_core::{CertificateChain, Digest, DigestAlgorithm, FixedClock};
use shomei_test_support::paths::pki_dir;
use shomei_test_support::signers::test_signer;
use shomei_test_support::tsa::{InProcessTsa, TEST_TSA_POLICY, TEST_TSA_TIME_UNIX};
use shomei_tsp::{TimestampAuthority, TimestampToken, TspError};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn imprint(data: &[u8]) -> Digest {
    Digest::compute(DigestAlgorithm::Sha256, data)
}

fn test_root() -> Vec<ChainCert> {
    let pem = std::fs::read(pki_dir().join("root.cert.pem")).unwrap();
    CertificateChain::from_pem_or_der(&pem)
        .unwrap()
        .certs()
        .to_vec()
}

fn frozen() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(TEST_TSA_TIME_UNIX)
}

#[tokio::test]
async fn token_round_trip_verifies_and_chains_to_the_test_root() {
    let tsa = InProcessTsa::new();
    let data = imprint(b"document bytes");
    let token = tsa.timestamp(&data).await.unwrap();
    assert_eq!(tsa.request_count(), 1);
    token.verify(&data).unwrap();
    assert_eq!(token.imprint(), data);
    assert_eq!(token.gen_time(), frozen());
    assert_eq!(token.serial(), [1]);
    assert_eq!(token.policy(), TEST_TSA_POLICY);
    assert_eq!(
        token.certificates().len(),
        3,
        "TSA, intermediate, root embedded"
    );
    let signer = token.signer_cert().unwrap();
    assert_eq!(signer.der(), tsa.chain().signing_cert().der());
    let path = token.verify_chain_to(&test_root(), frozen()).unwrap();
    let subjects: Vec<String> = path.iter().map(ChainCert::subject).collect();
    assert_eq!(path.len(), 3, "{subjects:?}");
    assert!(subjects[1].contains("intermediate"), "{subjects:?}");
    assert_eq!(path.last().unwrap().der(), test_root()[0].der());

    // The DER round trip keeps every byte.
    let again = TimestampToken::from_der(token.der()).unwrap();
    assert_eq!(again, token);
    // Serials increase.
    let second = tsa.timestamp(&data).await.unwrap();
    assert_eq!(second.serial(), [2]);
}

#[tokio::test]
async fn chain_checks_refuse_other_roots_and_times() {
    let tsa = InProcessTsa::new();
    let data = imprint(b"x");
    let token = tsa.timestamp(&data).await.unwrap();

    let before_pki = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023
    let err = token.verify_chain_to(&test_root(), before_pki).unwrap_err();
    assert!(matches!(err, TspError::UntrustedTsa(_)), "{err}");
    assert!(
        err.to_string()
            .contains("not valid at 2023-11-14T22:13:20Z"),
        "{err}"
    );

    // A root that did not issue the chain (the demo identity is self-signed).
    let demo = std::fs::read(pki_dir().join("demo.cert.pem")).unwrap();
    let demo = CertificateChain::from_pem_or_der(&demo).unwrap();
    let err = token.verify_chain_to(demo.certs(), frozen()).unwrap_err();
    assert!(matches!(err, TspError::UntrustedTsa(_)), "{err}");

    // Trusting the intermediate directly is enough.
    let chain = std::fs::read(pki_dir().join("chain.pem")).unwrap();
    let chain = CertificateChain::from_pem_or_der(&chain).unwrap();
    let intermediate = &chain.certs()[..1];
    let path = token.verify_chain_to(intermediate, frozen()).unwrap();
    assert_eq!(path.len(), 2);
}

#[tokio::test]
async fn token_for_other_data_is_an_imprint_mismatch() {
    let tsa = InProcessTsa::new();
    let token = tsa.timestamp(&imprint(b"signed")).await.unwrap();
    let err = token.verify(&imprint(b"tampered")).unwrap_err();
    assert!(matches!(err, TspError::ImprintMismatch), "{err}");
}

#[tokio::test]
async fn sha384_and_sha512_imprints() {
    let tsa = InProcessTsa::new();
    for alg in [DigestAlgorithm::Sha384, DigestAlgorithm::Sha512] {
        let d = Digest::compute(alg, b"data");
        let token = tsa.timestamp(&d).await.unwrap();
        assert_eq!(token.imprint(), d);
    }
}

#[test]
fn tampered_tst_info_and_signature_are_refused() {
    let tsa = InProcessTsa::new();
    let data = imprint(b"document");
    let der = tsa.issue(&data, None, true);
    let token = TimestampToken::from_der(&der).unwrap();
    token.verify(&data).unwrap();

    // One digit of the TSTInfo's genTime: still a valid token, but not the signed one.
    let at = der
        .windows(15)
        .position(|w| w == b"20260302090000Z")
        .unwrap();
    let mut bad = der.clone();
    bad[at + 13] = b'7';
    let tampered = TimestampToken::from_der(&bad).unwrap();
    assert_ne!(tampered.gen_time(), token.gen_time());
    let err = tampered.verify(&data).unwrap_err();
    assert!(
        matches!(err, TspError::BadToken(ref m) if m.contains("message-digest")),
        "{err}"
    );

    // The last byte of the signature value (the token ends with it).
    let mut bad = der.clone();
    *bad.last_mut().unwrap() ^= 0x01;
    let err = TimestampToken::from_der(&bad)
        .unwrap()
        .verify(&data)
        .unwrap_err();
    assert!(
        matches!(err, TspError::BadToken(ref m) if m.contains("does not verify")),
        "{err}"
    );
}

#[test]
fn truncated_in_process_tokens_are_errors() {
    let der = InProcessTsa::new().issue(&imprint(b"t"), None, true);
    for len in 0..der.len() {
        assert!(TimestampToken::from_der(&der[..len]).is_err(), "{len}");
    }
    let mut longer = der.clone();
    longer.push(0);
    assert!(
        TimestampToken::from_der(&longer).is_err(),
        "trailing byte accepted"
    );
}

#[tokio::test]
async fn a_signer_without_the_timestamping_eku_is_refused() {
    // signer-rsa has EKU emailProtection, not timeStamping.
    let tsa = InProcessTsa::with_identity(
        test_signer("signer-rsa"),
        Arc::new(FixedClock::at_unix(TEST_TSA_TIME_UNIX)),
    );
    let data = imprint(b"d");
    let err = tsa.timestamp(&data).await.unwrap_err();
    assert!(matches!(err, TspError::NotTimestampingCert(_)), "{err}");
    assert!(err.to_string().contains("shomei test signer RSA"), "{err}");
    let token = TimestampToken::from_der(&tsa.issue(&data, None, true)).unwrap();
    assert!(matches!(
        token.verify(&data),
        Err(TspError::NotTimestampingCert(_))
    ));
}

#[tokio::test]
async fn a_down_tsa_is_unreachable_and_counts_the_attempt() {
    let tsa = InProcessTsa::new();
    tsa.set_down(true);
    let err = tsa.timestamp(&imprint(b"d")).await.unwrap_err();
    assert!(matches!(err, TspError::Unreachable(_)), "{err}");
    assert_eq!(tsa.request_count(), 1);
    tsa.set_down(false);
    tsa.timestamp(&imprint(b"d")).await.unwrap();
    assert_eq!(tsa.request_count(), 2);
}

#[test]
fn the_trait_is_object_safe() {
    let tsa: Arc<dyn TimestampAuthority> = Arc::new(InProcessTsa::new());
    assert!(tsa.expected_token_len() >= 4096);
}
