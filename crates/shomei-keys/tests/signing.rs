//! Signing through `RemoteSigner` with the fixture keys; every value is verified
//! against the certificate with `shomei_core::verify`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::*;
use shomei_core::verify::verify_digest_signature;
use shomei_core::{
    Digest, DigestAlgorithm, KeyKind, RemoteSigner, SignatureAlgorithm, SignatureValue, SignerError,
};
use shomei_keys::SoftwareSigner;
use std::sync::Arc;

fn all_rsa() -> Vec<SignatureAlgorithm> {
    DigestAlgorithm::ALL
        .into_iter()
        .map(SignatureAlgorithm::RsaPkcs1v15)
        .chain(
            DigestAlgorithm::ALL
                .into_iter()
                .map(SignatureAlgorithm::RsaPss),
        )
        .collect()
}

fn all_ecdsa() -> Vec<SignatureAlgorithm> {
    DigestAlgorithm::ALL
        .into_iter()
        .map(SignatureAlgorithm::Ecdsa)
        .collect()
}

#[tokio::test]
async fn every_advertised_algorithm_signs_and_verifies() {
    for (name, kind, expected) in [
        ("signer-rsa", KeyKind::Rsa { bits: 2048 }, all_rsa()),
        ("signer-ec", KeyKind::EcP256, all_ecdsa()),
        ("signer-ec384", KeyKind::EcP384, all_ecdsa()),
        ("demo", KeyKind::EcP256, all_ecdsa()),
    ] {
        let signer = load(name);
        assert_eq!(signer.key_kind(), kind, "{name}");
        let desc = signer.describe().await.unwrap();
        assert_eq!(desc.algorithms, expected, "{name}");
        assert_eq!(desc.max_signature_len, kind.max_signature_len(), "{name}");
        assert_eq!(desc.key_kind().unwrap(), kind, "{name}");
        for alg in desc.algorithms.clone() {
            sign_and_verify(&signer, alg).await;
        }
    }
}

#[tokio::test]
async fn rsa_signatures_have_modulus_length() {
    let signer = load("signer-rsa");
    for alg in all_rsa() {
        let value = signer
            .sign_digest(alg, &digest_for(alg, b"length"))
            .await
            .unwrap();
        let SignatureValue::Rsa(bytes) = value else {
            panic!("{alg}: not an RSA value");
        };
        assert_eq!(bytes.len(), 256, "{alg}");
    }
}

#[tokio::test]
async fn ecdsa_values_are_der_and_convert_for_xmldsig() {
    let signer = load("signer-ec384");
    let alg = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384);
    let value = signer
        .sign_digest(alg, &digest_for(alg, b"xml"))
        .await
        .unwrap();
    assert!(matches!(value, SignatureValue::EcdsaDer(_)));
    assert_eq!(value.to_xmldsig(48).unwrap().len(), 96);
}

#[tokio::test]
async fn a_batch_of_ten_returns_ten_valid_signatures_in_order() {
    for (name, alg) in [
        (
            "signer-rsa",
            SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
        ),
        (
            "signer-ec",
            SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
        ),
    ] {
        let signer = load(name);
        let cert = signer.chain().signing_cert().clone();
        let digests: Vec<Digest> = (0..10)
            .map(|i| digest_for(alg, format!("document {i}").as_bytes()))
            .collect();
        let values = signer.sign_digests(alg, &digests).await.unwrap();
        assert_eq!(values.len(), 10, "{name}");
        for (i, (d, v)) in digests.iter().zip(&values).enumerate() {
            let cms = v.to_cms().unwrap();
            verify_digest_signature(&cert, alg, d, &cms)
                .unwrap_or_else(|e| panic!("{name} #{i}: {e}"));
            // In order: value i does not verify for digest i+1.
            let other = &digests[(i + 1) % 10];
            assert!(verify_digest_signature(&cert, alg, other, &cms).is_err());
        }
    }
}

#[tokio::test]
async fn an_empty_batch_is_empty() {
    let signer = load("signer-ec");
    let alg = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256);
    assert!(signer.sign_digests(alg, &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_digest_of_the_wrong_algorithm_is_refused() {
    let signer = load("signer-rsa");
    let alg = SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256);
    let sha384 = Digest::compute(DigestAlgorithm::Sha384, b"x");
    let err = signer.sign_digest(alg, &sha384).await.unwrap_err();
    assert!(
        matches!(err, SignerError::DigestMismatch(DigestAlgorithm::Sha256)),
        "{err}"
    );
    // One bad digest in a batch: nothing is signed.
    let good = Digest::compute(DigestAlgorithm::Sha256, b"x");
    let err = signer
        .sign_digests(alg, &[good.clone(), sha384, good])
        .await
        .unwrap_err();
    assert!(matches!(err, SignerError::DigestMismatch(_)), "{err}");
}

#[tokio::test]
async fn an_algorithm_for_another_key_type_is_refused() {
    let rsa = load("signer-rsa");
    let ecdsa = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256);
    let err = rsa
        .sign_digest(ecdsa, &digest_for(ecdsa, b"x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SignerError::UnsupportedAlgorithm(a) if a == ecdsa),
        "{err}"
    );

    let ec = load("signer-ec");
    let pss = SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256);
    let err = ec
        .sign_digest(pss, &digest_for(pss, b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, SignerError::UnsupportedAlgorithm(_)), "{err}");
}

