//! Signs every fixture and checks the result with lopdf and qpdf.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::Path;

use common::*;
use shomei_pdf::{PdfError, PdfReader};

/// Signed fixtures that must be refused, and why.
const SIGNED_REFUSED: &[(&str, &str)] = &[
    ("dss_encrypted.pdf", "encrypted"),
    ("qpdf_minimal-signed-restricted.pdf", "encrypted"),
    ("dss_certified-no-change-permitted.pdf", "docmdp"),
    ("dss_pkcs7-no-message-digest.pdf", "docmdp"),
    ("pyhanko_certified-with-indirect-refs-in-dir.pdf", "docmdp"),
    // Its first signature carries a FieldMDP transform with /P 1 (PDF 2.0): the document is
    // locked; DSS's PDFSignWithPermissionsTest expects new signatures to be refused.
    ("dss_AD-RB.pdf", "locked"),
    // Deliberately corrupted: startxref points into the middle of nowhere.
    ("dss_pdf-signed-corrupted.pdf", "xref"),
    // Its newest trailer says /Prev 0, cutting off every earlier revision, so the page tree
    // root (object 56) does not exist; qpdf --check reports object 56 as null as well.
    (
        "dss_pades-5-signatures-and-1-document-timestamp.pdf",
        "structure",
    ),
];

fn signature_count(bytes: &[u8]) -> usize {
    PdfReader::open(Cursor::new(bytes))
        .unwrap()
        .signature_count()
        .unwrap()
}

/// Signs `original`, checks prefix, ByteRange, lopdf and qpdf; returns the signed bytes.
/// `known_warnings` are qpdf warnings the input already had (the output may keep them).
fn sign_and_check(
    label: &str,
    original: &[u8],
    known_warnings: &BTreeSet<String>,
    dir: &Path,
) -> Result<Vec<u8>, String> {
    let before = signature_count(original);
    let (signed, prepared) =
        sign_bytes(original, &request(64)).map_err(|e| format!("prepare failed: {e}"))?;
    if !signed.starts_with(original) {
        return Err("the original is not a byte prefix of the output".into());
    }
    assert_eq!(
        prepared.original_len(),
        u64::try_from(original.len()).unwrap()
    );
    check_byte_range(&signed, &prepared);
    check_with_lopdf(&signed, &prepared).map_err(|e| format!("lopdf: {e}"))?;
    let after = signature_count(&signed);
    if after != before + 1 {
        return Err(format!("signature_count went from {before} to {after}"));
    }
    let out = dir.join(label);
    std::fs::write(&out, &signed).unwrap();
    let (code, warnings) = qpdf_check(&out);
    let new: Vec<&String> = warnings
        .iter()
        .filter(|w| !known_warnings.contains(*w))
        .collect();
    if !new.is_empty() || !(code == 0 || (code == 3 && !known_warnings.is_empty())) {
        return Err(format!("qpdf --check exit {code}, new problems: {new:?}"));
    }
    if code != 0 {
        println!("{label}: qpdf exit {code}, only warnings the input already had: {warnings:?}");
    }
    Ok(signed)
}

