//! B-T, B-LT and B-LTA through the library with the in-process TSA and revocation
//! services of shomei-test-support (no network, frozen clocks), judged by lopdf and
//! OpenSSL.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod common;

use async_trait::async_trait;
use common::*;
use shomei::core::Digest;
use shomei::pades::ltv::{sign_document_at_level, LtvServices};
use shomei::pades::{Level, PadesError, PadesOptions};
use shomei_test_support::ocsp_responder::InProcessRevocation;
use shomei_test_support::tsa::InProcessTsa;
use shomei_test_support::{sample_pdf, signers::test_signer};
use shomei_tsp::{TimestampAuthority, TimestampToken, TspError};
use std::sync::atomic::{AtomicUsize, Ordering};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn sign(
    name: &str,
    level: Level,
    tsa: &dyn TimestampAuthority,
    rev: &InProcessRevocation,
) -> Result<Vec<u8>, PadesError> {
    let pdf = sample_pdf::one_page("long-term");
    let mut options = PadesOptions::default();
    options.level = level;
    let clock = rev.clock();
    let services = LtvServices::new(tsa, rev, clock.as_ref());
    block_on(sign_document_at_level(
        &test_signer(name),
        &pdf,
        &options,
        Some(services),
    ))
}

fn dss_counts(pdf: &[u8]) -> (usize, usize, usize) {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let catalog = doc.catalog().unwrap();
    let dss = match catalog.get(b"DSS").unwrap() {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).unwrap().clone(),
        lopdf::Object::Dictionary(d) => d.clone(),
        _ => panic!("bad /DSS"),
    };
    let n = |k: &[u8]| {
        dss.get(k)
            .ok()
            .and_then(|a| a.as_array().ok())
            .map_or(0, |a| a.len())
    };
    (n(b"Certs"), n(b"OCSPs"), n(b"CRLs"))
}

#[test]
fn b_t_carries_a_verifiable_signature_timestamp() {
    let tsa = InProcessTsa::new();
    let rev = InProcessRevocation::new();
    let pdf = sign("signer-ec", Level::BT, &tsa, &rev).unwrap();
    assert_eq!(tsa.request_count(), 1, "one TSA request, no sizing request");
    let sigs = signatures(&pdf);
    assert_eq!(sigs.len(), 1);
    let v = openssl_verify(
        &sigs[0].cms,
        &signed_bytes(&pdf, sigs[0].byte_range),
        &pki("root.cert.pem"),
    );
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    assert!(asn1parse(&sigs[0].cms).contains("id-smime-aa-timeStampToken"));
    assert!(rev.checks() == 0, "B-T needs no revocation data");
}

#[test]
fn b_lt_stores_chains_and_revocation_data() {
    let tsa = InProcessTsa::new();
    let rev = InProcessRevocation::new();
    let pdf = sign("signer-rsa", Level::BLT, &tsa, &rev).unwrap();
    let (certs, ocsps, crls) = dss_counts(&pdf);
    // signer, intermediate, root, TSA, OCSP responder
    assert!(certs >= 4, "certs {certs}");
    assert!(ocsps + crls >= 2, "ocsps {ocsps} crls {crls}");
    assert_eq!(tsa.request_count(), 1);
}

#[test]
fn b_lta_ends_with_a_document_timestamp_over_the_dss() {
    let tsa = InProcessTsa::new();
    let rev = InProcessRevocation::new();
    let pdf = sign("signer-ec", Level::BLTA, &tsa, &rev).unwrap();
    assert_eq!(
        tsa.request_count(),
        2,
        "signature time-stamp + document time-stamp"
    );
    let mut reader = shomei::pdf::PdfReader::open(std::io::Cursor::new(&pdf)).unwrap();
    let sigs = reader.signatures().unwrap();
    assert_eq!(sigs.len(), 2);
    let doc_ts = sigs.last().unwrap();
    assert!(doc_ts.is_document_timestamp);
    assert_eq!(
        doc_ts.byte_range[2] + doc_ts.byte_range[3],
        pdf.len() as u64
    );
    // The token's imprint is the digest of its ByteRange, which includes the /DSS.
    let token =
        TimestampToken::from_der(shomei::cms::inspect::der_prefix(&doc_ts.contents).unwrap())
            .unwrap();
    let br: Vec<usize> = doc_ts.byte_range.iter().map(|v| *v as usize).collect();
    let covered = signed_bytes(&pdf, [br[0], br[1], br[2], br[3]]);
    let expected = Digest::compute(token.imprint().algorithm(), &covered);
    token.verify(&expected).unwrap();
    let dss_at = pdf.windows(5).rposition(|w| w == b"/DSS ").unwrap();
    assert!(dss_at < br[1], "the document time-stamp covers the /DSS");
}

#[test]
fn a_revoked_signer_is_refused_at_b_lt_before_signing() {
    let tsa = InProcessTsa::new();
    let rev = InProcessRevocation::new();
    let err = sign("signer-revoked", Level::BLT, &tsa, &rev).unwrap_err();
    assert!(err.to_string().to_lowercase().contains("revoked"), "{err}");
    assert!(
        err.to_string().contains("REVOKED"),
        "names the certificate: {err}"
    );
    assert_eq!(tsa.request_count(), 0, "nothing was signed or time-stamped");
}

#[test]
fn an_expired_signer_is_refused_at_b_lt() {
    let tsa = InProcessTsa::new();
    let rev = InProcessRevocation::new();
    let err = sign("signer-expired", Level::BLT, &tsa, &rev).unwrap_err();
    assert!(err.to_string().contains("EXPIRED"), "{err}");
}

