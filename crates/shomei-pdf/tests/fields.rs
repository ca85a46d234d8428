//! Field selection, certification, DocMDP and the signature dictionary's content.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::io::Cursor;

use common::*;
use shomei_pdf::{
    prepare_signature, PdfError, PdfReader, PreparedUpdate, SignatureDictionary, SignatureRequest,
};

fn fixture(sub: &str, f: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(sub).join(f)).unwrap()
}

fn named(name: &str) -> SignatureRequest {
    let mut req = request(64);
    req.field_name = Some(name.into());
    req
}

/// Number of /FT /Sig fields lopdf sees.
fn sig_field_count(bytes: &[u8]) -> usize {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"FT").and_then(|f| f.as_name()).ok() == Some(b"Sig".as_slice()))
        .count()
}

/// The signature dictionary lopdf finds for the prepared update.
fn sig_dict(bytes: &[u8], prepared: &PreparedUpdate) -> lopdf::Dictionary {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    let want: Vec<i64> = prepared
        .byte_range()
        .iter()
        .map(|v| i64::try_from(*v).unwrap())
        .collect();
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .find(|d| {
            d.get(b"ByteRange")
                .and_then(|b| b.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_i64().ok()).collect::<Vec<_>>() == want)
                .unwrap_or(false)
        })
        .cloned()
        .expect("signature dictionary")
}

#[test]
fn existing_empty_fields_are_used_by_name() {
    for (file, names) in [
        ("pyhanko_minimal-two-fields.pdf", ["Sig1", "Sig2"]),
        ("pyhanko_minimal-two-fields-tagged.pdf", ["Sig1", "Sig2"]),
        (
            "dss_pdf-two-fields.pdf",
            ["signature-test", "signature-test2"],
        ),
    ] {
        let original = fixture("pdf-unsigned", file);
        let fields_before = sig_field_count(&original);
        let (once, p1) = sign_bytes(&original, &named(names[0])).unwrap();
        assert_eq!(check_with_lopdf(&once, &p1).unwrap(), names[0], "{file}");
        assert_eq!(
            sig_field_count(&once),
            fields_before,
            "{file}: no new field"
        );
        let (twice, p2) = sign_bytes(&once, &named(names[1])).unwrap();
        assert_eq!(check_with_lopdf(&twice, &p2).unwrap(), names[1], "{file}");
        assert_eq!(
            sig_field_count(&twice),
            fields_before,
            "{file}: no new field"
        );
        // The first signature is still there, untouched.
        assert_eq!(check_with_lopdf(&twice, &p1).unwrap(), names[0]);
        let err = sign_bytes(&twice, &named(names[0])).unwrap_err();
        assert!(
            matches!(&err, PdfError::FieldAlreadySigned(n) if n == names[0]),
            "{err:?}"
        );
        // A third, unnamed signature gets a new field.
        let (thrice, p3) = sign_bytes(&twice, &request(64)).unwrap();
        assert_eq!(check_with_lopdf(&thrice, &p3).unwrap(), "Signature1");
        assert_eq!(sig_field_count(&thrice), fields_before + 1);
        assert_eq!(
            PdfReader::open(Cursor::new(&thrice))
                .unwrap()
                .signature_count()
                .unwrap(),
            3
        );
    }
}

#[test]
fn new_named_field_and_generated_names() {
    let original = fixture("pdf-unsigned", "pyhanko_minimal.pdf");
    let (once, p1) = sign_bytes(&original, &named("Approval")).unwrap();
    assert_eq!(check_with_lopdf(&once, &p1).unwrap(), "Approval");
    let (twice, p2) = sign_bytes(&once, &request(64)).unwrap();
    assert_eq!(check_with_lopdf(&twice, &p2).unwrap(), "Signature1");
    let (_, p3) = sign_bytes(&twice, &request(64))
        .map(|(b, p)| (b.clone(), (b, p)))
        .unwrap();
    assert_eq!(check_with_lopdf(&p3.0, &p3.1).unwrap(), "Signature2");
    let err = sign_bytes(&once, &named("Approval")).unwrap_err();
    assert!(matches!(err, PdfError::FieldAlreadySigned(_)));
}

