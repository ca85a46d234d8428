//! XAdES validation of documents signed in process with the repository's test PKI, at
//! the test PKI's frozen time: a good signature passes (revocation data from an
//! in-process responder) and hands back what it signs; a changed document, changed
//! signed properties, a duplicated Id, a wrapped Object, a swapped KeyInfo certificate
//! and missing detached data do not — each with its EN 319 102-1 sub-indication.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use shomei_core::chain::ChainCert;
use shomei_test_support::ocsp_responder::{fixture_cert, InProcessRevocation, FROZEN_NOW_UNIX};
use shomei_test_support::signers::test_signer;
use shomei_validate::{
    validate_xml, validate_xml_online, Indication, Level, Options, Report, SubIndication,
};
use shomei_xades::ltv::{GivenData, NoDetachedData};
use shomei_xades::{DetachedResolver, Packaging, XadesOptions};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DOC: &[u8] =
    b"<order xmlns=\"urn:example:order\"><item>paper</item><amount>12</amount></order>";

fn frozen() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(FROZEN_NOW_UNIX)
}

fn options() -> Options {
    let mut o = Options::new(vec![fixture_cert("root")]);
    o.at = Some(frozen());
    o
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn signed(packaging: Packaging, data: &[u8]) -> Vec<u8> {
    let mut o = XadesOptions::new(frozen());
    o.packaging = packaging;
    rt().block_on(shomei_xades::sign_xml(&test_signer("signer-ec"), data, &o))
        .unwrap()
}

fn online(xml: &[u8], resolver: &dyn DetachedResolver) -> Report {
    rt().block_on(validate_xml_online(
        xml,
        &options(),
        resolver,
        &InProcessRevocation::new(),
    ))
    .unwrap()
}

fn verdict(report: &Report) -> (Indication, Option<SubIndication>) {
    let s = &report.signatures[0];
    (s.indication, s.sub_indication)
}

fn replace(xml: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(xml.to_vec()).unwrap();
    assert!(text.contains(from), "{from} not in the signature");
    text.replacen(from, to, 1).into_bytes()
}

/// The value of the first `attr="…"` after `after`.
fn attr_after(xml: &[u8], after: &str, attr: &str) -> String {
    let text = String::from_utf8(xml.to_vec()).unwrap();
    let at = text.find(after).unwrap();
    let rest = &text[at..];
    let start = rest.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
    rest[start..start + rest[start..].find('"').unwrap()].to_string()
}

#[test]
fn a_good_enveloped_signature_passes_and_hands_back_what_it_signs() {
    let xml = signed(Packaging::Enveloped, DOC);
    let report = online(&xml, &NoDetachedData);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    let sig = &report.signatures[0];
    assert_eq!(sig.level, Some(Level::BB));
    assert!(
        sig.covers
            .contains("the whole document except this signature"),
        "{}",
        sig.covers
    );
    assert!(sig.claimed_time.is_some());
    // Offline, nothing vouches for the signer's status.
    let offline = validate_xml(&xml, &options(), &NoDetachedData).unwrap();
    assert_eq!(
        verdict(&offline),
        (Indication::Indeterminate, Some(SubIndication::TryLater))
    );
    // The signed content is the canonical document without the signature.
    let inspected = shomei_xades::inspect::inspect(&xml, &NoDetachedData).unwrap();
    let content = &inspected[0].references[0].content;
    assert_eq!(
        content.as_slice(),
        DOC,
        "{}",
        String::from_utf8_lossy(content)
    );
}

#[test]
fn a_changed_document_or_changed_signed_properties_is_a_hash_failure() {
    let xml = signed(Packaging::Enveloped, DOC);
    let changed = replace(&xml, "<amount>12</amount>", "<amount>99</amount>");
    let report = validate_xml(&changed, &options(), &NoDetachedData).unwrap();
    assert_eq!(
        verdict(&report),
        (Indication::TotalFailed, Some(SubIndication::HashFailure)),
        "{report:#?}"
    );
    let text = String::from_utf8(xml.clone()).unwrap();
    let at = text.find("SigningTime>").unwrap() + "SigningTime>".len();
    let mut props = xml.clone();
    props[at] = if props[at] == b'1' { b'2' } else { b'1' };
    let report = validate_xml(&props, &options(), &NoDetachedData).unwrap();
    assert_eq!(
        verdict(&report),
        (Indication::TotalFailed, Some(SubIndication::HashFailure)),
        "{report:#?}"
    );
}

#[test]
fn an_id_on_two_elements_is_a_format_failure() {
    let xml = signed(Packaging::Enveloped, DOC);
    let id = attr_after(&xml, ":SignedProperties ", "Id");
    let dup = replace(&xml, "<item>", &format!("<item Id=\"{id}\">"));
    let report = validate_xml(&dup, &options(), &NoDetachedData).unwrap();
    assert_eq!(
        verdict(&report),
        (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
        "{report:#?}"
    );
    let why = &report.signatures[0].checks.last().unwrap().detail;
    assert!(why.contains("more than one element"), "{why}");
}

#[test]
fn an_object_wrapped_inside_another_is_signature_wrapping() {
    let xml = signed(Packaging::Enveloping, DOC);
    let text = String::from_utf8(xml.clone()).unwrap();
    // The Object with the signed document: moved into a wrapper inside a new Object,
    // a lookalike with other content and another Id in its place.
    let start = text.find("<ds:Object Id=").unwrap();
    let end = start + text[start..].find("</ds:Object>").unwrap() + "</ds:Object>".len();
    let original = &text[start..end];
    let id = attr_after(original.as_bytes(), "<ds:Object", "Id");
    let fake = original
        .replacen(&format!("Id=\"{id}\""), "Id=\"other\"", 1)
        .replace("<amount>12</amount>", "<amount>99</amount>");
    for (open, close) in [
        (
            "<ds:Object><w:Wrapper xmlns:w=\"urn:w\">",
            "</w:Wrapper></ds:Object>",
        ),
        // No foreign element in the way: an Object directly inside an Object.
        ("<ds:Object>", "</ds:Object>"),
        (
            "<ds:Object><ds:SignatureProperties>",
            "</ds:SignatureProperties></ds:Object>",
        ),
    ] {
        let wrapped = format!(
            "{}{fake}{open}{original}{close}{}",
            &text[..start],
            &text[end..]
        );
        let report = validate_xml(wrapped.as_bytes(), &options(), &NoDetachedData).unwrap();
        assert_eq!(
            verdict(&report),
            (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
            "{open}: {report:#?}"
        );
    }
    // The untouched enveloping signature is not taken for wrapping.
    let good = online(&xml, &NoDetachedData);
    assert_eq!(good.indication(), Indication::TotalPassed, "{good:#?}");
}

#[test]
fn a_swapped_key_info_certificate_is_not_trusted() {
    let xml = signed(Packaging::Enveloped, DOC);
    let text = String::from_utf8(xml.clone()).unwrap();
    let start = text.find("X509Certificate>").unwrap() + "X509Certificate>".len();
    let end = start + text[start..].find('<').unwrap();
    let other: ChainCert = fixture_cert("signer-rsa");
    let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(other.der());
    let swapped = format!("{}{b64}{}", &text[..start], &text[end..]);
    let report = validate_xml(swapped.as_bytes(), &options(), &NoDetachedData).unwrap();
    assert_eq!(
        verdict(&report),
        (
            Indication::Indeterminate,
            Some(SubIndication::NoSigningCertificateFound)
        ),
        "{report:#?}"
    );
}

#[test]
fn detached_data_comes_from_the_caller_only() {
    let data = b"any bytes at all";
    let xml = signed(
        Packaging::Detached {
            uri: "data.bin".into(),
        },
        data,
    );
    let report = validate_xml(&xml, &options(), &NoDetachedData).unwrap();
    assert_eq!(
        verdict(&report),
        (
            Indication::Indeterminate,
            Some(SubIndication::SignedDataNotFound)
        )
    );
    let mut given = GivenData::new();
    given.add("data.bin", data.to_vec());
    let report = online(&xml, &given);
    assert_eq!(report.indication(), Indication::TotalPassed, "{report:#?}");
    let mut wrong = GivenData::new();
    wrong.add("data.bin", b"other bytes".to_vec());
    let report = validate_xml(&xml, &options(), &wrong).unwrap();
    assert_eq!(
        verdict(&report),
        (Indication::TotalFailed, Some(SubIndication::HashFailure))
    );
}

#[test]
fn a_transform_outside_the_allow_list_is_refused() {
    let xml = signed(Packaging::Enveloped, DOC);
    let xslt = replace(
        &xml,
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"",
        "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"",
    );
    let report = validate_xml(&xslt, &options(), &NoDetachedData).unwrap();
    assert_eq!(
        verdict(&report),
        (
            Indication::Indeterminate,
            Some(SubIndication::SigConstraintsFailure)
        ),
        "{report:#?}"
    );
}

#[test]
fn a_second_qualifying_properties_is_a_format_failure() {
    let xml = signed(Packaging::Enveloped, DOC);
    // Objects are not signed: a decoy without SignedProperties put first would
    // otherwise hide the signed binding of the signing certificate.
    let decoy = "<ds:Object><xades:QualifyingProperties \
                 xmlns:xades=\"http://uri.etsi.org/01903/v1.3.2#\"/></ds:Object><ds:Object";
    let text = String::from_utf8(xml).unwrap();
    let at = text.find("<ds:Object").unwrap();
    let doubled = format!("{}{decoy}{}", &text[..at], &text[at + "<ds:Object".len()..]);
    let report = validate_xml(doubled.as_bytes(), &options(), &NoDetachedData).unwrap();
    assert_eq!(
        verdict(&report),
        (Indication::TotalFailed, Some(SubIndication::FormatFailure)),
        "{report:#?}"
    );
}
