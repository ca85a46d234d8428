//! Against SoftHSM2 in a temporary directory.
//!
//! Imported keys: RSA (PKCS#1 v1.5 and PSS) and ECDSA signatures from the token verify
//! against the certificate; wrong PIN, missing token, missing key and a certificate of
//! another key give their own errors.
//!
//! Generated keys: each kind is generated on the token, its SubjectPublicKeyInfo parses
//! (here and in OpenSSL), a `Pkcs11Signer` signs with it (by label and by id) and the
//! signatures verify against that SubjectPublicKeyInfo; the token itself refuses to
//! give or expose the private key; destroying the pair removes both objects.
//!
//! One test function: the module reads `SOFTHSM2_CONF` once per process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use der::{Decode, Encode};
use shomei_core::alg::oid;
use shomei_core::chain::{parse_certificates, ChainCert};
use shomei_core::{Digest, DigestAlgorithm, RemoteSigner, SignatureAlgorithm};
use shomei_pkcs11::{
    destroy_key_pair, generate_key_pair, GeneratedKey, KeySelector, Pkcs11Config, Pkcs11Error,
    Pkcs11Signer, TokenKeyKind, TokenLogin,
};
use shomei_test_support::paths::pki_dir;
use shomei_test_support::softhsm::{module, SoftHsm};
use shomei_test_support::tools::openssl;
use std::path::Path;
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// The token the key generation test works on, apart from the imported keys.
const KEYGEN_TOKEN: &str = "shomei-keygen";

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
    hsm.init_token(KEYGEN_TOKEN, "1234", "5678");
    imported_keys(&hsm);
    generated_keys(&hsm);
}

fn imported_keys(hsm: &SoftHsm) {
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

fn keygen_login(pin: &str) -> TokenLogin {
    TokenLogin::new(module(), KEYGEN_TOKEN, Zeroizing::new(pin.to_owned()))
}

/// The test's own PKCS#11 session on the key generation token, to look at the objects
/// without going through the crate. Its context lives in a static and is never dropped:
/// dropping a context finalizes the module under the crate's sessions.
fn inspector() -> Session {
    static CONTEXT: OnceLock<Pkcs11> = OnceLock::new();
    let context = CONTEXT.get_or_init(|| {
        let context = Pkcs11::new(module()).unwrap();
        match context.initialize(CInitializeArgs::OsThreads) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => panic!("C_Initialize: {e}"),
        }
        context
    });
    let slot = context
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| context.get_token_info(*s).unwrap().label().trim_end() == KEYGEN_TOKEN)
        .unwrap();
    let session = context.open_rw_session(slot).unwrap();
    match session.login(UserType::User, Some(&AuthPin::new("1234".into()))) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => panic!("C_Login: {e}"),
    }
    session
}

fn objects(session: &Session, class: ObjectClass, id: &[u8]) -> Vec<ObjectHandle> {
    session
        .find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
        .unwrap()
}

/// Checks that the SubjectPublicKeyInfo is canonical DER of the kind asked for, and that
/// OpenSSL reads it as that key.
fn check_spki(key: &GeneratedKey, dir: &Path, openssl_says: &str) {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(&key.spki_der)
        .unwrap_or_else(|e| panic!("{}: {e}", key.label));
    assert_eq!(spki.to_der().unwrap(), key.spki_der, "canonical DER");
    let curve = || {
        spki.algorithm
            .parameters
            .unwrap()
            .decode_as::<spki::ObjectIdentifier>()
            .unwrap()
    };
    match key.kind {
        TokenKeyKind::Rsa2048 | TokenKeyKind::Rsa3072 => {
            assert_eq!(spki.algorithm.oid, oid::RSA_ENCRYPTION);
            assert_eq!(
                spki.algorithm.parameters.unwrap().to_der().unwrap(),
                [0x05, 0x00],
                "NULL parameters"
            );
            // aws-lc's RSA_check_key on the whole SubjectPublicKeyInfo.
            aws_lc_rs::rsa::PublicKey::from_der(&key.spki_der).unwrap();
        }
        TokenKeyKind::EcP256 => {
            assert_eq!(spki.algorithm.oid, oid::EC_PUBLIC_KEY);
            assert_eq!(curve(), oid::SECP256R1);
        }
        TokenKeyKind::EcP384 => {
            assert_eq!(spki.algorithm.oid, oid::EC_PUBLIC_KEY);
            assert_eq!(curve(), oid::SECP384R1);
        }
        other => panic!("untested kind {other}"),
    }
    let file = dir.join(format!("{}.spki.der", key.label));
    std::fs::write(&file, &key.spki_der).unwrap();
    let (ok, text) = openssl(
        None,
        &[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            file.to_str().unwrap(),
            "-noout",
            "-text",
        ],
    );
    assert!(ok && text.contains(openssl_says), "{}: {text}", key.label);
}

