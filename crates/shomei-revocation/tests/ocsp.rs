//! OCSP messages and response verification, against responses made by
//! shomei-test-support's in-process responder over `fixtures/pki/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

use der::asn1::Null;
use der::{Decode, Encode};
use shomei_revocation::ocsp::{self, build_request, cert_id, verify_response};
use shomei_revocation::rfc6960::{
    self, BasicOcspResponse, CrlReason, OcspRequest, OcspResponse, OcspResponseStatus, OcspTime,
};
use shomei_revocation::{CertIdHash, CertStatus, RevocationError, VerifyOptions};
use shomei_test_support::ocsp_responder::{
    fixture_cert, ocsp_error_response, InProcessRevocation, OcspResponseSpec, ResponderIdKind,
    FROZEN_NOW_UNIX, REVOKED_AT_UNIX,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(FROZEN_NOW_UNIX)
}

fn opts() -> VerifyOptions {
    VerifyOptions::new(now())
}

fn id_of(name: &str) -> rfc6960::CertId {
    cert_id(
        &fixture_cert(name),
        &fixture_cert("intermediate"),
        CertIdHash::Sha1,
    )
    .unwrap()
}

fn verify(der: &[u8], name: &str) -> Result<shomei_revocation::OcspResult, RevocationError> {
    verify_response(
        der,
        &fixture_cert(name),
        &fixture_cert("intermediate"),
        &opts(),
    )
}

#[test]
fn request_round_trips_with_nonce_and_both_hashes() {
    let cert = fixture_cert("signer-rsa");
    let issuer = fixture_cert("intermediate");
    for hash in [CertIdHash::Sha1, CertIdHash::Sha256] {
        let id = cert_id(&cert, &issuer, hash).unwrap();
        let expected_len = if hash == CertIdHash::Sha1 { 20 } else { 32 };
        assert_eq!(id.issuer_key_hash.as_bytes().len(), expected_len);
        assert_eq!(id.hash_algorithm.oid, hash.oid());
        let der = build_request(std::slice::from_ref(&id), Some(&[7u8; 32])).unwrap();
        let back = OcspRequest::from_der(&der).unwrap();
        assert_eq!(back.tbs_request.request_list.len(), 1);
        assert_eq!(back.tbs_request.request_list[0].req_cert, id);
        assert!(back.tbs_request.version.is_none(), "DER leaves v1 out");
        let nonce = &back.tbs_request.request_extensions.as_ref().unwrap()[0];
        assert_eq!(nonce.extn_id, rfc6960::oid::OCSP_NONCE);
        // extnValue = OCTET STRING { OCTET STRING (32) }
        assert_eq!(&nonce.extn_value.as_bytes()[..2], &[0x04, 32]);
        assert_eq!(back.to_der().unwrap(), der);
    }
}

#[test]
fn request_without_nonce_has_no_extensions() {
    let der = build_request(&[id_of("signer-ec")], None).unwrap();
    let back = OcspRequest::from_der(&der).unwrap();
    assert!(back.tbs_request.request_extensions.is_none());
    assert!(back.optional_signature.is_none());
}

#[test]
fn cert_id_name_hash_is_sha1_of_the_issuer_name() {
    let id = id_of("signer-rsa");
    let name = fixture_cert("intermediate")
        .cert()
        .tbs_certificate()
        .subject()
        .to_der()
        .unwrap();
    let expected = sha1_reference(&name);
    assert_eq!(id.issuer_name_hash.as_bytes(), expected.as_slice());
    assert_eq!(
        id.serial_number,
        *fixture_cert("signer-rsa")
            .cert()
            .tbs_certificate()
            .serial_number()
    );
}

/// Plain SHA-1 (FIPS 180-4), a reference independent of the crate under test.
fn sha1_reference(data: &[u8]) -> Vec<u8> {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = u64::try_from(data.len()).unwrap() * 8;
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(chunk[i * 4..i * 4 + 4].try_into().unwrap());
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().flat_map(|x| x.to_be_bytes()).collect()
}

