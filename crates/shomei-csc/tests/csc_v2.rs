//! CscSigner against the in-process CSC 2.0.0.2 double, over real loopback HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

use serde_json::Value;
use shomei_core::{DigestAlgorithm, RemoteSigner, SignatureAlgorithm, SignatureValue, SignerError};
use shomei_csc::{list_credentials, CscAuth, CscConfig, CscError, CscSigner, CscVersion};
use shomei_test_support::csc_double::{
    digests, transport, verify_all, Api, Double, Flaky, SadMode, ScriptedClock, EC, RSA,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;

const SHA256: DigestAlgorithm = DigestAlgorithm::Sha256;

fn config(d: &Double, credential: &str) -> CscConfig {
    CscConfig::new(d.base_url.clone(), CscVersion::V2, credential)
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn v2_names_and_one_authorize_one_sign_hash_for_ten_digests() {
    let d = Double::start(Api::V2).await;
    let signer = CscSigner::connect(transport(), config(&d, EC))
        .await
        .unwrap();
    let description = signer.describe().await.unwrap();
    assert_eq!(
        description.chain.certs().len(),
        3,
        "leaf, intermediate, root"
    );
    assert_eq!(
        description.algorithms,
        vec![
            SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
            SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384),
            SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha512),
        ]
    );
    assert_eq!(description.max_signature_len, 72);

    let alg = SignatureAlgorithm::Ecdsa(SHA256);
    let ds = digests(SHA256, 10);
    let values = signer.sign_digests(alg, &ds).await.unwrap();
    assert!(values
        .iter()
        .all(|v| matches!(v, SignatureValue::EcdsaDer(_))));
    verify_all(description.chain.signing_cert(), alg, &ds, &values);

    assert_eq!(d.calls("credentials/authorize"), 1);
    assert_eq!(d.calls("signatures/signHash"), 1);
    let calls = signer.calls();
    assert_eq!((calls.authorize, calls.sign_hash, calls.other), (1, 1, 2));

    // The 2.0.0.2 names, and no 1.0.4 one.
    let auth = d.last_body("credentials/authorize");
    assert_eq!(
        keys(&auth),
        vec!["credentialID", "numSignatures"],
        "SCAL 1: no hashes"
    );
    assert_eq!(auth["numSignatures"], 10);
    let sign = d.last_body("signatures/signHash");
    assert_eq!(
        keys(&sign),
        vec![
            "SAD",
            "credentialID",
            "hashAlgorithmOID",
            "hashes",
            "signAlgo"
        ]
    );
    assert_eq!(sign["hashAlgorithmOID"], "2.16.840.1.101.3.4.2.1");
    assert_eq!(sign["signAlgo"], "1.2.840.10045.4.3.2");
    assert_eq!(sign["hashes"].as_array().unwrap().len(), 10);
    let info = d.last_body("credentials/info");
    assert_eq!(info["certificates"], "chain");
    d.stop().await;
}

#[tokio::test]
async fn v2_double_refuses_v1_names() {
    let d = Double::start(Api::V2).await;
    let t = transport();
    let body = serde_json::json!({"credentialID": EC, "numSignatures": 1, "hash": ["AAAA"]});
    let response = t
        .send(shomei_core::HttpRequest::post(
            format!("{}/credentials/authorize", d.base_url),
            "application/json",
            body.to_string().into_bytes(),
        ))
        .await
        .unwrap();
    assert_eq!(response.status, 400);
    assert!(String::from_utf8_lossy(&response.body).contains("Unknown parameter hash"));
    // And a client configured for 1.0.4 is told the service speaks 2.0.0.2.
    let err = CscSigner::connect(t, CscConfig::new(d.base_url.clone(), CscVersion::V1, EC))
        .await
        .unwrap_err();
    assert!(matches!(err, CscError::Config(_)), "{err}");
    assert!(err.to_string().contains("speaks CSC API 2.0.0.2"), "{err}");
    d.stop().await;
}

