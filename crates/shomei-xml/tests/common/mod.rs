//! Shared test helpers.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers

use std::path::PathBuf;

/// The shared fixtures directory (fails if missing).
pub fn fixtures() -> PathBuf {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures"
    ));
    assert!(p.is_dir(), "fixtures directory missing: {}", p.display());
    p
}

/// Reads a fixture by path relative to the fixtures directory.
pub fn read(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {} missing: {e}", p.display()))
}

/// Parses and canonicalizes a whole document.
pub fn c14n(bytes: &[u8], method: &shomei_xml::C14nMethod) -> Vec<u8> {
    let doc = shomei_xml::Document::parse(bytes).unwrap();
    let mut out = Vec::new();
    shomei_xml::canonicalize(&doc, None, method, &mut out).unwrap();
    out
}