/// A certificate for the generated key, issued by the test intermediate (the signer
/// needs one; a signing service gets it from its CA after a certificate request).
fn certificate_for(key: &GeneratedKey, dir: &Path) -> ChainCert {
    let pki = pki_dir();
    let spki = dir.join(format!("{}.spki.der", key.label));
    let out = dir.join(format!("{}.cert.pem", key.label));
    let (ok, text) = openssl(
        None,
        &[
            "x509",
            "-new",
            "-subj",
            &format!(
                "/CN={} generated on the token/O=shomei test PKI/C=JP",
                key.label
            ),
            "-force_pubkey",
            spki.to_str().unwrap(),
            "-CA",
            pki.join("intermediate.cert.pem").to_str().unwrap(),
            "-CAkey",
            pki.join("intermediate.key.pem").to_str().unwrap(),
            "-days",
            "2",
            "-out",
            out.to_str().unwrap(),
        ],
    );
    assert!(ok, "openssl x509 -new: {text}");
    let cert = parse_certificates(&std::fs::read(&out).unwrap())
        .unwrap()
        .remove(0);
    assert_eq!(cert.spki_der().unwrap(), key.spki_der);
    assert_eq!(cert.key_kind().unwrap(), key.kind.key_kind());
    cert
}

/// Verifies `signature` (CMS encoding) over `digest` with the public key of the
/// SubjectPublicKeyInfo `spki_der` only — no certificate involved.
fn verifies_with_spki(
    spki_der: &[u8],
    alg: SignatureAlgorithm,
    digest: &Digest,
    signature: &[u8],
) -> bool {
    use aws_lc_rs::{digest as lc_digest, signature as lc};
    use DigestAlgorithm::{Sha256, Sha384};
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der).unwrap();
    // aws-lc takes an EC key as a whole SubjectPublicKeyInfo, RSA as PKCS#1.
    let (params, key): (&'static dyn lc::VerificationAlgorithm, &[u8]) = match alg {
        SignatureAlgorithm::RsaPkcs1v15(Sha256) => (
            &lc::RSA_PKCS1_2048_8192_SHA256,
            spki.subject_public_key.raw_bytes(),
        ),
        SignatureAlgorithm::RsaPkcs1v15(Sha384) => (
            &lc::RSA_PKCS1_2048_8192_SHA384,
            spki.subject_public_key.raw_bytes(),
        ),
        SignatureAlgorithm::RsaPss(Sha256) => (
            &lc::RSA_PSS_2048_8192_SHA256,
            spki.subject_public_key.raw_bytes(),
        ),
        SignatureAlgorithm::Ecdsa(Sha256) => (&lc::ECDSA_P256_SHA256_ASN1, spki_der),
        SignatureAlgorithm::Ecdsa(Sha384) => (&lc::ECDSA_P384_SHA384_ASN1, spki_der),
        other => panic!("untested algorithm {other}"),
    };
    let lc_alg = match digest.algorithm() {
        Sha256 => &lc_digest::SHA256,
        Sha384 => &lc_digest::SHA384,
        other => panic!("untested digest {other}"),
    };
    let d = lc_digest::Digest::import_less_safe(digest.as_bytes(), lc_alg).unwrap();
    lc::UnparsedPublicKey::new(params, key)
        .verify_digest(&d, signature)
        .is_ok()
}

