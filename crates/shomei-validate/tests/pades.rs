//! PAdES validation of PDFs signed in process with the repository's test PKI, at the
//! test PKI's frozen time: a good signature with its revocation data embedded passes;
//! without revocation data, with a changed byte, a zeroed /Contents, an untrusted root,
//! a revoked or an expired signer it does not — each with its EN 319 102-1
//! sub-indication.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use shomei_core::chain::ChainCert;
use shomei_pades::PadesOptions;
use shomei_pdf::{prepare_dss_update, DssData, PdfReader};
use shomei_revocation::ocsp::{cert_id, CertIdHash};
use shomei_revocation::rfc6960::CrlReason;
use shomei_test_support::ocsp_responder::{
    fixture_cert, OcspResponseSpec, ResponderIdKind, FROZEN_NOW_UNIX, REVOKED_AT_UNIX,
};
use shomei_test_support::sample_pdf::one_page;
use shomei_test_support::signers::test_signer;
use shomei_validate::report::ChangeKind;
use shomei_validate::{validate_pdf, Indication, Level, Options, SubIndication};
use std::io::Cursor;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn frozen() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(FROZEN_NOW_UNIX)
}

fn options(anchors: Vec<ChainCert>) -> Options {
    let mut o = Options::new(anchors);
    o.at = Some(frozen());
    o
}

fn signed(name: &str) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(shomei_pades::sign_document(
        &test_signer(name),
        &one_page("validate me"),
        &PadesOptions::default(),
    ))
    .unwrap()
}

/// An OCSP response for `name` (issued by `issuer`), signed by `responder`.
fn ocsp(name: &str, issuer: &str, revoked: bool) -> Vec<u8> {
    let id = cert_id(&fixture_cert(name), &fixture_cert(issuer), CertIdHash::Sha1).unwrap();
    let mut spec = OcspResponseSpec::good(id, frozen());
    if issuer == "root" {
        spec.signer = "root".into();
        spec.responder_id = ResponderIdKind::ByKey;
        spec.certs.clear();
    }
    if revoked {
        spec = spec.revoked(
            UNIX_EPOCH + Duration::from_secs(REVOKED_AT_UNIX),
            CrlReason::KeyCompromise,
        );
    }
    spec.build()
}

/// `pdf` with a DSS update holding `ocsps`.
fn with_dss(pdf: &[u8], ocsps: Vec<Vec<u8>>) -> Vec<u8> {
    let mut reader = PdfReader::open(Cursor::new(pdf)).unwrap();
    let mut data = DssData::default();
    data.ocsps = ocsps;
    let update = prepare_dss_update(&mut reader, &data).unwrap();
    let mut out = pdf.to_vec();
    out.extend_from_slice(&update);
    out
}

fn good_revocation(name: &str) -> Vec<Vec<u8>> {
    vec![
        ocsp(name, "intermediate", false),
        ocsp("intermediate", "root", false),
    ]
}

#[test]
fn a_good_signature_with_embedded_revocation_data_passes_at_b_b() {
    let pdf = with_dss(&signed("signer-ec"), good_revocation("signer-ec"));
    let report = validate_pdf(&pdf, &options(vec![fixture_cert("root")])).unwrap();
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    let sig = &report.signatures[0];
    assert_eq!(sig.level, Some(Level::BB));
    assert_eq!(sig.jis_level.as_deref(), Some("BES"));
    assert!(
        sig.signer.as_deref().unwrap_or("").contains("signer"),
        "{sig:?}"
    );
    assert!(sig.checks.iter().all(|c| c.passed), "{sig:#?}");
    // The DSS update came after the signature: it covers the revision before.
    assert!(
        sig.covers.contains("bytes were appended after it"),
        "{}",
        sig.covers
    );
    let names: Vec<&str> = sig.checks.iter().map(|c| c.name.as_str()).collect();
    for needed in [
        "byte range",
        "integrity",
        "signature value",
        "signing certificate",
        "certificate path",
        "validity",
        "revocation",
    ] {
        assert!(names.contains(&needed), "{names:?}");
    }
}

#[test]
fn without_revocation_data_it_is_indeterminate_try_later() {
    let report = validate_pdf(&signed("signer-rsa"), &options(vec![fixture_cert("root")])).unwrap();
    let sig = &report.signatures[0];
    assert_eq!(sig.indication, Indication::Indeterminate);
    assert_eq!(sig.sub_indication, Some(SubIndication::TryLater));
    assert!(sig.covers.contains("the whole file"), "{}", sig.covers);
}