#[test]
fn non_signature_field_name_is_refused() {
    let original = fixture("pdf-unsigned", "qpdf_form-filled-by-acrobat.pdf");
    let doc = lopdf::Document::load_mem(&original).unwrap();
    let text_field = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .find(|d| {
            d.get(b"FT").and_then(|f| f.as_name()).ok() == Some(b"Tx".as_slice()) && d.has(b"T")
        })
        .map(|d| String::from_utf8_lossy(d.get(b"T").unwrap().as_str().unwrap()).into_owned())
        .expect("a text field");
    let err = sign_bytes(&original, &named(&text_field)).unwrap_err();
    assert!(matches!(err, PdfError::FieldNotSignature(_)), "{err:?}");
}

#[test]
fn docmdp_p1_is_refused() {
    let original = fixture("pdf-signed", "dss_certified-no-change-permitted.pdf");
    let err = sign_bytes(&original, &request(64)).unwrap_err();
    assert!(matches!(err, PdfError::DocMdpForbidsChanges), "{err:?}");
}

#[test]
fn certification_signature() {
    let original = fixture("pdf-unsigned", "pyhanko_minimal-xref.pdf");
    let mut req = request(64);
    req.dictionary.certify = Some(2);
    let (certified, p) = sign_bytes(&original, &req).unwrap();
    let sig = sig_dict(&certified, &p);
    let reference = sig.get(b"Reference").unwrap().as_array().unwrap();
    let sigref = reference[0].as_dict().unwrap();
    assert_eq!(
        sigref.get(b"TransformMethod").unwrap().as_name().unwrap(),
        b"DocMDP"
    );
    let params = sigref.get(b"TransformParams").unwrap().as_dict().unwrap();
    assert_eq!(params.get(b"P").unwrap().as_i64().unwrap(), 2);
    assert_eq!(params.get(b"V").unwrap().as_name().unwrap(), b"1.2");
    let doc = lopdf::Document::load_mem(&certified).unwrap();
    let root = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let catalog = doc.get_object(root).unwrap().as_dict().unwrap();
    let perms = catalog.get(b"Perms").unwrap().as_dict().unwrap();
    assert!(perms.get(b"DocMDP").unwrap().as_reference().is_ok());

    // A second certification is refused; an ordinary signature is fine with P=2.
    let err = sign_bytes(&certified, &req).unwrap_err();
    assert!(matches!(err, PdfError::CertifyNotFirst), "{err:?}");
    sign_bytes(&certified, &request(64)).unwrap();

    // With P=1 nothing may follow.
    req.dictionary.certify = Some(1);
    let (locked, _) = sign_bytes(&original, &req).unwrap();
    let err = sign_bytes(&locked, &request(64)).unwrap_err();
    assert!(matches!(err, PdfError::DocMdpForbidsChanges), "{err:?}");

    req.dictionary.certify = Some(4);
    assert!(matches!(
        sign_bytes(&original, &req),
        Err(PdfError::InvalidRequest(_))
    ));
}