#[test]
fn sha1_reference_matches_the_fips_vector() {
    assert_eq!(
        shomei_core::digest::hex_bytes::encode(&sha1_reference(b"abc")),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
}

#[test]
fn response_round_trips_byte_for_byte() {
    let der = InProcessRevocation::new().ocsp_response_for(&fixture_cert("signer-revoked"));
    let resp = OcspResponse::from_der(&der).unwrap();
    assert_eq!(resp.response_status, OcspResponseStatus::Successful);
    assert_eq!(resp.to_der().unwrap(), der);
    let bytes = resp.response_bytes.unwrap();
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
    assert_eq!(basic.to_der().unwrap(), bytes.response.as_bytes());
    let single = &basic.tbs_response_data.responses[0];
    match &single.cert_status {
        rfc6960::CertStatus::Revoked(info) => {
            assert_eq!(info.revocation_reason, Some(CrlReason::KeyCompromise));
            assert_eq!(info.revocation_time.as_bytes(), b"20250601000000Z");
        }
        other => panic!("expected revoked, got {other:?}"),
    }
}

#[test]
fn fractional_seconds_decode_and_re_encode_unchanged() {
    // certomancer (the conformance kit) writes fractional seconds
    let der = b"\x18\x1420261127041410.8619Z";
    let t = OcspTime::from_der(der).unwrap();
    assert_eq!(t.as_bytes(), b"20261127041410.8619Z");
    assert_eq!(t.to_der().unwrap(), der);
    let whole = OcspTime::from_der(b"\x18\x0f20261127041410Z").unwrap();
    assert_eq!(
        t.to_system_time(),
        whole.to_system_time(),
        "fraction dropped"
    );
    for bad in [
        &b"\x18\x0f20261327041410Z"[..], // month 13
        b"\x18\x0e20261127041410",       // no Z
        b"\x18\x1020261127041410.Z",     // empty fraction
        b"\x18\x0f2026112704141xZ",
    ] {
        assert!(OcspTime::from_der(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn delegated_good_response_verifies() {
    let der = InProcessRevocation::new().ocsp_response_for(&fixture_cert("signer-rsa"));
    let r = verify(&der, "signer-rsa").unwrap();
    assert_eq!(r.status, CertStatus::Good);
    assert_eq!(r.der, der);
    assert_eq!(r.this_update, now());
    assert_eq!(r.next_update, Some(now() + Duration::from_secs(7 * 86400)));
    assert_eq!(r.responder_certs, vec![fixture_cert("ocsp-responder")]);
    assert!(
        r.responder_nocheck,
        "the fixture responder has id-pkix-ocsp-nocheck"
    );
}

#[test]
fn revoked_response_reports_time_and_reason() {
    let der = InProcessRevocation::new().ocsp_response_for(&fixture_cert("signer-revoked"));
    let r = verify(&der, "signer-revoked").unwrap();
    assert_eq!(
        r.status,
        CertStatus::Revoked {
            time: UNIX_EPOCH + Duration::from_secs(REVOKED_AT_UNIX),
            reason: Some("keyCompromise".into())
        }
    );
}

#[test]
fn issuer_signed_response_by_name_and_by_key_verifies() {
    for kind in [ResponderIdKind::ByName, ResponderIdKind::ByKey] {
        let mut spec = OcspResponseSpec::good(id_of("signer-ec"), now()).issuer_signed();
        spec.responder_id = kind;
        let r = verify(&spec.build(), "signer-ec").unwrap();
        assert_eq!(r.status, CertStatus::Good);
        assert!(r.responder_certs.is_empty());
        assert!(!r.responder_nocheck);
    }
}

#[test]
fn sha256_cert_id_responses_match() {
    let cert = fixture_cert("signer-rsa");
    let id = cert_id(&cert, &fixture_cert("intermediate"), CertIdHash::Sha256).unwrap();
    let der = OcspResponseSpec::good(id, now()).build();
    assert_eq!(verify(&der, "signer-rsa").unwrap().status, CertStatus::Good);
}

#[test]
fn unknown_status_is_reported() {
    let mut spec = OcspResponseSpec::good(id_of("signer-rsa"), now());
    spec.status = rfc6960::CertStatus::Unknown(Null);
    assert_eq!(
        verify(&spec.build(), "signer-rsa").unwrap().status,
        CertStatus::Unknown
    );
}

#[test]
fn responder_without_ocsp_signing_eku_is_unauthorized() {
    // signer-rsa is issued by the intermediate but is no OCSP responder
    let mut spec = OcspResponseSpec::good(id_of("signer-ec"), now());
    spec.signer = "signer-rsa".into();
    spec.certs = vec![fixture_cert("signer-rsa")];
    let err = verify(&spec.build(), "signer-ec").unwrap_err();
    assert!(
        matches!(err, RevocationError::UnauthorizedResponder(_)),
        "{err}"
    );
    assert!(err.to_string().contains("id-kp-OCSPSigning"), "{err}");
}

#[test]
fn responder_certified_by_another_ca_is_unauthorized() {
    // the root certified the intermediate, but the response is about the
    // intermediate's certificates: only the intermediate may delegate
    let mut spec = OcspResponseSpec::good(id_of("signer-ec"), now());
    spec.signer = "root".into();
    spec.certs = vec![fixture_cert("root")];
    let err = verify(&spec.build(), "signer-ec").unwrap_err();
    assert!(
        matches!(err, RevocationError::UnauthorizedResponder(_)),
        "{err}"
    );
    assert!(
        err.to_string().contains("not certified by the issuer"),
        "{err}"
    );
}

#[test]
fn response_signed_by_an_unrelated_key_without_its_certificate_is_unauthorized() {
    let mut spec = OcspResponseSpec::good(id_of("signer-ec"), now());
    spec.signer = "signer-ec384".into();
    spec.certs.clear();
    let err = verify(&spec.build(), "signer-ec").unwrap_err();
    assert!(
        matches!(err, RevocationError::UnauthorizedResponder(_)),
        "{err}"
    );
}

#[test]
fn responder_id_of_the_issuer_with_another_key_fails_the_signature() {
    // names the intermediate but is signed by the delegated responder's key
    let mut spec = OcspResponseSpec::good(id_of("signer-ec"), now()).issuer_signed();
    let good = spec.build();
    spec.signer = "ocsp-responder".into();
    let forged = spec.build();
    // the issuer's responder ID and data, the responder key's signature
    let mut basic_good = basic_of(&good);
    let basic_forged = basic_of(&forged);
    basic_good.signature = basic_forged.signature;
    let der = wrap(&basic_good);
    let err = verify(&der, "signer-ec").unwrap_err();
    assert!(matches!(err, RevocationError::InvalidSignature(_)), "{err}");
}

fn basic_of(der: &[u8]) -> BasicOcspResponse {
    let resp = OcspResponse::from_der(der).unwrap();
    BasicOcspResponse::from_der(resp.response_bytes.unwrap().response.as_bytes()).unwrap()
}

fn wrap(basic: &BasicOcspResponse) -> Vec<u8> {
    OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(rfc6960::ResponseBytes {
            response_type: rfc6960::oid::OCSP_BASIC,
            response: der::asn1::OctetString::new(basic.to_der().unwrap()).unwrap(),
        }),
    }
    .to_der()
    .unwrap()
}

#[test]
fn tampered_status_fails_the_signature() {
    let der = InProcessRevocation::new().ocsp_response_for(&fixture_cert("signer-revoked"));
    let mut basic = basic_of(&der);
    basic.tbs_response_data.responses[0].cert_status = rfc6960::CertStatus::Good(Null);
    let err = verify(&wrap(&basic), "signer-revoked").unwrap_err();
    assert!(matches!(err, RevocationError::InvalidSignature(_)), "{err}");
}

#[test]
fn stale_and_future_responses_are_refused() {
    let id = id_of("signer-rsa");
    let mut old = OcspResponseSpec::good(id.clone(), now() - Duration::from_secs(30 * 86400));
    old.produced_at = old.this_update;
    let err = verify(&old.build(), "signer-rsa").unwrap_err();
    assert!(matches!(err, RevocationError::Stale(_)), "{err}");
    assert!(err.to_string().contains("nextUpdate"), "{err}");

    let future = OcspResponseSpec::good(id.clone(), now() + Duration::from_secs(3600));
    let err = verify(&future.build(), "signer-rsa").unwrap_err();
    assert!(matches!(err, RevocationError::Stale(_)), "{err}");
    assert!(err.to_string().contains("in the future"), "{err}");

    // within the skew both ways: accepted
    let slightly_ahead = OcspResponseSpec::good(id.clone(), now() + Duration::from_secs(60));
    assert!(verify(&slightly_ahead.build(), "signer-rsa").is_ok());

    // no nextUpdate: accepted (the responder always has newer information)
    let mut open = OcspResponseSpec::good(id, now() - Duration::from_secs(3600));
    open.next_update = None;
    let r = verify(&open.build(), "signer-rsa").unwrap();
    assert_eq!(r.next_update, None);
}

#[test]
fn wrong_cert_id_is_refused() {
    // a genuine response, but about signer-rsa, offered for signer-ec
    let der = InProcessRevocation::new().ocsp_response_for(&fixture_cert("signer-rsa"));
    let err = verify(&der, "signer-ec").unwrap_err();
    assert!(matches!(err, RevocationError::BadResponse(_)), "{err}");
    assert!(err.to_string().contains("does not cover"), "{err}");
    // and for the right serial but another issuer key
    let mut id = id_of("signer-ec");
    id.issuer_key_hash = der::asn1::OctetString::new(vec![0u8; 20]).unwrap();
    let err = verify(&OcspResponseSpec::good(id, now()).build(), "signer-ec").unwrap_err();
    assert!(matches!(err, RevocationError::BadResponse(_)), "{err}");
}

#[test]
fn nonce_echo_is_checked() {
    let mut spec = OcspResponseSpec::good(id_of("signer-rsa"), now());
    spec.nonce = Some(vec![1; 32]);
    let der = spec.build();
    let cert = fixture_cert("signer-rsa");
    let issuer = fixture_cert("intermediate");
    assert!(verify_response(&der, &cert, &issuer, &opts().with_nonce(vec![1; 32])).is_ok());
    let err = verify_response(&der, &cert, &issuer, &opts().with_nonce(vec![2; 32])).unwrap_err();
    assert!(matches!(err, RevocationError::Stale(_)), "{err}");
    // missing echo: accepted unless required
    let plain = OcspResponseSpec::good(id_of("signer-rsa"), now()).build();
    assert!(verify_response(&plain, &cert, &issuer, &opts().with_nonce(vec![1; 32])).is_ok());
    let err = verify_response(
        &plain,
        &cert,
        &issuer,
        &opts().with_nonce(vec![1; 32]).require_nonce(true),
    )
    .unwrap_err();
    assert!(err.to_string().contains("did not echo"), "{err}");
}

#[test]
fn unsuccessful_status_is_an_ocsp_status_error() {
    for (status, name) in [
        (OcspResponseStatus::TryLater, "tryLater"),
        (OcspResponseStatus::Unauthorized, "unauthorized"),
        (OcspResponseStatus::MalformedRequest, "malformedRequest"),
    ] {
        let err = verify(&ocsp_error_response(status), "signer-rsa").unwrap_err();
        assert_eq!(err, RevocationError::OcspStatus(name.into()));
    }
}

#[test]
fn garbage_and_truncations_are_errors_not_panics() {
    let der = InProcessRevocation::new().ocsp_response_for(&fixture_cert("signer-rsa"));
    for len in 0..der.len() {
        let err = verify(&der[..len], "signer-rsa").unwrap_err();
        assert!(
            matches!(err, RevocationError::BadResponse(_)),
            "{len}: {err}"
        );
    }
    let err = verify(b"<html>502 Bad Gateway</html>", "signer-rsa").unwrap_err();
    assert!(
        err.to_string().contains("DER byte"),
        "position in message: {err}"
    );
    // every single-byte change: an error or (for bytes outside the signed data that
    // do not matter, none here) a result — never a panic
    let mut accepted = 0;
    for i in 0..der.len() {
        let mut bad = der.clone();
        bad[i] ^= 0x55;
        if verify(&bad, "signer-rsa").is_ok() {
            eprintln!("accepted with byte {i} of {} changed", der.len());
            accepted += 1;
        }
    }
    assert_eq!(accepted, 0, "a modified response was accepted");
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(verify(&trailing, "signer-rsa").is_err());
}

#[test]
fn ocsp_urls_come_from_aia() {
    let cert = shomei_test_support::ocsp_responder::reissue_with_urls(
        "signer-rsa",
        Some("http://ocsp.example/a"),
        Some("http://ca.example/i.crt"),
        Some("http://crl.example/c.crl"),
    );
    assert_eq!(
        ocsp::ocsp_urls(&cert),
        vec!["http://ocsp.example/a".to_string()]
    );
    assert!(ocsp::ocsp_urls(&fixture_cert("signer-rsa")).is_empty());
    let https = shomei_test_support::ocsp_responder::reissue_with_urls(
        "signer-rsa",
        Some("https://ocsp.example/a"),
        None,
        None,
    );
    assert!(ocsp::ocsp_urls(&https).is_empty(), "http only");
}
