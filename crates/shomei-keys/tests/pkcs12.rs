//! PKCS#12 files: OpenSSL 3 defaults, OpenSSL 1.x legacy protection, no MAC.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::*;
use shomei_core::{DigestAlgorithm, KeyKind, RemoteSigner, SignatureAlgorithm};
use shomei_keys::{KeyError, Pkcs12Error, SoftwareSigner};

const CHAIN_SUBJECTS: [&str; 2] = [
    "CN=shomei test intermediate CA,O=shomei test PKI,C=JP",
    "CN=shomei test root CA,O=shomei test PKI,C=JP",
];

#[tokio::test]
async fn opens_with_the_right_password_and_orders_the_chain() {
    for (file, leaf, kind, alg) in [
        (
            "signer-rsa.p12",
            "CN=shomei test signer RSA,O=shomei test PKI,C=JP",
            KeyKind::Rsa { bits: 2048 },
            SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha512),
        ),
        (
            "signer-ec.legacy.p12",
            "CN=shomei test signer EC P-256,O=shomei test PKI,C=JP",
            KeyKind::EcP256,
            SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
        ),
        (
            "signer-ec384.nomac.p12",
            "CN=shomei test signer EC P-384,O=shomei test PKI,C=JP",
            KeyKind::EcP384,
            SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384),
        ),
    ] {
        let signer = SoftwareSigner::from_pkcs12(&fixture(file), P12_PASSWORD)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(signer.key_kind(), kind, "{file}");
        let desc = signer.describe().await.unwrap();
        let subjects: Vec<String> = desc.chain.certs().iter().map(|c| c.subject()).collect();
        assert_eq!(
            subjects,
            [leaf, CHAIN_SUBJECTS[0], CHAIN_SUBJECTS[1]],
            "{file}"
        );
        sign_and_verify(&signer, alg).await;
    }
}

#[test]
fn a_wrong_password_says_so() {
    for file in [
        "signer-rsa.p12",
        "signer-ec.legacy.p12",
        "signer-ec384.nomac.p12",
    ] {
        for password in ["wrong", "", "shomei-test "] {
            let err = SoftwareSigner::from_pkcs12(&fixture(file), password).unwrap_err();
            assert!(
                matches!(err, KeyError::Pkcs12(Pkcs12Error::WrongPassword)),
                "{file} / {password:?}: {err}"
            );
            assert!(err.to_string().contains("wrong password"), "{err}");
        }
    }
}

#[test]
fn extra_chain_certs_can_be_added_after_loading() {
    let mut signer = SoftwareSigner::from_pkcs12(&fixture("signer-rsa.p12"), P12_PASSWORD).unwrap();
    signer.add_chain_certs(issuers());
    assert_eq!(signer.chain().certs().len(), 3);
}

#[test]
fn not_a_p12_is_malformed_without_panicking() {
    let p12 = fixture("signer-rsa.p12");
    for input in [
        &b""[..],
        b"garbage",
        &fixture("signer-rsa.key.pem"),
        &fixture("signer-ec.key.der"),
        &p12[..p12.len() / 2],
    ] {
        let err = SoftwareSigner::from_pkcs12(input, P12_PASSWORD).unwrap_err();
        assert!(
            matches!(err, KeyError::Pkcs12(Pkcs12Error::Malformed(_))),
            "{err}"
        );
    }
}

#[test]
fn bit_flips_never_panic() {
    let p12 = fixture("signer-ec.legacy.p12");
    // Every 13th byte keeps the run short; each flip costs a MAC check.
    for i in (0..p12.len()).step_by(13) {
        let mut damaged = p12.clone();
        damaged[i] ^= 0x04;
        let _ = SoftwareSigner::from_pkcs12(&damaged, P12_PASSWORD);
    }
}
