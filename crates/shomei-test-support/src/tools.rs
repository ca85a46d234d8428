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
