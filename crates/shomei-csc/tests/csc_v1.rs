//! CscSigner against the CSC double in 1.0.4 mode: `hash` / `hashAlgo`, `PIN`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

use shomei_core::{DigestAlgorithm, RemoteSigner, SignatureAlgorithm};
use shomei_csc::{list_credentials, CscAuth, CscConfig, CscError, CscSigner, CscVersion};
use shomei_test_support::csc_double::{digests, transport, verify_all, Api, Double, EC, RSA};

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn v1_names_scal2_and_pin() {
    let d = Double::start(Api::V1).await;
    d.set(|b| {
        b.scal2 = true;
        b.require_pin = Some("1357".into());
    });
    let config = CscConfig::new(d.base_url.clone(), CscVersion::V1, EC).with_pin("1357");
    let signer = CscSigner::connect(transport(), config).await.unwrap();
    let alg = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384);
    let ds = digests(DigestAlgorithm::Sha384, 10);
    let values = signer.sign_digests(alg, &ds).await.unwrap();
    verify_all(
        signer.describe().await.unwrap().chain.signing_cert(),
        alg,
        &ds,
        &values,
    );
    assert_eq!(
        (
            d.calls("credentials/authorize"),
            d.calls("signatures/signHash")
        ),
        (1, 1)
    );

    let auth = d.last_body("credentials/authorize");
    assert_eq!(
        keys(&auth),
        vec!["PIN", "credentialID", "hash", "numSignatures"]
    );
    assert_eq!(auth["hash"].as_array().unwrap().len(), 10);
    let sign = d.last_body("signatures/signHash");
    assert_eq!(
        keys(&sign),
        vec!["SAD", "credentialID", "hash", "hashAlgo", "signAlgo"]
    );
    assert_eq!(sign["hashAlgo"], "2.16.840.1.101.3.4.2.2");
    assert_eq!(sign["signAlgo"], "1.2.840.10045.4.3.3");

    // Wrong PIN in 1.0.4 too.
    let config = CscConfig::new(d.base_url.clone(), CscVersion::V1, EC).with_pin("0000");
    let signer = CscSigner::connect(transport(), config).await.unwrap();
    let err = signer.sign(alg, &ds).await.unwrap_err();
    assert!(matches!(err, CscError::WrongPinOrOtp { .. }), "{err}");
    d.stop().await;
}

#[tokio::test]
async fn v1_rsa_pss_and_list() {
    let d = Double::start(Api::V1).await;
    let ids = list_credentials(transport(), &d.base_url, CscVersion::V1, &CscAuth::None)
        .await
        .unwrap();
    assert_eq!(ids, vec![EC.to_string(), RSA.to_string()]);
    let config = CscConfig::new(d.base_url.clone(), CscVersion::V1, RSA);
    let signer = CscSigner::connect(transport(), config).await.unwrap();
    let alg = SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256);
    let ds = digests(DigestAlgorithm::Sha256, 3);
    let values = signer.sign_digests(alg, &ds).await.unwrap();
    verify_all(
        signer.describe().await.unwrap().chain.signing_cert(),
        alg,
        &ds,
        &values,
    );
    let sign = d.last_body("signatures/signHash");
    assert_eq!(sign["signAlgo"], "1.2.840.113549.1.1.10");
    assert!(sign["signAlgoParams"].is_string());
    assert_eq!(sign["hashAlgo"], "2.16.840.1.101.3.4.2.1");
    // A 2.0.0.2 client is told the service speaks 1.0.4.
    let err = CscSigner::connect(
        transport(),
        CscConfig::new(d.base_url.clone(), CscVersion::V2, RSA),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("speaks CSC API 1.0.4.0"), "{err}");
    d.stop().await;
}
