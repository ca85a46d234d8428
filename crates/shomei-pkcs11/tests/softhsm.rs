//! Against SoftHSM2 in a temporary directory: RSA (PKCS#1 v1.5 and PSS) and ECDSA
//! signatures from the token verify against the certificate; wrong PIN, missing token,
//! missing key and a certificate of another key give their own errors.
//!
//! One test function: the module reads `SOFTHSM2_CONF` once per process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use shomei_core::chain::parse_certificates;
use shomei_core::{Digest, DigestAlgorithm, RemoteSigner, SignatureAlgorithm};
use shomei_pkcs11::{KeySelector, Pkcs11Config, Pkcs11Error, Pkcs11Signer};
use shomei_test_support::paths::pki_dir;
use shomei_test_support::softhsm::{module, SoftHsm};
use zeroize::Zeroizing;

fn config(label: &str, key: KeySelector, pin: &str) -> Pkcs11Config {
    Pkcs11Config::new(module(), label, key, Zeroizing::new(pin.to_owned()))
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn softhsm_token() {
    let hsm = SoftHsm::new();
    std::env::set_var("SOFTHSM2_CONF", hsm.conf());
    hsm.init_token("shomei-test", "1234", "5678");
    let pki = pki_dir();
    for (name, id) in [
        ("signer-rsa", "01"),
        ("signer-ec", "02"),
        ("signer-ec384", "03"),
    ] {
        hsm.import(
            "shomei-test",
            "1234",
            &pki.join(format!("{name}.key.pem")),
            &pki.join(format!("{name}.cert.pem")),
            name,
            id,
        );
    }

    // Every algorithm of each key, several digests per call, through one signer.
    for (name, algorithms) in [
        (
            "signer-rsa",
            vec![
                SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
                SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha512),
                SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
                SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha384),
            ],
        ),
        (
            "signer-ec",
            vec![SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256)],
        ),
        (
            "signer-ec384",
            vec![SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384)],
        ),
    ] {
        let mut c = config("shomei-test", KeySelector::Label(name.into()), "1234");
        c.issuers =
            parse_certificates(&std::fs::read(pki.join("intermediate.cert.pem")).unwrap()).unwrap();
        let signer = Pkcs11Signer::open(c).unwrap();
        let description = block_on(signer.describe()).unwrap();
        assert_eq!(description.chain.certs().len(), 2);
        let cert = description.chain.signing_cert().clone();
        assert!(
            cert.subject()
                .contains(name.trim_start_matches("signer-").to_uppercase().as_str())
                || !cert.subject().is_empty()
        );
        for alg in algorithms {
            let digests: Vec<Digest> = (0..3u8)
                .map(|i| Digest::compute(alg.digest(), &[i; 10]))
                .collect();
            let values = block_on(signer.sign_digests(alg, &digests)).unwrap();
            assert_eq!(values.len(), 3);
            for (d, v) in digests.iter().zip(&values) {
                shomei_core::verify::verify_digest_signature(&cert, alg, d, &v.to_cms().unwrap())
                    .unwrap_or_else(|e| panic!("{name} {alg}: {e}"));
            }
            // A signature of another digest does not verify (the check can fail).
            let other = Digest::compute(alg.digest(), b"other");
            assert!(shomei_core::verify::verify_digest_signature(
                &cert,
                alg,
                &other,
                &values[0].to_cms().unwrap()
            )
            .is_err());
        }
        // Wrong algorithm family for the key.
        let wrong = if name == "signer-rsa" {
            SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256)
        } else {
            SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256)
        };
        assert!(block_on(
            signer.sign_digest(wrong, &Digest::compute(DigestAlgorithm::Sha256, b"x"))
        )
        .is_err());
    }

    // By id, with the certificate from the token.
    let by_id =
        Pkcs11Signer::open(config("shomei-test", KeySelector::Id(vec![2]), "1234")).unwrap();
    assert!(format!("{by_id:?}").contains("ECDSA P-256"));

    // Errors, each with its own message.
    let err = Pkcs11Signer::open(config(
        "shomei-test",
        KeySelector::Label("signer-ec".into()),
        "0000",
    ))
    .unwrap_err();
    assert!(matches!(err, Pkcs11Error::WrongPin(_)), "{err}");
    assert!(err.to_string().contains("wrong PIN"), "{err}");
    let err = Pkcs11Signer::open(config(
        "absent",
        KeySelector::Label("signer-ec".into()),
        "1234",
    ))
    .unwrap_err();
    assert!(matches!(err, Pkcs11Error::NoToken { .. }), "{err}");
    assert!(
        err.to_string().contains("`shomei-test`"),
        "names the tokens present: {err}"
    );
    let err = Pkcs11Signer::open(config(
        "shomei-test",
        KeySelector::Label("nope".into()),
        "1234",
    ))
    .unwrap_err();
    assert!(matches!(err, Pkcs11Error::Key(_)), "{err}");
    assert!(
        err.to_string().contains("signer-rsa"),
        "lists the keys there: {err}"
    );
    let mut mismatched = config(
        "shomei-test",
        KeySelector::Label("signer-rsa".into()),
        "1234",
    );
    mismatched.certificate = Some(
        parse_certificates(&std::fs::read(pki.join("signer-ec.cert.pem")).unwrap())
            .unwrap()
            .remove(0),
    );
    let err = Pkcs11Signer::open(mismatched).unwrap_err();
    assert!(err.to_string().contains("is not the"), "{err}");
    let err = Pkcs11Signer::open(Pkcs11Config::new(
        "/nonexistent/libpkcs11.so",
        "t",
        KeySelector::Id(vec![1]),
        Zeroizing::new("1".into()),
    ))
    .unwrap_err();
    assert!(matches!(err, Pkcs11Error::Module { .. }), "{err}");
    // The PIN never shows in Debug output.
    assert!(!format!("{:?}", config("t", KeySelector::Id(vec![1]), "9876")).contains("9876"));
}
