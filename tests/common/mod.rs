//! Helpers for the integration tests: reading signatures back with an independent
//! PDF parser (lopdf) and checking them with OpenSSL.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A signature found in a PDF.
pub(crate) struct FoundSignature {
    pub(crate) byte_range: [usize; 4],
    pub(crate) cms: Vec<u8>,
    pub(crate) sub_filter: String,
    pub(crate) has_m: bool,
    pub(crate) field_name: Option<String>,
}

/// Cuts a DER value at its own length (the /Contents placeholder is zero padded).
pub(crate) fn der_prefix(bytes: &[u8]) -> &[u8] {
    let len_byte = bytes[1] as usize;
    let (header, len) = if len_byte < 0x80 {
        (2, len_byte)
    } else {
        let n = len_byte & 0x7f;
        let mut l = 0usize;
        for b in &bytes[2..2 + n] {
            l = (l << 8) | *b as usize;
        }
        (2 + n, l)
    };
    &bytes[..header + len]
}

/// Every signature dictionary reachable from the AcroForm fields, read with lopdf.
pub(crate) fn signatures(pdf: &[u8]) -> Vec<FoundSignature> {
    let doc = lopdf::Document::load_mem(pdf).expect("lopdf reads the output");
    let mut out = Vec::new();
    for (_, obj) in doc.objects.iter() {
        let Ok(dict) = obj.as_dict() else { continue };
        let is_sig_field = dict
            .get(b"FT")
            .ok()
            .and_then(|o| o.as_name().ok())
            .is_some_and(|n| n == b"Sig");
        if !is_sig_field {
            continue;
        }
        let Ok(v) = dict.get(b"V") else { continue };
        let sig = match v {
            lopdf::Object::Reference(id) => doc.get_object(*id).unwrap().as_dict().unwrap().clone(),
            lopdf::Object::Dictionary(d) => d.clone(),
            _ => continue,
        };
        let br: Vec<usize> = sig
            .get(b"ByteRange")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_i64().unwrap() as usize)
            .collect();
        let contents = sig.get(b"Contents").unwrap().as_str().unwrap().to_vec();
        out.push(FoundSignature {
            byte_range: [br[0], br[1], br[2], br[3]],
            cms: der_prefix(&contents).to_vec(),
            sub_filter: String::from_utf8_lossy(sig.get(b"SubFilter").unwrap().as_name().unwrap())
                .into_owned(),
            has_m: sig.get(b"M").is_ok(),
            field_name: dict
                .get(b"T")
                .ok()
                .and_then(|t| t.as_str().ok())
                .map(|t| String::from_utf8_lossy(t).into_owned()),
        });
    }
    out.sort_by_key(|s| s.byte_range[2]);
    out
}

/// The bytes a signature's ByteRange covers.
pub(crate) fn signed_bytes(pdf: &[u8], br: [usize; 4]) -> Vec<u8> {
    let mut v = pdf[br[0]..br[0] + br[1]].to_vec();
    v.extend_from_slice(&pdf[br[2]..br[2] + br[3]]);
    v
}

/// `openssl cms -verify` of a detached signature over `content`, trusting `root`.
pub(crate) fn openssl_verify(cms: &[u8], content: &[u8], root: &Path) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let sig = dir.path().join("sig.p7s");
    let data = dir.path().join("content.bin");
    std::fs::write(&sig, cms).unwrap();
    std::fs::write(&data, content).unwrap();
    Command::new("openssl")
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
        ])
        .arg(&sig)
        .arg("-content")
        .arg(&data)
        .arg("-CAfile")
        .arg(root)
        .args(["-out", "/dev/null"])
        .output()
        .expect("openssl is required for this test")
}

/// `openssl asn1parse` text of a DER blob.
pub(crate) fn asn1parse(der: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.der");
    std::fs::write(&f, der).unwrap();
    let out = Command::new("openssl")
        .args(["asn1parse", "-inform", "DER", "-in"])
        .arg(&f)
        .output()
        .expect("openssl is required for this test");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The shomei binary built for these tests.
pub(crate) fn shomei() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shomei"))
}

pub(crate) fn pki(name: &str) -> PathBuf {
    shomei_test_support::paths::pki_dir().join(name)
}
