//! Shared helpers for the fixture tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use shomei_pdf::{prepare_signature, PdfReader, PreparedUpdate, SignatureRequest};

/// A tiny DER blob: SEQUENCE { INTEGER 5 }.
pub(crate) const FAKE_DER: [u8; 5] = [0x30, 0x03, 0x02, 0x01, 0x05];

/// Encrypted fixtures in pdf-unsigned (refused with PdfError::Encrypted).
pub(crate) const ENCRYPTED: &[&str] = &[
    "dss_edition_protected_signing_allowed_with_field.pdf",
    "dss_open_protected.pdf",
    "pyhanko_minimal-aes256.pdf",
    "pyhanko_minimal-rc4.pdf",
    "qpdf_20-pages.pdf",
    "qpdf_V4-aes.pdf",
    "qpdf_c-r6-in.pdf",
];

/// Fixtures with a broken cross-reference table (wrong startxref/offsets): refused with an
/// Xref error because reconstruction is out of scope.
pub(crate) const BROKEN_XREF: &[&str] = &["pdf20_pdf20-utf8-test.pdf"];

pub(crate) fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures"
    ));
    assert!(
        dir.is_dir(),
        "fixture folder {} is missing: the shared fixtures must be checked out beside the repository",
        dir.display()
    );
    dir
}

pub(crate) fn pdfs(sub: &str) -> Vec<PathBuf> {
    let dir = fixtures_dir().join(sub);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no PDFs in {}", dir.display());
    v
}

pub(crate) fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Prepares and embeds FAKE_DER; returns the complete signed file and the update.
pub(crate) fn sign_bytes(
    original: &[u8],
    req: &SignatureRequest,
) -> Result<(Vec<u8>, PreparedUpdate), shomei_pdf::PdfError> {
    let mut reader = PdfReader::open(Cursor::new(original))?;
    let mut prepared = prepare_signature(&mut reader, req)?;
    prepared.embed(&FAKE_DER)?;
    let mut out = original.to_vec();
    out.extend_from_slice(prepared.update_bytes());
    Ok((out, prepared))
}

pub(crate) fn request(capacity: usize) -> SignatureRequest {
    let mut req = SignatureRequest::default();
    req.contents_capacity = capacity;
    req
}

/// Checks the signed file with lopdf: a /Sig field whose /V has our ByteRange and Contents.
/// Returns the names of signature fields holding exactly this update's signature.
pub(crate) fn check_with_lopdf(bytes: &[u8], prepared: &PreparedUpdate) -> Result<String, String> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| format!("lopdf cannot load: {e}"))?;
    let want: Vec<i64> = prepared
        .byte_range()
        .iter()
        .map(|v| i64::try_from(*v).unwrap())
        .collect();
    let deref = |o: &lopdf::Object| -> Option<lopdf::Object> {
        match o {
            lopdf::Object::Reference(id) => doc.get_object(*id).ok().cloned(),
            other => Some(other.clone()),
        }
    };
    for obj in doc.objects.values() {
        let Ok(dict) = obj.as_dict() else { continue };
        if dict.get(b"FT").and_then(|f| f.as_name()).ok() != Some(b"Sig".as_slice()) {
            continue;
        }
        let Some(v) = dict.get(b"V").ok().and_then(deref) else {
            continue;
        };
        let Ok(v) = v.as_dict() else { continue };
        let Some(br) = v.get(b"ByteRange").ok().and_then(deref) else {
            continue;
        };
        let br: Vec<i64> = br
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_i64().ok()).collect())
            .unwrap_or_default();
        if br != want {
            continue;
        }
        let contents = v
            .get(b"Contents")
            .and_then(|c| c.as_str())
            .map_err(|e| format!("no /Contents: {e}"))?;
        if contents.len() != prepared.contents_capacity() {
            return Err(format!(
                "/Contents has {} bytes, expected {}",
                contents.len(),
                prepared.contents_capacity()
            ));
        }
        if contents[..FAKE_DER.len()] != FAKE_DER
            || contents[FAKE_DER.len()..].iter().any(|b| *b != 0)
        {
            return Err("/Contents does not hold the embedded blob".into());
        }
        let t = dict
            .get(b"T")
            .and_then(|t| t.as_str())
            .map(|t| String::from_utf8_lossy(t).into_owned());
        return Ok(t.unwrap_or_default());
    }
    Err("lopdf finds no /FT /Sig field whose /V has the prepared /ByteRange".into())
}

/// Verifies the ByteRange arithmetic against the final file.
pub(crate) fn check_byte_range(bytes: &[u8], prepared: &PreparedUpdate) {
    let [z, a, b, c] = prepared.byte_range();
    assert_eq!(z, 0);
    let (a, b, c) = (
        usize::try_from(a).unwrap(),
        usize::try_from(b).unwrap(),
        usize::try_from(c).unwrap(),
    );
    assert_eq!(
        b + c,
        bytes.len(),
        "ByteRange must end at the end of the file"
    );
    assert_eq!(bytes[a], b'<');
    assert_eq!(bytes[b - 1], b'>');
    assert_eq!(b - a, prepared.contents_capacity() * 2 + 2);
    assert_eq!(
        prepared.contents_hex_offset(),
        u64::try_from(a + 1).unwrap()
    );
    let orig = usize::try_from(prepared.original_len()).unwrap();
    let (p1, p2) = prepared.signed_update_parts();
    assert_eq!(&bytes[orig..a], p1);
    assert_eq!(&bytes[b..], p2);
}

/// `qpdf --check`: (exit code, warning/error lines without the file name).
pub(crate) fn qpdf_check(path: &Path) -> (i32, Vec<String>) {
    let qpdf = Path::new("/usr/bin/qpdf");
    assert!(
        qpdf.exists(),
        "qpdf is required at /usr/bin/qpdf for these tests (apt-get install qpdf)"
    );
    let out = Command::new(qpdf)
        .arg("--check")
        .arg(path)
        .output()
        .expect("run qpdf");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let p = path.to_string_lossy().into_owned();
    let lines = text
        .lines()
        .filter(|l| l.starts_with("WARNING") || l.starts_with("ERROR") || l.contains("qpdf: "))
        .map(|l| l.replace(&p, "FILE"))
        .collect();
    (out.status.code().unwrap_or(-1), lines)
}