#[test]
fn a_changed_byte_is_a_hash_failure() {
    let mut pdf = with_dss(&signed("signer-ec"), good_revocation("signer-ec"));
    let at = pdf.windows(11).position(|w| w == b"validate me").unwrap();
    pdf[at] = b'V';
    let report = validate_pdf(&pdf, &options(vec![fixture_cert("root")])).unwrap();
    let sig = &report.signatures[0];
    assert_eq!(sig.indication, Indication::TotalFailed);
    assert_eq!(
        sig.sub_indication,
        Some(SubIndication::HashFailure),
        "{sig:#?}"
    );
}

#[test]
fn a_zeroed_contents_is_a_format_failure() {
    let mut pdf = signed("signer-ec");
    let start = pdf.windows(11).position(|w| w == b"/Contents <").unwrap() + 11;
    let end = start + pdf[start..].iter().position(|b| *b == b'>').unwrap();
    for b in &mut pdf[start..end] {
        *b = b'0';
    }
    let report = validate_pdf(&pdf, &options(vec![fixture_cert("root")])).unwrap();
    let sig = &report.signatures[0];
    assert_eq!(sig.indication, Indication::TotalFailed);
    assert_eq!(sig.sub_indication, Some(SubIndication::FormatFailure));
    assert!(
        sig.checks
            .last()
            .unwrap()
            .detail
            .contains("universal forgery"),
        "{sig:#?}"
    );
}

#[test]
fn an_untrusted_root_gives_no_certificate_chain() {
    let pdf = with_dss(&signed("signer-ec"), good_revocation("signer-ec"));
    let report = validate_pdf(&pdf, &options(vec![fixture_cert("other-rsa")])).unwrap();
    let sig = &report.signatures[0];
    assert_eq!(sig.indication, Indication::Indeterminate);
    assert_eq!(
        sig.sub_indication,
        Some(SubIndication::NoCertificateChainFound)
    );
}

#[test]
fn a_revoked_signer_without_proof_of_existence_is_revoked_no_poe() {
    let pdf = with_dss(
        &signed("signer-revoked"),
        vec![
            ocsp("signer-revoked", "intermediate", true),
            ocsp("intermediate", "root", false),
        ],
    );
    let report = validate_pdf(&pdf, &options(vec![fixture_cert("root")])).unwrap();
    let sig = &report.signatures[0];
    assert_eq!(sig.indication, Indication::Indeterminate, "{sig:#?}");
    assert_eq!(sig.sub_indication, Some(SubIndication::RevokedNoPoe));
}

#[test]
fn an_expired_signer_without_proof_of_existence_is_out_of_bounds() {
    let pdf = with_dss(&signed("signer-expired"), good_revocation("signer-expired"));
    let report = validate_pdf(&pdf, &options(vec![fixture_cert("root")])).unwrap();
    let sig = &report.signatures[0];
    assert_eq!(sig.indication, Indication::Indeterminate, "{sig:#?}");
    assert_eq!(sig.sub_indication, Some(SubIndication::OutOfBoundsNoPoe));
}

#[test]
fn an_unsigned_pdf_has_no_signature_and_is_indeterminate() {
    let report = validate_pdf(&one_page("nothing"), &options(vec![])).unwrap();
    assert!(report.signatures.is_empty());
    assert_eq!(report.indication(), Indication::Indeterminate);
    assert!(validate_pdf(b"not a pdf", &options(vec![])).is_err());
}

/// `pdf` with an incremental update that redefines the page tree root as `body`; with
/// `loop_prev` its trailer's /Prev points at itself.
fn redefine(pdf: &[u8], body: impl Fn(u32) -> String, loop_prev: bool) -> Vec<u8> {
    let mut reader = PdfReader::open(Cursor::new(pdf)).unwrap();
    let (root, catalog) = reader.catalog().unwrap();
    let pages = catalog.get(b"Pages").unwrap().as_reference().unwrap();
    let size = reader.next_object_number();
    let prev = reader.startxref();
    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let at = out.len();
    out.extend_from_slice(
        format!("{} 0 obj\n{}\nendobj\n", pages.number, body(pages.number)).as_bytes(),
    );
    let xref = out.len();
    let prev = if loop_prev {
        u64::try_from(xref).unwrap()
    } else {
        prev
    };
    out.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \n{} 1\n{at:010} 00000 n \ntrailer\n<< /Size {size} /Root {} 0 R /Prev {prev} >>\nstartxref\n{xref}\n%%EOF\n",
            pages.number, root.number
        )
        .as_bytes(),
    );
    out
}