#[test]
fn signature_dictionary_entries() {
    let original = fixture("pdf-unsigned", "pyhanko_minimal.pdf");
    let mut req = request(64);
    req.dictionary = SignatureDictionary::cades();
    req.dictionary.signing_time = Some("D:20261127032000Z".into());
    req.dictionary.reason = Some("Approval (final)".into());
    req.dictionary.location = Some("Zürich".into());
    req.dictionary.name = Some("Jane \\ Doe".into());
    req.dictionary.contact_info = Some("jane@example.org".into());
    let (signed, p) = sign_bytes(&original, &req).unwrap();
    let sig = sig_dict(&signed, &p);
    assert_eq!(sig.get(b"Type").unwrap().as_name().unwrap(), b"Sig");
    assert_eq!(
        sig.get(b"Filter").unwrap().as_name().unwrap(),
        b"Adobe.PPKLite"
    );
    assert_eq!(
        sig.get(b"SubFilter").unwrap().as_name().unwrap(),
        b"ETSI.CAdES.detached"
    );
    assert_eq!(
        sig.get(b"M").unwrap().as_str().unwrap(),
        b"D:20261127032000Z"
    );
    assert_eq!(
        sig.get(b"Reason").unwrap().as_str().unwrap(),
        b"Approval (final)"
    );
    assert_eq!(sig.get(b"Name").unwrap().as_str().unwrap(), b"Jane \\ Doe");
    assert_eq!(
        sig.get(b"ContactInfo").unwrap().as_str().unwrap(),
        b"jane@example.org"
    );
    let mut utf16 = vec![0xfe, 0xff];
    for u in "Zürich".encode_utf16() {
        utf16.extend_from_slice(&u.to_be_bytes());
    }
    assert_eq!(
        sig.get(b"Location").unwrap().as_str().unwrap(),
        utf16.as_slice()
    );

    let mut ts = request(64);
    ts.dictionary = SignatureDictionary::document_timestamp();
    ts.dictionary.reason = Some("ignored for timestamps".into());
    let (stamped, p) = sign_bytes(&signed, &ts).unwrap();
    let sig = sig_dict(&stamped, &p);
    assert_eq!(
        sig.get(b"Type").unwrap().as_name().unwrap(),
        b"DocTimeStamp"
    );
    assert_eq!(
        sig.get(b"SubFilter").unwrap().as_name().unwrap(),
        b"ETSI.RFC3161"
    );
    assert!(!sig.has(b"M") && !sig.has(b"Reason"));
    assert_eq!(
        PdfReader::open(Cursor::new(&stamped))
            .unwrap()
            .signature_count()
            .unwrap(),
        2
    );
}

#[test]
fn contents_too_small_and_reembedding() {
    let original = fixture("pdf-unsigned", "pyhanko_minimal.pdf");
    let mut reader = PdfReader::open(Cursor::new(&original)).unwrap();
    let mut prepared = prepare_signature(&mut reader, &request(4)).unwrap();
    let err = prepared.embed(&FAKE_DER).unwrap_err();
    assert!(
        matches!(
            err,
            PdfError::ContentsTooSmall {
                needed: 5,
                capacity: 4
            }
        ),
        "{err:?}"
    );
    prepared.embed(&[0xab, 0xcd]).unwrap();
    prepared.embed(&[0x01]).unwrap();
    let (before, after) = prepared.signed_update_parts();
    let hex_start = before.len() + 1;
    assert_eq!(
        &prepared.update_bytes()[hex_start..hex_start + 8],
        b"01000000"
    );
    assert_eq!(
        before.len() + 2 + 8 + after.len(),
        prepared.update_bytes().len()
    );
    assert!(matches!(
        prepare_signature(&mut reader, &request(0)),
        Err(PdfError::InvalidRequest(_))
    ));
}

#[test]
fn prepared_update_serde_round_trip() {
    let original = fixture("pdf-unsigned", "qpdf_c-object-streams.pdf");
    let mut reader = PdfReader::open(Cursor::new(&original)).unwrap();
    let prepared = prepare_signature(&mut reader, &request(64)).unwrap();
    let json = serde_json::to_string(&prepared).unwrap();
    let mut back: PreparedUpdate = serde_json::from_str(&json).unwrap();
    assert_eq!(back, prepared);
    assert_eq!(back.byte_range(), prepared.byte_range());
    assert_eq!(back.contents_hex_offset(), prepared.contents_hex_offset());
    back.embed(&FAKE_DER).unwrap();
    let mut signed = original.clone();
    signed.extend_from_slice(back.update_bytes());
    check_with_lopdf(&signed, &back).unwrap();

    // A tampered serialized form must not make embed panic.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["contents_start"] = serde_json::json!(usize::MAX - 1);
    let mut bad: PreparedUpdate = serde_json::from_value(value).unwrap();
    assert!(matches!(
        bad.embed(&FAKE_DER),
        Err(PdfError::InvalidPreparedUpdate(_))
    ));
    let _ = bad.signed_update_parts();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["contents_capacity"] = serde_json::json!(usize::MAX);
    let mut bad: PreparedUpdate = serde_json::from_value(value).unwrap();
    assert!(bad.embed(&FAKE_DER).is_err());
    let _ = bad.signed_update_parts();
}
