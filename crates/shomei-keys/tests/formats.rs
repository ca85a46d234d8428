//! Key encodings: what loads, what is refused, and with which error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, Ed25519KeyPair};
use common::*;
use shomei_core::{CertificateChain, DigestAlgorithm, KeyKind, SignatureAlgorithm};
use shomei_keys::{detect_format, KeyError, KeyFormat, SoftwareSigner};

fn from_key(key: &[u8], cert: &str) -> Result<SoftwareSigner, KeyError> {
    SoftwareSigner::from_key_and_chain(key, chain_for(cert))
}

#[tokio::test]
async fn openssl_encodings_load_and_sign() {
    let rsa = SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256);
    let ec = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256);
    for (file, cert, alg) in [
        ("signer-rsa.key.pem", "signer-rsa", rsa),
        ("signer-rsa.pkcs1.key.pem", "signer-rsa", rsa),
        ("signer-ec.key.pem", "signer-ec", ec),
        ("signer-ec.sec1.key.pem", "signer-ec", ec),
        ("signer-ec.key.der", "signer-ec", ec),
        ("signer-ec384.key.pem", "signer-ec384", ec),
    ] {
        let signer = from_key(&fixture(file), cert).unwrap_or_else(|e| panic!("{file}: {e}"));
        sign_and_verify(&signer, alg).await;
    }
}

#[test]
fn pkcs1_der_loads() {
    // PKCS#1 DER, from the PEM body.
    let pem = String::from_utf8(fixture("signer-rsa.pkcs1.key.pem")).unwrap();
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    assert_eq!(label, "RSA PRIVATE KEY");
    assert_eq!(detect_format(&der), KeyFormat::Pkcs1Rsa);
    let signer = from_key(&der, "signer-rsa").unwrap();
    assert_eq!(signer.key_kind(), KeyKind::Rsa { bits: 2048 });
}

#[test]
fn formats_are_detected_from_content() {
    for (file, format) in [
        ("signer-rsa.key.pem", KeyFormat::Pkcs8),
        ("signer-ec.key.der", KeyFormat::Pkcs8),
        ("signer-rsa.pkcs1.key.pem", KeyFormat::Pkcs1Rsa),
        ("signer-ec.sec1.key.pem", KeyFormat::Sec1Ec),
        ("signer-ec.encrypted.key.pem", KeyFormat::EncryptedPkcs8),
        ("signer-rsa.p12", KeyFormat::Pkcs12),
        ("signer-ec.legacy.p12", KeyFormat::Pkcs12),
        ("signer-rsa.cert.pem", KeyFormat::Certificate),
        ("chain.pem", KeyFormat::Certificate),
    ] {
        assert_eq!(detect_format(&fixture(file)), format, "{file}");
    }
}

#[test]
fn openssl_ecparam_output_with_parameters_block_loads() {
    // `openssl ecparam -genkey` writes an EC PARAMETERS block before the key.
    let mut input =
        b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n".to_vec();
    input.extend(fixture("signer-ec.sec1.key.pem"));
    let signer = from_key(&input, "signer-ec").unwrap();
    assert_eq!(signer.key_kind(), KeyKind::EcP256);
}

#[test]
fn a_pem_bundle_with_certificate_and_key_loads() {
    let mut input = fixture("signer-ec384.cert.pem");
    input.extend(b"Bag Attributes\n    friendlyName: x\n");
    input.extend(fixture("signer-ec384.key.pem"));
    input.extend(fixture("chain.pem"));
    assert_eq!(detect_format(&input), KeyFormat::Pkcs8);
    assert_eq!(
        from_key(&input, "signer-ec384").unwrap().key_kind(),
        KeyKind::EcP384
    );
}

#[test]
fn crlf_line_endings_load() {
    let pem = String::from_utf8(fixture("signer-ec.key.pem"))
        .unwrap()
        .replace('\n', "\r\n");
    assert!(from_key(pem.as_bytes(), "signer-ec").is_ok());
}

#[test]
fn encrypted_pkcs8_is_refused_with_advice() {
    let err = from_key(&fixture("signer-ec.encrypted.key.pem"), "signer-ec").unwrap_err();
    assert!(matches!(err, KeyError::EncryptedPkcs8), "{err}");
    assert_eq!(
        err.to_string(),
        "encrypted PKCS#8 keys are not supported; use PKCS#12 or decrypt the key"
    );
    // The DER form too.
    let pem = String::from_utf8(fixture("signer-ec.encrypted.key.pem")).unwrap();
    let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    assert!(matches!(
        from_key(&der, "signer-ec"),
        Err(KeyError::EncryptedPkcs8)
    ));
}