#[tokio::test]
async fn rsa_pkcs1_and_pss_verify() {
    let d = Double::start(Api::V2).await;
    let signer = CscSigner::connect(transport(), config(&d, RSA))
        .await
        .unwrap();
    let description = signer.describe().await.unwrap();
    assert_eq!(description.algorithms.len(), 6);
    assert_eq!(description.max_signature_len, 256);
    for (alg, sign_algo) in [
        (
            SignatureAlgorithm::RsaPkcs1v15(SHA256),
            "1.2.840.113549.1.1.1",
        ),
        (
            SignatureAlgorithm::RsaPss(DigestAlgorithm::Sha384),
            "1.2.840.113549.1.1.10",
        ),
    ] {
        let ds = digests(alg.digest(), 3);
        let values = signer.sign_digests(alg, &ds).await.unwrap();
        assert!(values.iter().all(|v| matches!(v, SignatureValue::Rsa(_))));
        verify_all(description.chain.signing_cert(), alg, &ds, &values);
        let sign = d.last_body("signatures/signHash");
        assert_eq!(sign["signAlgo"], sign_algo);
        assert_eq!(
            sign["hashAlgorithmOID"],
            alg.digest().oid().to_string().as_str()
        );
        // The double checked signAlgoParams byte for byte for PSS.
        assert_eq!(
            sign.get("signAlgoParams").is_some(),
            matches!(alg, SignatureAlgorithm::RsaPss(_))
        );
    }
    assert_eq!(signer.calls().authorize, 2);
    d.stop().await;
}