#[tokio::test]
async fn works_as_a_shared_trait_object() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SoftwareSigner>();

    let signer: Arc<dyn RemoteSigner> = Arc::new(load("signer-ec"));
    let alg = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256);
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let signer = Arc::clone(&signer);
            tokio::spawn(async move {
                let d = digest_for(alg, format!("task {i}").as_bytes());
                signer.sign_digest(alg, &d).await.map(|v| (d, v))
            })
        })
        .collect();
    let cert = signer
        .describe()
        .await
        .unwrap()
        .chain
        .signing_cert()
        .clone();
    for t in tasks {
        let (d, v) = t.await.unwrap().unwrap();
        verify_digest_signature(&cert, alg, &d, &v.to_cms().unwrap()).unwrap();
    }
}

#[test]
fn blocking_path_signs_like_the_trait() {
    let signer = load("signer-ec384");
    let alg = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha512);
    let d = digest_for(alg, b"blocking");
    let values = signer
        .sign_digests_blocking(alg, std::slice::from_ref(&d))
        .unwrap();
    let cert = signer.chain().signing_cert();
    verify_digest_signature(cert, alg, &d, &values[0].to_cms().unwrap()).unwrap();
}

#[test]
fn debug_shows_kind_and_subject_only() {
    let signer = load("signer-rsa");
    let shown = format!("{signer:?}");
    assert!(shown.contains("RSA-2048"), "{shown}");
    assert!(shown.contains("CN=shomei test signer RSA"), "{shown}");
    assert!(shown.len() < 200, "{shown}");
    let key_pem = String::from_utf8(fixture("signer-rsa.key.pem")).unwrap();
    let key_line = key_pem.lines().nth(1).unwrap();
    assert!(!shown.contains(key_line));
}

#[tokio::test]
async fn extra_chain_certificates_are_appended_once() {
    let cert =
        shomei_core::CertificateChain::from_pem_or_der(&fixture("signer-ec.cert.pem")).unwrap();
    let mut signer =
        SoftwareSigner::from_key_and_chain(&fixture("signer-ec.key.pem"), cert).unwrap();
    assert_eq!(signer.chain().certs().len(), 1);
    signer.add_chain_certs(issuers());
    signer.add_chain_certs(issuers());
    let desc = signer.describe().await.unwrap();
    let subjects: Vec<String> = desc.chain.certs().iter().map(|c| c.subject()).collect();
    assert_eq!(
        subjects,
        [
            "CN=shomei test signer EC P-256,O=shomei test PKI,C=JP",
            "CN=shomei test intermediate CA,O=shomei test PKI,C=JP",
            "CN=shomei test root CA,O=shomei test PKI,C=JP",
        ]
    );
}

/// Issue 10: RSA signing through `RemoteSigner` leaves the async executor free. On a
/// single-threaded runtime a ticking task keeps running while a batch of RSA
/// signatures is made (inline signing would starve it until the batch is done).
#[test]
fn rsa_batches_do_not_hold_the_executor_thread() {
    use shomei_core::RemoteSigner;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let signer = load("signer-rsa");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let digests: Vec<Digest> = (0..40u8)
        .map(|i| Digest::compute(DigestAlgorithm::Sha256, &[i]))
        .collect();
    let (ticks_during, signed) = rt.block_on(async {
        let (t, d) = (ticks.clone(), done.clone());
        let ticker = tokio::spawn(async move {
            while !d.load(Ordering::SeqCst) {
                t.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_micros(200)).await;
            }
        });
        tokio::task::yield_now().await;
        let before = ticks.load(Ordering::SeqCst);
        let signed = signer
            .sign_digests(
                SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
                &digests,
            )
            .await
            .unwrap();
        let during = ticks.load(Ordering::SeqCst) - before;
        done.store(true, Ordering::SeqCst);
        ticker.await.unwrap();
        (during, signed)
    });
    assert_eq!(signed.len(), digests.len());
    assert!(
        ticks_during >= 3,
        "the ticker ran only {ticks_during} times while 40 RSA signatures were made"
    );
}