#[test]
fn hostile_later_revisions_end_in_an_error_not_a_hang() {
    let signed = with_dss(&signed("signer-ec"), good_revocation("signer-ec"));
    // A page tree that contains itself.
    let cycle = redefine(
        &signed,
        |n| format!("<< /Type /Pages /Kids [{n} 0 R] /Count 1 >>"),
        false,
    );
    // Arrays nested 100 000 deep where the page tree should be.
    let deep = redefine(
        &signed,
        |_| {
            format!(
                "<< /Type /Pages /Kids {}{} /Count 1 >>",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
        },
        false,
    );
    for (what, file) in [("cycle", cycle), ("deep", deep)] {
        let report = validate_pdf(&file, &options(vec![fixture_cert("root")])).unwrap();
        let sig = &report.signatures[0];
        assert_eq!(
            sig.indication,
            Indication::Indeterminate,
            "{what}: {sig:#?}"
        );
        assert_eq!(sig.sub_indication, Some(SubIndication::FormatFailure));
        let last = sig.checks.last().unwrap();
        assert!(
            last.detail.contains("cannot be compared"),
            "{what}: {last:?}"
        );
    }
    // A cross-reference chain whose /Prev points at itself: an error, or no pass.
    let prev_loop = redefine(
        &signed,
        |n| format!("<< /Type /Pages /Kids [] /Count 0 >> % {n}"),
        true,
    );
    if let Ok(report) = validate_pdf(&prev_loop, &options(vec![fixture_cert("root")])) {
        assert_ne!(report.indication(), Indication::TotalPassed, "{report:#?}");
    }
}

#[test]
fn each_revision_lists_the_objects_it_changed_and_whether_that_is_allowed() {
    let signed = with_dss(&signed("signer-ec"), good_revocation("signer-ec"));
    let report = validate_pdf(&signed, &options(vec![fixture_cert("root")])).unwrap();
    let name = report.signatures[0].name.clone();
    let revs = &report.revisions;
    assert_eq!(revs.len(), 3, "{revs:#?}");
    assert!(revs[0].changes.is_empty() && revs[0].objects > 0);
    assert_eq!(revs[1].signed_by, vec![name.clone()]);
    assert!(!revs[1].after_signature);
    assert!(
        revs[1]
            .changes
            .iter()
            .any(|c| c.change == ChangeKind::Added
                && c.what == format!("signature value of `{name}`"))
    );
    // The DSS update: after the signature, every object allowed.
    assert!(revs[2].after_signature);
    assert!(revs[2].changes.iter().all(|c| c.allowed), "{:#?}", revs[2]);
    assert!(revs[2]
        .changes
        .iter()
        .any(|c| c.what == "validation data (DSS)"));

    // An update that rotates every page through the page tree: refused, by object.
    let mut reader = PdfReader::open(Cursor::new(&signed[..])).unwrap();
    let (_, catalog) = reader.catalog().unwrap();
    let tree = reader
        .resolve_dict(catalog.get(b"Pages").unwrap())
        .unwrap()
        .unwrap();
    let kid = tree.get(b"Kids").unwrap().as_array().unwrap()[0]
        .as_reference()
        .unwrap();
    let rotated = redefine(
        &signed,
        |_| {
            format!(
                "<< /Type /Pages /Kids [{} 0 R] /Count 1 /Rotate 90 >>",
                kid.number
            )
        },
        false,
    );
    let report = validate_pdf(&rotated, &options(vec![fixture_cert("root")])).unwrap();
    assert_eq!(report.indication(), Indication::TotalFailed);
    let last = report.revisions.last().unwrap();
    assert_eq!(report.revisions.len(), 4);
    assert_eq!(last.changes.len(), 1, "{last:#?}");
    assert_eq!(last.changes[0].change, ChangeKind::Changed);
    assert_eq!(last.changes[0].what, "page tree");
    assert!(!last.changes[0].allowed);
    assert!(
        report.to_text().contains("NO changed"),
        "{}",
        report.to_text()
    );
}
