//! Against the conformance kit's CSC server (certomancer's CSC 1.0.4 dummy).
//! Ignored by default; CI runs ignored tests with the kit up. Start nothing here:
//! set `SHOMEI_KIT_CSC_URL` (e.g. `http://127.0.0.1:9322/csc/v1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

use shomei_core::{DigestAlgorithm, RemoteSigner, SignatureAlgorithm};
use shomei_csc::{list_credentials, CscAuth, CscConfig, CscError, CscSigner, CscVersion};
use shomei_test_support::csc_double::{digests, transport, verify_all};

fn kit_url() -> String {
    std::env::var("SHOMEI_KIT_CSC_URL").unwrap_or_else(|_| {
        panic!(
            "SHOMEI_KIT_CSC_URL is not set: start the kit (pki-serve --csc-port N) and set it \
             to http://127.0.0.1:N/csc/v1"
        )
    })
}

async fn sign_three(credential: &str, algorithms: &[SignatureAlgorithm]) {
    let config = CscConfig::new(kit_url(), CscVersion::V1, credential);
    let signer = CscSigner::connect(transport(), config).await.unwrap();
    let description = signer.describe().await.unwrap();
    assert!(description.chain.certs().len() >= 2, "leaf and issuers");
    for (n, alg) in algorithms.iter().enumerate() {
        assert!(description.supports(*alg), "{alg} not offered");
        let ds = digests(alg.digest(), 3);
        let values = signer.sign_digests(*alg, &ds).await.unwrap();
        verify_all(description.chain.signing_cert(), *alg, &ds, &values);
        let calls = signer.calls();
        assert_eq!(
            calls.authorize,
            u64::try_from(n).unwrap() + 1,
            "one authorize per batch"
        );
        assert_eq!(
            calls.sign_hash,
            u64::try_from(n).unwrap() + 1,
            "one signHash per batch"
        );
    }
}

#[tokio::test]
#[ignore = "needs the conformance kit's CSC server (SHOMEI_KIT_CSC_URL)"]
async fn kit_signer_ec() {
    sign_three(
        "kit/signer-ec",
        &[SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256)],
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the conformance kit's CSC server (SHOMEI_KIT_CSC_URL)"]
async fn kit_signer_rsa() {
    sign_three(
        "kit/signer-rsa",
        &[
            SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
            SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
        ],
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the conformance kit's CSC server (SHOMEI_KIT_CSC_URL)"]
async fn kit_lists_and_refuses_unknown_credentials() {
    let ids = list_credentials(transport(), &kit_url(), CscVersion::V1, &CscAuth::None)
        .await
        .unwrap();
    assert!(ids.iter().any(|i| i == "kit/signer-ec"), "{ids:?}");
    let err = CscSigner::connect(
        transport(),
        CscConfig::new(kit_url(), CscVersion::V1, "kit/nobody"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, CscError::UnknownCredential { .. }), "{err}");
}
