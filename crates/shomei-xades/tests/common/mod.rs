//! Helpers shared by the XAdES integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use shomei_test_support::paths::pki_dir;
use shomei_xades::XadesOptions;
use std::path::Path;
use std::process::Command;

/// Options with a frozen signing time.
pub(crate) fn options() -> XadesOptions {
    XadesOptions::new(shomei_core::FixedClock::at_unix(1_700_000_000).0)
}

/// Runs xmlsec1 on the signature file `path` (detached data is resolved next to it);
/// panics (test fails) when xmlsec1 is missing.
pub(crate) fn xmlsec1_verify_file(path: &Path) -> (bool, String) {
    let pki = pki_dir();
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .args(["--enabled-key-data", "x509"])
        .arg("--trusted-pem")
        .arg(pki.join("root.cert.pem"))
        .arg("--untrusted-pem")
        .arg(pki.join("intermediate.cert.pem"))
        .arg(path)
        .current_dir(path.parent().unwrap())
        .output()
        .expect("xmlsec1 must be installed (apt-get install xmlsec1)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs xmlsec1 on `signed` written to a temporary file.
pub(crate) fn xmlsec1_verify(signed: &[u8]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signed.xml");
    std::fs::write(&path, signed).unwrap();
    xmlsec1_verify_file(&path)
}