#[test]
fn rsa_key_with_ec_certificate_is_a_mismatch() {
    let err = from_key(&fixture("signer-rsa.key.pem"), "signer-ec").unwrap_err();
    let KeyError::KeyCertMismatch { subject, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(
        subject,
        "CN=shomei test signer EC P-256,O=shomei test PKI,C=JP"
    );
    assert!(
        err.to_string().contains("shomei test signer EC P-256"),
        "{err}"
    );
}

#[test]
fn rsa_key_with_another_rsa_certificate_is_a_mismatch() {
    let chain = CertificateChain::from_pem_or_der(&fixture("other-rsa.cert.pem")).unwrap();
    let err =
        SoftwareSigner::from_key_and_chain(&fixture("signer-rsa.key.pem"), chain).unwrap_err();
    let KeyError::KeyCertMismatch { subject, detail } = &err else {
        panic!("{err}");
    };
    assert!(subject.contains("shomei test other RSA"), "{err}");
    assert!(detail.contains("public keys differ"), "{err}");
}

#[test]
fn ec_keys_on_the_wrong_curve_or_another_key_are_mismatches() {
    for (key, cert) in [
        ("signer-ec.key.pem", "signer-ec384"),
        ("signer-ec384.key.pem", "signer-ec"),
        ("demo.key.pem", "signer-ec"),
        ("signer-ec.key.pem", "signer-rsa"),
    ] {
        let err = from_key(&fixture(key), cert).unwrap_err();
        assert!(
            matches!(err, KeyError::KeyCertMismatch { .. }),
            "{key} + {cert}: {err}"
        );
    }
}

#[test]
fn garbage_is_not_a_key() {
    let truncated_pem = {
        let pem = String::from_utf8(fixture("signer-ec.key.pem")).unwrap();
        pem.replace("-----END PRIVATE KEY-----", "")
    };
    for input in [
        &b""[..],
        b"\0\0\0\0",
        b"hello world",
        b"\x30",
        b"\x30\x82\xff\xff",
        b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n",
        truncated_pem.as_bytes(),
        &fixture("signer-rsa.cert.pem"),
        &fixture("signer-rsa.p12"),
    ] {
        let err = from_key(input, "signer-ec").unwrap_err();
        assert!(matches!(err, KeyError::NotAKey(_)), "{input:?}: {err}");
    }
}

#[test]
fn the_p12_hint_names_the_right_constructor() {
    let err = from_key(&fixture("signer-rsa.p12"), "signer-rsa").unwrap_err();
    assert!(err.to_string().contains("from_pkcs12"), "{err}");
}

#[test]
fn every_truncation_and_bit_flip_is_an_error_not_a_panic() {
    let der = fixture("signer-ec.key.der");
    for len in 0..der.len() {
        assert!(from_key(&der[..len], "signer-ec").is_err(), "prefix {len}");
    }
    for i in 0..der.len() {
        let mut damaged = der.clone();
        damaged[i] ^= 0x80;
        // Some flips leave a valid key (e.g. in the optional public key); none may panic.
        let _ = from_key(&damaged, "signer-ec");
    }
    let pem = fixture("signer-rsa.key.pem");
    for len in (0..pem.len()).step_by(7) {
        assert!(
            from_key(&pem[..len], "signer-rsa").is_err(),
            "PEM prefix {len}"
        );
    }
}

#[test]
fn two_keys_in_one_file_are_refused() {
    let mut input = fixture("signer-ec.key.pem");
    input.extend(fixture("signer-ec384.key.pem"));
    let err = from_key(&input, "signer-ec").unwrap_err();
    assert!(matches!(err, KeyError::MultipleKeys { count: 2 }), "{err}");
}

#[test]
fn unsupported_key_types_say_what_they_are() {
    let rng = SystemRandom::new();
    let p521 = EcdsaKeyPair::generate(&lc::ECDSA_P521_SHA512_ASN1_SIGNING)
        .unwrap()
        .to_pkcs8v1()
        .unwrap();
    let err = from_key(p521.as_ref(), "signer-ec").unwrap_err();
    assert!(matches!(err, KeyError::UnsupportedKeyType(_)), "{err}");
    assert!(err.to_string().contains("P-521"), "{err}");

    let ed = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let err = from_key(ed.as_ref(), "signer-ec").unwrap_err();
    assert!(matches!(err, KeyError::UnsupportedKeyType(_)), "{err}");
    assert!(err.to_string().contains("Ed25519"), "{err}");

    // An RSA key the signer could use, paired with the wrong certificate, is
    // still a mismatch rather than an unsupported key.
    let rsa = lc::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
        .unwrap()
        .as_der()
        .unwrap();
    let err = from_key(rsa.as_ref(), "signer-rsa").unwrap_err();
    assert!(matches!(err, KeyError::KeyCertMismatch { .. }), "{err}");
}
