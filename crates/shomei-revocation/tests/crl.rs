//! CRL parsing, verification and lookup, on CRLs made by shomei-test-support.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

use shomei_revocation::rfc6960::CrlReason;
use shomei_revocation::{check_crl, crl_urls, CertStatus, Crl, RevocationError};
use shomei_test_support::ocsp_responder::{
    build_crl, fixture_cert, reissue_with_urls, InProcessRevocation, FROZEN_NOW_UNIX,
    REVOKED_AT_UNIX,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SKEW: Duration = Duration::from_secs(300);

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(FROZEN_NOW_UNIX)
}

fn check(crl: &[u8], name: &str) -> Result<shomei_revocation::CrlResult, RevocationError> {
    check_crl(
        crl,
        &fixture_cert(name),
        &fixture_cert("intermediate"),
        now(),
        SKEW,
    )
}

#[test]
fn revoked_and_good_serials_are_told_apart() {
    let crl = InProcessRevocation::new().crl("intermediate");
    let revoked = check(&crl, "signer-revoked").unwrap();
    assert_eq!(
        revoked.status,
        CertStatus::Revoked {
            time: UNIX_EPOCH + Duration::from_secs(REVOKED_AT_UNIX),
            reason: Some("keyCompromise".into())
        }
    );
    assert_eq!(revoked.der, crl);
    assert_eq!(
        revoked.next_update,
        Some(now() + Duration::from_secs(30 * 86400))
    );
    for good in [
        "signer-rsa",
        "signer-ec",
        "signer-expired",
        "ocsp-responder",
    ] {
        assert_eq!(
            check(&crl, good).unwrap().status,
            CertStatus::Good,
            "{good}"
        );
    }
}

#[test]
fn root_crl_covers_the_intermediate() {
    let crl = InProcessRevocation::new().crl("root");
    let r = check_crl(
        &crl,
        &fixture_cert("intermediate"),
        &fixture_cert("root"),
        now(),
        SKEW,
    )
    .unwrap();
    assert_eq!(r.status, CertStatus::Good);
}

#[test]
fn pem_crl_is_accepted_and_returns_der() {
    let der = InProcessRevocation::new().crl("intermediate");
    let pem = der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &der).unwrap();
    let r = check(pem.as_bytes(), "signer-revoked").unwrap();
    assert_eq!(r.der, der, "the DER is what gets embedded");
    let wrong_label = pem.replace("X509 CRL", "CERTIFICATE");
    assert!(check(wrong_label.as_bytes(), "signer-rsa").is_err());
}

#[test]
fn crl_of_another_issuer_is_refused() {
    // the root's CRL offered for a certificate issued by the intermediate
    let crl = InProcessRevocation::new().crl("root");
    let err = check(&crl, "signer-rsa").unwrap_err();
    assert!(
        matches!(err, RevocationError::UnauthorizedResponder(_)),
        "{err}"
    );
}

#[test]
fn crl_signed_with_another_key_is_refused() {
    // the intermediate's name but the root's signature: splice the signature
    let good = InProcessRevocation::new().crl("intermediate");
    let by_root = build_crl("root", &[], now(), Some(now() + Duration::from_secs(86400)));
    let mut forged = Crl::from_der_or_pem(&good).unwrap().list().clone();
    forged.signature = Crl::from_der_or_pem(&by_root)
        .unwrap()
        .list()
        .signature
        .clone();
    let der = der::Encode::to_der(&forged).unwrap();
    let err = check(&der, "signer-rsa").unwrap_err();
    assert!(matches!(err, RevocationError::InvalidSignature(_)), "{err}");
}

#[test]
fn stale_and_future_crls_are_refused() {
    let revoked = [(
        fixture_cert("signer-revoked"),
        UNIX_EPOCH + Duration::from_secs(REVOKED_AT_UNIX),
        CrlReason::KeyCompromise,
    )];
    let day = Duration::from_secs(86400);
    let old = build_crl(
        "intermediate",
        &revoked,
        now() - 40 * day,
        Some(now() - 10 * day),
    );
    let err = check(&old, "signer-rsa").unwrap_err();
    assert!(matches!(err, RevocationError::Stale(_)), "{err}");
    let future = build_crl(
        "intermediate",
        &revoked,
        now() + day,
        Some(now() + 30 * day),
    );
    let err = check(&future, "signer-rsa").unwrap_err();
    assert!(matches!(err, RevocationError::Stale(_)), "{err}");
    let open_ended = build_crl("intermediate", &revoked, now() - day, None);
    assert!(check(&open_ended, "signer-rsa").is_ok());
}

#[test]
fn truncated_and_garbage_crls_are_errors() {
    let crl = InProcessRevocation::new().crl("intermediate");
    for len in 0..crl.len() {
        assert!(check(&crl[..len], "signer-revoked").is_err(), "{len}");
    }
    let mut accepted = 0;
    for i in 0..crl.len() {
        let mut bad = crl.clone();
        bad[i] ^= 0x55;
        if check(&bad, "signer-revoked").is_ok() {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 0);
    let err = check(b"not a crl", "signer-rsa").unwrap_err();
    assert!(matches!(err, RevocationError::BadResponse(_)), "{err}");
    let err = check(&crl[..crl.len() / 2], "signer-rsa").unwrap_err();
    assert!(err.to_string().contains("DER byte"), "{err}");
}

#[test]
fn crl_urls_are_http_full_names() {
    let cert = reissue_with_urls("signer-rsa", None, None, Some("http://crl.example/i.crl"));
    assert_eq!(
        crl_urls(&cert),
        vec!["http://crl.example/i.crl".to_string()]
    );
    assert!(crl_urls(&fixture_cert("signer-rsa")).is_empty());
    let ldap = reissue_with_urls("signer-rsa", None, None, Some("ldap://dir.example/cn=x"));
    assert!(crl_urls(&ldap).is_empty());
}