#[tokio::test]
async fn scal2_sends_the_hashes_to_authorize() {
    let d = Double::start(Api::V2).await;
    d.set(|b| b.scal2 = true);
    let signer = CscSigner::connect(transport(), config(&d, EC))
        .await
        .unwrap();
    let alg = SignatureAlgorithm::Ecdsa(SHA256);
    let ds = digests(SHA256, 4);
    let values = signer.sign_digests(alg, &ds).await.unwrap();
    verify_all(
        signer.describe().await.unwrap().chain.signing_cert(),
        alg,
        &ds,
        &values,
    );
    let auth = d.last_body("credentials/authorize");
    assert_eq!(auth["hashAlgorithmOID"], "2.16.840.1.101.3.4.2.1");
    let sent: Vec<&str> = auth["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    let sign = d.last_body("signatures/signHash");
    let signed: Vec<&str> = sign["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(sent.len(), 4);
    assert_eq!(sent, signed);
    d.stop().await;
}

#[tokio::test]
async fn pin_explicit_authorization_and_its_errors() {
    let d = Double::start(Api::V2).await;
    d.set(|b| b.require_pin = Some("482916".into()));
    let alg = SignatureAlgorithm::Ecdsa(SHA256);
    let ds = digests(SHA256, 2);

    // Right PIN: sent in authData, signatures verify.
    let good = CscSigner::connect(transport(), config(&d, EC).with_pin("482916"))
        .await
        .unwrap();
    let values = good.sign_digests(alg, &ds).await.unwrap();
    verify_all(
        good.describe().await.unwrap().chain.signing_cert(),
        alg,
        &ds,
        &values,
    );
    let auth = d.last_body("credentials/authorize");
    assert_eq!(auth["authData"][0]["id"], "PIN");
    assert!(auth.get("PIN").is_none());

    // Wrong PIN: a clear message, Unauthorized, and the PIN nowhere.
    let config = config(&d, EC).with_pin("111111");
    let wrong = CscSigner::connect(transport(), config.clone())
        .await
        .unwrap();
    let err = wrong.sign(alg, &ds).await.unwrap_err();
    assert!(matches!(err, CscError::WrongPinOrOtp { .. }), "{err}");
    let text = err.to_string();
    assert!(text.starts_with("wrong PIN or OTP"), "{text}");
    assert!(
        text.contains("Invalid PIN"),
        "the server's description: {text}"
    );
    for shown in [
        text.clone(),
        format!("{err:?}"),
        format!("{config:?}"),
        format!("{wrong:?}"),
    ] {
        assert!(!shown.contains("111111"), "PIN leaked: {shown}");
    }
    let signer_err = wrong.sign_digests(alg, &ds).await.unwrap_err();
    assert!(
        matches!(signer_err, SignerError::Unauthorized(_)),
        "{signer_err}"
    );
    assert!(!format!("{signer_err} {signer_err:?}").contains("111111"));
    assert_eq!(wrong.calls().sign_hash, 0);

    // No PIN configured: refused before any authorize call.
    let before = d.calls("credentials/authorize");
    let none = CscSigner::connect(transport(), config_without_pin(&d))
        .await
        .unwrap();
    let err = none.sign(alg, &ds).await.unwrap_err();
    assert!(matches!(err, CscError::SecretMissing { .. }), "{err}");
    assert!(err.to_string().contains("needs a PIN"), "{err}");
    assert_eq!(d.calls("credentials/authorize"), before);
    d.stop().await;
}

fn config_without_pin(d: &Double) -> CscConfig {
    config(d, EC)
}

#[tokio::test]
async fn invalid_and_expired_sad_are_clear_errors() {
    let d = Double::start(Api::V2).await;
    let signer = CscSigner::connect(transport(), config(&d, EC))
        .await
        .unwrap();
    let alg = SignatureAlgorithm::Ecdsa(SHA256);
    for (mode, server_text) in [
        (SadMode::Invalid, "Invalid parameter SAD"),
        (SadMode::Expired, "SAD expired"),
    ] {
        d.set(|b| b.sad = mode);
        let err = signer.sign(alg, &digests(SHA256, 2)).await.unwrap_err();
        assert!(matches!(err, CscError::SadInvalid { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("the signature activation data (SAD) is invalid or expired"),
            "{text}"
        );
        assert!(text.contains(server_text), "{text}");
        assert!(!text.contains("sad-"), "the SAD itself leaked: {text}");
        let mapped = SignerError::from(err);
        assert!(matches!(mapped, SignerError::Unauthorized(_)), "{mapped}");
    }
    d.stop().await;
}

#[tokio::test]
async fn unknown_credential_and_disabled_key_fail_at_connect() {
    let d = Double::start(Api::V2).await;
    let err = CscSigner::connect(transport(), config(&d, "nobody"))
        .await
        .unwrap_err();
    assert!(matches!(err, CscError::UnknownCredential { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("unknown credential nobody"), "{text}");
    assert!(text.contains("Invalid parameter credentialID"), "{text}");
    assert!(matches!(SignerError::from(err), SignerError::Key(_)));

    d.set(|b| b.key_status = "disabled".into());
    let err = CscSigner::connect(transport(), config(&d, EC))
        .await
        .unwrap_err();
    assert!(matches!(err, CscError::KeyUnusable { .. }), "{err}");
    assert!(err.to_string().contains("key status \"disabled\""), "{err}");
    d.stop().await;
}

#[tokio::test]
async fn bearer_token_is_sent_and_checked() {
    let d = Double::start(Api::V2).await;
    d.set(|b| b.expected_authorization = Some("Bearer tok-abc123".into()));
    let alg = SignatureAlgorithm::Ecdsa(SHA256);

    let err = CscSigner::connect(transport(), config(&d, EC))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CscError::Unauthorized { status: 401, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("invalid_token"), "{err}");

    let config = config(&d, EC).with_auth(CscAuth::bearer("tok-abc123"));
    assert!(!format!("{config:?}").contains("tok-abc123"));
    let signer = CscSigner::connect(transport(), config).await.unwrap();
    let ds = digests(SHA256, 3);
    signer.sign_digests(alg, &ds).await.unwrap();
    // Every call carried the header (the double refuses any that does not).
    assert_eq!(d.calls("signatures/signHash"), 1);
    let ids = list_credentials(
        transport(),
        &d.base_url,
        CscVersion::V2,
        &CscAuth::bearer("tok-abc123"),
    )
    .await
    .unwrap();
    assert_eq!(ids, vec![EC.to_string(), RSA.to_string()]);
    d.stop().await;
}

#[tokio::test]
async fn client_credentials_token_is_fetched_once_and_sent() {
    let d = Double::start(Api::V2).await;
    d.set(|b| {
        b.client_credentials = Some(("shomei".into(), "s3cr&t=x".into(), "issued-token".into()));
        b.expected_authorization = Some("Bearer issued-token".into());
    });
    let auth = CscAuth::client_credentials(d.token_url.clone(), "shomei", "s3cr&t=x");
    assert!(!format!("{auth:?}").contains("s3cr"));
    let signer = CscSigner::connect(transport(), config(&d, EC).with_auth(auth))
        .await
        .unwrap();
    let alg = SignatureAlgorithm::Ecdsa(SHA256);
    signer.sign_digests(alg, &digests(SHA256, 2)).await.unwrap();
    assert_eq!(
        d.calls("oauth2/token"),
        1,
        "cached across the four CSC calls"
    );
    assert_eq!(signer.calls().token, 1);
    assert_eq!(d.calls("signatures/signHash"), 1);

    // The service stops accepting the cached token (revoked): one new token, the call
    // is sent again and succeeds.
    d.set(|b| {
        b.client_credentials = Some(("shomei".into(), "s3cr&t=x".into(), "second-token".into()));
        b.expected_authorization = Some("Bearer second-token".into());
    });
    signer.sign_digests(alg, &digests(SHA256, 1)).await.unwrap();
    assert_eq!(d.calls("oauth2/token"), 2);
    assert_eq!(signer.calls().token, 2);
    assert_eq!(d.calls("signatures/signHash"), 2);

    // A wrong secret: refused, and the secret is not in the message.
    let bad = CscAuth::client_credentials(d.token_url.clone(), "shomei", "wrong-secret");
    let err = CscSigner::connect(transport(), config(&d, EC).with_auth(bad))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CscError::Unauthorized {
                method: "token",
                ..
            }
        ),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("wrong-secret"));
    d.stop().await;
}

#[tokio::test]
async fn batches_larger_than_multisign_are_chunked() {
    let d = Double::start(Api::V2).await;
    d.set(|b| b.multisign = 4);
    let signer = CscSigner::connect(transport(), config(&d, RSA))
        .await
        .unwrap();
    let alg = SignatureAlgorithm::RsaPkcs1v15(SHA256);
    let ds = digests(SHA256, 10);
    let values = signer.sign_digests(alg, &ds).await.unwrap();
    verify_all(
        signer.describe().await.unwrap().chain.signing_cert(),
        alg,
        &ds,
        &values,
    );
    let counts: Vec<u64> = d
        .bodies("credentials/authorize")
        .iter()
        .map(|b| b["numSignatures"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, vec![4, 4, 2]);
    assert_eq!((signer.calls().authorize, signer.calls().sign_hash), (3, 3));
    d.stop().await;
}

#[tokio::test]
async fn expired_sad_reauthorizes_with_a_pin_but_not_with_an_otp() {
    let d = Double::start(Api::V2).await;
    d.set(|b| {
        b.require_pin = Some("2468".into());
        b.expires_in = Some(600);
    });
    let alg = SignatureAlgorithm::Ecdsa(SHA256);
    let ds = digests(SHA256, 2);
    // Clock reads: after authorize (t=0, SAD good until 600), before signHash
    // (t=900: expired), after the second authorize (t=900), before signHash.
    let clock = Arc::new(ScriptedClock::new(&[0, 900]));
    let signer = CscSigner::connect_with_clock(transport(), config(&d, EC).with_pin("2468"), clock)
        .await
        .unwrap();
    let values = signer.sign_digests(alg, &ds).await.unwrap();
    verify_all(
        signer.describe().await.unwrap().chain.signing_cert(),
        alg,
        &ds,
        &values,
    );
    assert_eq!((signer.calls().authorize, signer.calls().sign_hash), (2, 1));

    d.set(|b| {
        b.require_pin = None;
        b.require_otp = Some("777777".into());
    });
    let clock = Arc::new(ScriptedClock::new(&[0, 900]));
    let signer =
        CscSigner::connect_with_clock(transport(), config(&d, EC).with_otp("777777"), clock)
            .await
            .unwrap();
    let err = signer.sign(alg, &ds).await.unwrap_err();
    assert!(matches!(err, CscError::SadExpired), "{err}");
    assert!(err.to_string().contains("SAD) expired"), "{err}");
    assert_eq!((signer.calls().authorize, signer.calls().sign_hash), (1, 0));
    d.stop().await;
}

#[tokio::test]
async fn only_idempotent_calls_are_retried() {
    let d = Double::start(Api::V2).await;
    // info fails twice, then works: connect succeeds after two retries.
    let flaky = Arc::new(Flaky::new(transport(), "/info", 2));
    let signer = CscSigner::connect(flaky.clone(), config(&d, EC))
        .await
        .unwrap();
    assert_eq!(d.calls("info"), 1);
    assert_eq!(
        signer.calls().other,
        4,
        "three info attempts, one credentials/info"
    );

    // Three failures are one too many.
    let flaky = Arc::new(Flaky::new(transport(), "/info", 3));
    let err = CscSigner::connect(flaky, config(&d, EC)).await.unwrap_err();
    assert!(matches!(err, CscError::Unreachable { .. }), "{err}");

    // authorize is never repeated.
    let flaky = Arc::new(Flaky::new(transport(), "/credentials/authorize", 1));
    let signer = CscSigner::connect(flaky.clone(), config(&d, EC))
        .await
        .unwrap();
    let before = d.calls("credentials/authorize");
    let err = signer
        .sign_digests(SignatureAlgorithm::Ecdsa(SHA256), &digests(SHA256, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, SignerError::Unavailable(_)), "{err}");
    assert_eq!(d.calls("credentials/authorize"), before);
    assert_eq!(signer.calls().authorize, 1);
    assert_eq!(flaky.times.load(Ordering::SeqCst), 0);
    d.stop().await;
}

#[tokio::test]
async fn unreachable_service_is_unavailable() {
    // Bind and drop, so the port is (almost certainly) closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = CscConfig::new(
        format!("http://127.0.0.1:{port}/csc/v2"),
        CscVersion::V2,
        EC,
    );
    let flaky_count = Arc::new(Flaky::new(transport(), "never", 0));
    let err = CscSigner::connect(flaky_count.clone(), config)
        .await
        .unwrap_err();
    assert!(matches!(err, CscError::Unreachable { .. }), "{err}");
    assert_eq!(
        flaky_count.sent.load(Ordering::SeqCst),
        3,
        "one try, two retries"
    );
    assert!(matches!(
        SignerError::from(err),
        SignerError::Unavailable(_)
    ));
}

#[tokio::test]
async fn ecdsa_fixed_values_are_typed_as_such() {
    let d = Double::start(Api::V2).await;
    d.set(|b| b.ecdsa_fixed = true);
    let signer = CscSigner::connect(transport(), config(&d, EC))
        .await
        .unwrap();
    let alg = SignatureAlgorithm::Ecdsa(SHA256);
    let ds = digests(SHA256, 5);
    let values = signer.sign_digests(alg, &ds).await.unwrap();
    assert!(values
        .iter()
        .all(|v| matches!(v, SignatureValue::EcdsaFixed(b) if b.len() == 64)));
    verify_all(
        signer.describe().await.unwrap().chain.signing_cert(),
        alg,
        &ds,
        &values,
    );
    d.stop().await;
}

#[tokio::test]
async fn count_mismatch_and_malformed_answers_are_errors() {
    let d = Double::start(Api::V2).await;
    d.set(|b| b.drop_last_signature = true);
    let signer = CscSigner::connect(transport(), config(&d, EC))
        .await
        .unwrap();
    let err = signer
        .sign_digests(SignatureAlgorithm::Ecdsa(SHA256), &digests(SHA256, 3))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SignerError::CountMismatch { sent: 3, got: 2 }),
        "{err}"
    );

    for body in [
        r#"{"key": 5}"#,
        r#"{"key": {"algo": ["1.2.840.10045.4.3.2"]}, "cert": {"certificates": ["bm90IGEgY2VydA=="]}}"#,
        "[1, 2",
    ] {
        d.set(|b| b.corrupt = Some(("credentials/info".into(), body.into())));
        let err = CscSigner::connect(transport(), config(&d, EC))
            .await
            .unwrap_err();
        assert!(matches!(err, CscError::BadResponse { .. }), "{body}: {err}");
    }
    d.stop().await;
}

#[tokio::test]
async fn unsupported_algorithm_and_wrong_digest_make_no_call() {
    let d = Double::start(Api::V2).await;
    let signer = CscSigner::connect(transport(), config(&d, EC))
        .await
        .unwrap();
    let err = signer
        .sign_digests(SignatureAlgorithm::RsaPss(SHA256), &digests(SHA256, 1))
        .await
        .unwrap_err();
    assert!(matches!(err, SignerError::UnsupportedAlgorithm(_)), "{err}");
    let err = signer
        .sign_digests(
            SignatureAlgorithm::Ecdsa(SHA256),
            &digests(DigestAlgorithm::Sha384, 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, SignerError::DigestMismatch(_)), "{err}");
    let err = signer
        .sign(
            SignatureAlgorithm::Ecdsa(SHA256),
            &digests(SHA256, shomei_csc::MAX_DIGESTS + 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CscError::TooManyDigests { .. }), "{err}");
    assert_eq!(d.calls("credentials/authorize"), 0);
    d.stop().await;
}