fn run_fixture_set(sub: &str, refused: &[(&str, &str)]) {
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut signed_ok = 0;
    let mut refused_ok = 0;
    for path in pdfs(sub) {
        let n = name(&path);
        let original = std::fs::read(&path).unwrap();
        if let Some((_, why)) = refused.iter().find(|(f, _)| *f == n) {
            let res = sign_bytes(&original, &request(64)).map(|_| ());
            let ok = matches!(
                (*why, &res),
                ("encrypted", Err(PdfError::Encrypted))
                    | ("docmdp", Err(PdfError::DocMdpForbidsChanges))
                    | ("locked", Err(PdfError::LockedBySignature(_)))
                    | ("xref", Err(PdfError::Xref { .. }))
                    | ("structure", Err(PdfError::Structure(_)))
            );
            if ok {
                refused_ok += 1;
            } else {
                failures.push(format!("{n}: expected refusal ({why}), got {res:?}"));
            }
            continue;
        }
        let (_, known) = qpdf_check(&path);
        if !known.is_empty() {
            println!("{n}: input already has qpdf warnings: {known:?}");
        }
        let known: BTreeSet<String> = known.into_iter().collect();
        match sign_and_check(&format!("1-{n}"), &original, &known, tmp.path()) {
            // Sign the signed output again: signing a signed file must work too.
            Ok(once) => match sign_and_check(&format!("2-{n}"), &once, &known, tmp.path()) {
                Ok(twice) => {
                    assert!(twice.starts_with(&once));
                    signed_ok += 1;
                }
                Err(e) => failures.push(format!("{n} (second signature): {e}")),
            },
            Err(e) => failures.push(format!("{n}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{sub}: {signed_ok} signed twice and checked, {refused_ok} refused as expected");
    assert!(signed_ok > 0);
}

#[test]
fn every_unsigned_fixture_signs_cleanly() {
    let refused: Vec<(&str, &str)> = ENCRYPTED
        .iter()
        .map(|f| (*f, "encrypted"))
        .chain(BROKEN_XREF.iter().map(|f| (*f, "xref")))
        .collect();
    run_fixture_set("pdf-unsigned", &refused);
}

#[test]
fn every_signed_fixture_gets_another_signature() {
    run_fixture_set("pdf-signed", SIGNED_REFUSED);
}

#[test]
fn encrypted_fixtures_are_refused_with_a_clear_message() {
    for f in ENCRYPTED {
        let bytes = std::fs::read(fixtures_dir().join("pdf-unsigned").join(f)).unwrap();
        let err = PdfReader::open(Cursor::new(bytes)).unwrap_err();
        assert!(matches!(err, PdfError::Encrypted), "{f}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains("encrypted") && msg.contains("does not sign"),
            "{msg}"
        );
    }
}

#[test]
fn broken_xref_is_a_clear_error() {
    for f in BROKEN_XREF {
        let bytes = std::fs::read(fixtures_dir().join("pdf-unsigned").join(f)).unwrap();
        let err = PdfReader::open(Cursor::new(bytes)).unwrap_err();
        assert!(matches!(err, PdfError::Xref { .. }), "{f}: {err:?}");
        assert!(
            err.to_string()
                .starts_with("cross-reference table at byte "),
            "{err}"
        );
    }
}

#[test]
fn offset_start_file_keeps_relative_offsets() {
    let path = fixtures_dir().join("pdf-unsigned/pdf20_PDF-2.0-with-offset-start.pdf");
    let original = std::fs::read(path).unwrap();
    let reader = PdfReader::open(Cursor::new(&original)).unwrap();
    assert!(reader.header_offset() > 0, "fixture has junk before %PDF-");
    let (signed, prepared) = sign_bytes(&original, &request(64)).unwrap();
    // ByteRange is absolute...
    assert_eq!(
        signed[usize::try_from(prepared.byte_range()[1]).unwrap()],
        b'<'
    );
    // ...and our own reader can read the update back (xref offsets relative to the header).
    let mut again = PdfReader::open(Cursor::new(&signed)).unwrap();
    assert_eq!(again.header_offset(), reader.header_offset());
    assert_eq!(again.signature_count().unwrap(), 1);
}

#[test]
fn file_without_final_newline_gets_one_before_the_update() {
    let path = fixtures_dir().join("pdf-unsigned/pyhanko_minimal.pdf");
    let mut original = std::fs::read(path).unwrap();
    while original.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        original.pop();
    }
    let (signed, prepared) = sign_bytes(&original, &request(64)).unwrap();
    assert_eq!(prepared.update_bytes()[0], b'\n');
    check_with_lopdf(&signed, &prepared).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("no-eol.pdf");
    std::fs::write(&out, &signed).unwrap();
    let (code, warnings) = qpdf_check(&out);
    assert_eq!(code, 0, "{warnings:?}");
}

#[test]
fn update_layout_for_a_classic_and_a_stream_file() {
    for (file, stream) in [
        ("pyhanko_minimal.pdf", false),
        ("pyhanko_minimal-xref.pdf", true),
    ] {
        let original = std::fs::read(fixtures_dir().join("pdf-unsigned").join(file)).unwrap();
        let (_, prepared) = sign_bytes(&original, &request(8)).unwrap();
        let text = String::from_utf8_lossy(prepared.update_bytes()).into_owned();
        println!("{text}");
        assert!(text.contains("/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached"));
        assert!(text.contains("/FT /Sig /T (Signature1)"));
        assert!(text.contains("/SigFlags 3"));
        assert_eq!(text.contains("\nxref\n"), !stream, "{file}");
        assert_eq!(text.contains("/Type /XRef"), stream, "{file}");
        assert!(!text.contains("/XRefStm"));
        assert!(text.ends_with("%%EOF\n"));
    }
}

/// Regression: `dss_pdf-xref-streams.pdf` keeps its xref stream in object 41 while its
/// /Size is 41. New objects must not take number 41: that would overwrite the xref
/// stream of the previous revision, which strict readers (pyHanko) reject.
#[test]
fn new_objects_never_reuse_an_xref_stream_number() {
    let original =
        std::fs::read(fixtures_dir().join("pdf-unsigned/dss_pdf-xref-streams.pdf")).unwrap();
    assert!(String::from_utf8_lossy(&original).contains("41 0 obj\n<</Filter /FlateDecode"));
    let (_, prepared) = sign_bytes(&original, &request(8)).unwrap();
    let text = String::from_utf8_lossy(prepared.update_bytes()).into_owned();
    assert!(!text.contains("41 0 obj"), "{text}");
    assert!(text.contains("42 0 obj"), "{text}");
}
