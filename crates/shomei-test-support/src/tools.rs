//! External programs used as independent judges.

use std::path::Path;
use std::process::Command;

/// Output of `qpdf --check FILE`: (exit code, combined output). Panics if qpdf is not
/// installed — a missing judge is a failure, never a skip.
pub fn qpdf_check(file: &Path) -> (i32, String) {
    let out = Command::new("qpdf")
        .arg("--check")
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("qpdf is required for this test (apt-get install qpdf): {e}"));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// The number of warnings in qpdf's output.
pub fn qpdf_warnings(output: &str) -> usize {
    output.lines().filter(|l| l.starts_with("WARNING")).count()
}

/// Runs `openssl ARGS` in `dir` (the current directory when `None`): (success, stdout
/// followed by stderr). Panics if openssl is not installed — a missing judge is a
/// failure, never a skip.
pub fn openssl(dir: Option<&Path>, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("openssl");
    cmd.args(args);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("openssl is required for this test (apt-get install openssl): {e}")
    });
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// `xmlsec1 --verify` of the signature file `path` with the key taken only from its
/// X.509 certificate, chained to the test PKI's root (the intermediate as untrusted), run
/// in the file's directory so a detached URI resolves next to it: (success, output).
/// Panics if xmlsec1 is not installed — a missing judge is a failure, never a skip.
pub fn xmlsec1_verify(path: &Path) -> (bool, String) {
    let pki = crate::paths::pki_dir();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let mut cmd = Command::new("xmlsec1");
    cmd.args(["--verify", "--enabled-key-data", "x509", "--trusted-pem"])
        .arg(pki.join("root.cert.pem"))
        .arg("--untrusted-pem")
        .arg(pki.join("intermediate.cert.pem"));
    match (dir, path.file_name()) {
        (Some(d), Some(name)) => cmd.arg(name).current_dir(d),
        _ => cmd.arg(path),
    };
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("xmlsec1 is required for this test (apt-get install xmlsec1): {e}")
    });
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}
