//! Helpers shared by the XAdES integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use shomei_xades::XadesOptions;

/// Options with a frozen signing time.
pub(crate) fn options() -> XadesOptions {
    XadesOptions::new(shomei_core::FixedClock::at_unix(1_700_000_000).0)
}

/// xmlsec1 on the signature file `path` (detached data is resolved next to it).
pub(crate) use shomei_test_support::tools::xmlsec1_verify as xmlsec1_verify_file;

/// Runs xmlsec1 on `signed` written to a temporary file.
pub(crate) fn xmlsec1_verify(signed: &[u8]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.xml");
    std::fs::write(&path, signed).unwrap();
    xmlsec1_verify_file(&path)
}