fn generated_keys(hsm: &SoftHsm) {
    let login = keygen_login("1234");
    let kinds = [
        (
            TokenKeyKind::EcP256,
            "gen-p256",
            vec![SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256)],
            "NIST CURVE: P-256",
        ),
        (
            TokenKeyKind::Rsa2048,
            "gen-rsa2048",
            vec![
                SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
                SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha256),
            ],
            "Public-Key: (2048 bit)",
        ),
        (
            TokenKeyKind::EcP384,
            "gen-p384",
            vec![SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384)],
            "NIST CURVE: P-384",
        ),
        (
            TokenKeyKind::Rsa3072,
            "gen-rsa3072",
            vec![SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha384)],
            "Public-Key: (3072 bit)",
        ),
    ];
    let mut ids = Vec::new();
    for (kind, label, algorithms, openssl_says) in kinds {
        // The crate logs the token in first (see `inspector`).
        let key = generate_key_pair(&login, label, kind)
            .unwrap_or_else(|e| panic!("generating {kind}: {e}"));
        assert_eq!(key.label, label);
        assert_eq!(key.kind, kind);
        assert_eq!(key.id.len(), 16, "{label}: a 16-byte CKA_ID");
        assert!(!ids.contains(&key.id), "{label}: a fresh CKA_ID");
        ids.push(key.id.clone());
        check_spki(&key, hsm.dir(), openssl_says);

        // What the token itself says about the objects.
        let inspect = inspector();
        let private = objects(&inspect, ObjectClass::PRIVATE_KEY, &key.id);
        let public = objects(&inspect, ObjectClass::PUBLIC_KEY, &key.id);
        assert_eq!((private.len(), public.len()), (1, 1), "{label}: one pair");
        let attributes = inspect
            .get_attributes(
                private[0],
                &[
                    AttributeType::Extractable,
                    AttributeType::Sensitive,
                    AttributeType::NeverExtractable,
                    AttributeType::AlwaysSensitive,
                    AttributeType::Token,
                    AttributeType::Sign,
                    AttributeType::Decrypt,
                    AttributeType::Label,
                ],
            )
            .unwrap();
        assert_eq!(
            attributes,
            [
                Attribute::Extractable(false),
                Attribute::Sensitive(true),
                Attribute::NeverExtractable(true),
                Attribute::AlwaysSensitive(true),
                Attribute::Token(true),
                Attribute::Sign(true),
                Attribute::Decrypt(false),
                Attribute::Label(label.as_bytes().to_vec()),
            ],
            "{label}"
        );
        let public_attributes = inspect
            .get_attributes(public[0], &[AttributeType::Verify, AttributeType::Label])
            .unwrap();
        assert_eq!(
            public_attributes,
            [
                Attribute::Verify(true),
                Attribute::Label(label.as_bytes().to_vec())
            ]
        );
        // The secret parts cannot be read: C_GetAttributeValue answers
        // CKR_ATTRIBUTE_SENSITIVE, and no value comes back.
        let secret: &[AttributeType] = match kind {
            TokenKeyKind::EcP256 | TokenKeyKind::EcP384 => &[AttributeType::Value],
            _ => &[
                AttributeType::PrivateExponent,
                AttributeType::Prime1,
                AttributeType::Prime2,
                AttributeType::Exponent1,
                AttributeType::Exponent2,
                AttributeType::Coefficient,
            ],
        };
        for info in inspect.get_attribute_info(private[0], secret).unwrap() {
            assert!(
                matches!(info, AttributeInfo::Sensitive),
                "{label}: {info:?}"
            );
        }
        assert_eq!(inspect.get_attributes(private[0], secret).unwrap(), []);
        // Nor can the key be made readable afterwards.
        for loosen in [Attribute::Extractable(true), Attribute::Sensitive(false)] {
            assert!(
                inspect
                    .update_attributes(private[0], std::slice::from_ref(&loosen))
                    .is_err(),
                "{label}: the token accepted {loosen:?}"
            );
        }
        drop(inspect);

        // The signer signs with it, selected by label, and by id; each signature
        // verifies against the returned SubjectPublicKeyInfo.
        let cert = certificate_for(&key, hsm.dir());
        let with_cert = |selector: KeySelector| {
            let mut c = config(KEYGEN_TOKEN, selector, "1234");
            c.certificate = Some(cert.clone());
            c
        };
        let signer = Pkcs11Signer::open(with_cert(KeySelector::Label(label.into())))
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        for alg in &algorithms {
            let digests: Vec<Digest> = (0..2u8)
                .map(|i| Digest::compute(alg.digest(), &[i; 20]))
                .collect();
            let values = block_on(signer.sign_digests(*alg, &digests)).unwrap();
            assert_eq!(values.len(), 2);
            for (d, v) in digests.iter().zip(&values) {
                assert!(
                    verifies_with_spki(&key.spki_der, *alg, d, &v.to_cms().unwrap()),
                    "{label} {alg}"
                );
            }
            // The check can fail: not over another digest.
            let other = Digest::compute(alg.digest(), b"other");
            assert!(!verifies_with_spki(
                &key.spki_der,
                *alg,
                &other,
                &values[0].to_cms().unwrap()
            ));
        }
        let by_id = Pkcs11Signer::open(with_cert(key.selector())).unwrap();
        let alg = algorithms[0];
        let digest = Digest::compute(alg.digest(), b"by id");
        let value = block_on(by_id.sign_digest(alg, &digest)).unwrap();
        assert!(verifies_with_spki(
            &key.spki_der,
            alg,
            &digest,
            &value.to_cms().unwrap()
        ));

        // A second key with the label would make the label ambiguous.
        let err = generate_key_pair(&login, label, kind).unwrap_err();
        assert!(matches!(err, Pkcs11Error::LabelInUse { .. }), "{err}");

        // Destroyed: both objects are gone, the open signer fails, a new one cannot
        // find the key, and a second destruction has nothing to destroy.
        destroy_key_pair(&login, &key.id).unwrap();
        let inspect = inspector();
        assert!(objects(&inspect, ObjectClass::PRIVATE_KEY, &key.id).is_empty());
        assert!(objects(&inspect, ObjectClass::PUBLIC_KEY, &key.id).is_empty());
        drop(inspect);
        assert!(block_on(signer.sign_digest(alg, &digest)).is_err());
        let err = Pkcs11Signer::open(with_cert(KeySelector::Label(label.into()))).unwrap_err();
        assert!(matches!(err, Pkcs11Error::Key(_)), "{err}");
        assert!(err.to_string().contains("no private key"), "{err}");
        let err = destroy_key_pair(&login, &key.id).unwrap_err();
        assert!(matches!(err, Pkcs11Error::Key(_)), "{err}");
    }

    // Refused before the token is asked to generate anything.
    let err = generate_key_pair(&login, "", TokenKeyKind::EcP256).unwrap_err();
    assert!(matches!(err, Pkcs11Error::ApiMisuse(_)), "{err}");
    let err = destroy_key_pair(&login, &[]).unwrap_err();
    assert!(matches!(err, Pkcs11Error::ApiMisuse(_)), "{err}");
    let err = generate_key_pair(&keygen_login("0000"), "gen-x", TokenKeyKind::EcP256).unwrap_err();
    assert!(matches!(err, Pkcs11Error::WrongPin(_)), "{err}");
    let err = generate_key_pair(
        &TokenLogin::new(module(), "absent", Zeroizing::new("1234".into())),
        "gen-x",
        TokenKeyKind::EcP256,
    )
    .unwrap_err();
    assert!(matches!(err, Pkcs11Error::NoToken { .. }), "{err}");
    // Nothing was left behind by the refusals.
    let inspect = inspector();
    assert!(inspect
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
        .unwrap()
        .is_empty());
    // The PIN never shows in Debug output.
    assert!(!format!("{:?}", keygen_login("9876")).contains("9876"));
}