#[test]
fn an_unreachable_tsa_fails_cleanly() {
    let tsa = InProcessTsa::new();
    tsa.set_down(true);
    let rev = InProcessRevocation::new();
    let err = sign("signer-ec", Level::BT, &tsa, &rev).unwrap_err();
    assert!(matches!(err, PadesError::Timestamp(_)), "{err}");
}

/// Claims tokens are tiny, so the first placeholder is too small.
struct Understated {
    inner: InProcessTsa,
    calls: AtomicUsize,
}

#[async_trait]
impl TimestampAuthority for Understated {
    async fn timestamp(&self, imprint: &Digest) -> Result<TimestampToken, TspError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.timestamp(imprint).await
    }
    fn expected_token_len(&self) -> usize {
        16
    }
}

#[test]
fn a_token_larger_than_reserved_means_signing_again_never_a_corrupt_file() {
    let tsa = Understated {
        inner: InProcessTsa::new(),
        calls: AtomicUsize::new(0),
    };
    let rev = InProcessRevocation::new();
    let pdf = sign("signer-ec", Level::BT, &tsa, &rev).unwrap();
    assert_eq!(tsa.calls.load(Ordering::Relaxed), 2);
    let sigs = signatures(&pdf);
    let v = openssl_verify(
        &sigs[0].cms,
        &signed_bytes(&pdf, sigs[0].byte_range),
        &pki("root.cert.pem"),
    );
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

/// Issue 9, point 7: at B-LT and B-LTA a damaged input is refused before the signer's
/// OCSP responses or CRLs are fetched (and before any time-stamp): no request at all.
#[test]
fn issue9_a_damaged_input_costs_no_request() {
    let tsa = InProcessTsa::new();
    let rev = InProcessRevocation::new();
    let clock = rev.clock();
    let services = || Some(LtvServices::new(&tsa, &rev, clock.as_ref()));
    let pdf = sample_pdf::one_page("damaged");
    let damaged = &pdf[..pdf.len() / 3];
    for level in [Level::BLT, Level::BLTA] {
        let mut options = PadesOptions::default();
        options.level = level;
        let err = block_on(sign_document_at_level(
            &test_signer("signer-ec"),
            damaged,
            &options,
            services(),
        ))
        .unwrap_err();
        assert!(err.is_input_error(), "{err}");
        let mut xml_options = shomei::xades::XadesOptions::new(clock.now());
        xml_options.level = level;
        let xml = block_on(shomei::xades::sign_at_level(
            &test_signer("signer-ec"),
            b"<doc><unclosed></doc>",
            &xml_options,
            services(),
        ));
        assert!(xml.is_err());
    }
    assert_eq!(rev.checks(), 0, "no OCSP/CRL request");
    assert_eq!(rev.issuer_fetches(), 0, "no issuer fetched");
    assert_eq!(tsa.request_count(), 0, "no time-stamp");
    // The same inputs intact do reach the services (the counters are not dead).
    let mut options = PadesOptions::default();
    options.level = Level::BLT;
    block_on(sign_document_at_level(
        &test_signer("signer-ec"),
        &pdf,
        &options,
        services(),
    ))
    .unwrap();
    assert!(rev.checks() > 0 && tsa.request_count() > 0);
}

/// Issue 9, point 2 through the library: a PDF whose signed bytes or signature value
/// were changed is refused by `extend` (nothing appended); forced, it is listed.
#[test]
fn issue9_a_broken_pdf_signature_is_not_extended() {
    use shomei::pades::extend::{broken_signatures, extend, ExtendOptions};
    let tsa = InProcessTsa::new();
    let rev = InProcessRevocation::new();
    let clock = rev.clock();
    let signed = sign("signer-ec", Level::BB, &tsa, &rev).unwrap();
    assert!(broken_signatures(std::io::Cursor::new(&signed))
        .unwrap()
        .is_empty());
    let sig = &signatures(&signed)[0];
    // One byte of the page content (inside the first byte range) changed.
    let at = signed.windows(9).position(|w| w == b"long-term").unwrap();
    assert!(at < sig.byte_range[1]);
    let mut tampered = signed.clone();
    tampered[at] = b'L';
    // The last byte of the signature value changed (the CMS has no unsigned attributes).
    let mut bad_value = signed.clone();
    let contents_end = sig.byte_range[2] - 1; // the '>' of /Contents
    let hex_start = sig.byte_range[1] + 1;
    let der_len = sig.cms.len();
    let last = hex_start + 2 * (der_len - 1);
    assert!(last + 2 <= contents_end);
    bad_value[last] = if bad_value[last] == b'0' { b'1' } else { b'0' };
    for (pdf, what) in [(&tampered, "digest"), (&bad_value, "signature value")] {
        let broken = broken_signatures(std::io::Cursor::new(pdf)).unwrap();
        assert_eq!(broken.len(), 1, "{what}");
        assert!(broken[0].1.to_string().contains(what), "{}", broken[0].1);
        let mut out = std::io::Cursor::new(pdf.to_vec());
        let services = LtvServices::new(&tsa, &rev, clock.as_ref());
        let err =
            block_on(extend(&mut out, services, &ExtendOptions::new(Level::BLTA))).unwrap_err();
        assert!(matches!(err, PadesError::BrokenSignature { .. }), "{err}");
        assert_eq!(out.into_inner(), *pdf, "nothing appended");
        let mut forced = ExtendOptions::new(Level::BT);
        forced.force = true;
        let mut out = std::io::Cursor::new(pdf.to_vec());
        let done = block_on(extend(&mut out, services, &forced)).unwrap();
        assert_eq!(done.forced.len(), 1);
    }
}
