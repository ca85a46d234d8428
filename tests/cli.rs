//! End-to-end tests of `shomei sign pdf`, judged by lopdf, OpenSSL and qpdf.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::*;
use shomei_test_support::{paths, sample_pdf, tools};
use std::path::{Path, PathBuf};

fn sample(dir: &Path) -> PathBuf {
    let p = dir.join("in.pdf");
    std::fs::write(&p, sample_pdf::one_page("cli test")).unwrap();
    p
}

fn sign_with(signer: &str, input: &Path, output: &Path, extra: &[&str]) -> std::process::Output {
    sign_as("pdf", signer, input, output, extra)
}

/// `shomei sign FORMAT INPUT -o OUTPUT` with a test PKI signer, its chain, and `extra`.
fn sign_as(
    format: &str,
    signer: &str,
    input: &Path,
    output: &Path,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = shomei();
    cmd.args(["sign", format]).arg(input).arg("-o").arg(output);
    cmd.arg("--key").arg(pki(&format!("{signer}.key.pem")));
    cmd.arg("--cert").arg(pki(&format!("{signer}.cert.pem")));
    cmd.arg("--chain").arg(pki("chain.pem"));
    cmd.args(extra);
    cmd.output().unwrap()
}

fn assert_valid_signature(pdf: &[u8], sig: &FoundSignature) {
    let verify = openssl_verify(
        &sig.cms,
        &signed_bytes(pdf, sig.byte_range),
        &pki("root.cert.pem"),
    );
    assert!(
        verify.status.success(),
        "openssl cms -verify failed: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn signs_with_every_test_key_and_openssl_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample(dir.path());
    let original = std::fs::read(&input).unwrap();
    let cases: &[(&str, &[&str], &str)] = &[
        ("signer-rsa", &[], "sha256WithRSAEncryption"),
        ("signer-rsa", &["--rsa-pss"], "rsassaPss"),
        (
            "signer-rsa",
            &["--digest", "sha512"],
            "sha512WithRSAEncryption",
        ),
        ("signer-ec", &[], "ecdsa-with-SHA256"),
        ("signer-ec384", &[], "ecdsa-with-SHA384"),
    ];
    for (signer, extra, alg) in cases {
        let out = dir.path().join(format!("{signer}-{}.pdf", extra.join("")));
        let run = sign_with(signer, &input, &out, extra);
        assert!(
            run.status.success(),
            "{signer} {extra:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let pdf = std::fs::read(&out).unwrap();
        assert!(
            pdf.starts_with(&original),
            "original bytes must be a prefix"
        );
        let sigs = signatures(&pdf);
        assert_eq!(sigs.len(), 1);
        let sig = &sigs[0];
        assert_eq!(sig.sub_filter, "ETSI.CAdES.detached");
        assert!(sig.has_m, "/M is required when the CMS has no signing-time");
        // The ByteRange covers the whole file except the /Contents value.
        assert_eq!(sig.byte_range[0], 0);
        assert_eq!(sig.byte_range[2] + sig.byte_range[3], pdf.len());
        assert_eq!(pdf[sig.byte_range[1]], b'<');
        assert_eq!(pdf[sig.byte_range[2] - 1], b'>');
        assert_valid_signature(&pdf, sig);
        let asn1 = asn1parse(&sig.cms);
        assert!(asn1.contains(alg), "{alg} expected in CMS:\n{asn1}");
        assert!(asn1.contains("id-smime-aa-signingCertificateV2"));
        assert!(
            !asn1.contains("signingTime"),
            "PAdES forbids the CMS signing-time"
        );
        let (code, text) = tools::qpdf_check(&out);
        assert_eq!(code, 0, "qpdf --check: {text}");
        assert_eq!(tools::qpdf_warnings(&text), 0, "qpdf --check: {text}");
    }
}

#[test]
fn demo_identity_signs_without_setup() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample(dir.path());
    let out = dir.path().join("demo.pdf");
    let run = shomei()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--demo")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let pdf = std::fs::read(&out).unwrap();
    let sigs = signatures(&pdf);
    assert_eq!(sigs.len(), 1);
    let verify = openssl_verify(
        &sigs[0].cms,
        &signed_bytes(&pdf, sigs[0].byte_range),
        &pki("demo.cert.pem"),
    );
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn signing_twice_keeps_the_first_signature_valid() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample(dir.path());
    let once = dir.path().join("once.pdf");
    let twice = dir.path().join("twice.pdf");
    assert!(
        sign_with("signer-ec", &input, &once, &["--reason", "first"])
            .status
            .success()
    );
    let run = sign_with(
        "signer-rsa",
        &once,
        &twice,
        &["--reason", "second", "--field", "Second"],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let first = std::fs::read(&once).unwrap();
    let pdf = std::fs::read(&twice).unwrap();
    assert!(pdf.starts_with(&first));
    let sigs = signatures(&pdf);
    assert_eq!(sigs.len(), 2);
    for s in &sigs {
        assert_valid_signature(&pdf, s);
    }
    assert_eq!(sigs[1].field_name.as_deref(), Some("Second"));
    assert!(
        sigs[0].byte_range[2] + sigs[0].byte_range[3] < pdf.len(),
        "first covers its revision only"
    );
}

#[test]
fn fills_an_existing_empty_field_by_name() {
    let input = paths::shared_fixtures().join("pdf-unsigned/pyhanko_minimal-two-fields.pdf");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("field.pdf");
    let run = sign_with("signer-ec", &input, &out, &["--field", "Sig2"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let pdf = std::fs::read(&out).unwrap();
    let sigs = signatures(&pdf);
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].field_name.as_deref(), Some("Sig2"));
    assert_valid_signature(&pdf, &sigs[0]);
}

#[test]
fn certification_with_no_changes_refuses_a_later_signature() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample(dir.path());
    let certified = dir.path().join("certified.pdf");
    let run = sign_with("signer-rsa", &input, &certified, &["--certify", "1"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let pdf = std::fs::read(&certified).unwrap();
    assert_valid_signature(&pdf, &signatures(&pdf)[0]);
    let again = dir.path().join("again.pdf");
    let run = sign_with("signer-ec", &certified, &again, &[]);
    assert_eq!(run.status.code(), Some(2));
    assert!(!again.exists());
}

#[test]
fn bad_inputs_exit_2_with_a_message_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let sample_bytes = sample_pdf::one_page("x");
    let garbage = dir.path().join("garbage.pdf");
    std::fs::write(&garbage, b"this is not a PDF at all\n").unwrap();
    let truncated = dir.path().join("truncated.pdf");
    std::fs::write(&truncated, &sample_bytes[..sample_bytes.len() / 2]).unwrap();
    let empty = dir.path().join("empty.pdf");
    std::fs::write(&empty, b"").unwrap();
    let encrypted = paths::shared_fixtures().join("pdf-unsigned/pyhanko_minimal-aes256.pdf");
    let missing = dir.path().join("missing.pdf");
    for (input, expect) in [
        (&garbage, "garbage.pdf"),
        (&truncated, "truncated.pdf"),
        (&empty, "empty.pdf"),
        (&encrypted, "encrypt"),
        (&missing, "missing.pdf"),
    ] {
        let out = dir.path().join("out.pdf");
        let run = sign_with("signer-ec", input, &out, &[]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{}: {stderr}", input.display());
        assert!(stderr.to_lowercase().contains(expect), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "no output file on failure");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .collect();
        assert!(leftovers.is_empty(), "temporary file left behind");
    }
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample(dir.path());
    let out = dir.path().join("out.pdf");
    let run = shomei()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--key")
        .arg(pki("signer-rsa.key.pem"))
        .arg("--cert")
        .arg(pki("signer-ec.cert.pem"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("does not match") || stderr.contains("mismatch"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn pkcs12_with_password_from_environment() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample(dir.path());
    let out = dir.path().join("p12.pdf");
    let run = shomei()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .arg("--key")
        .arg(pki("signer-rsa.p12"))
        .args(["--key-password-env", "SHOMEI_TEST_P12_PASSWORD"])
        .env("SHOMEI_TEST_P12_PASSWORD", "shomei-test")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let pdf = std::fs::read(&out).unwrap();
    assert_valid_signature(&pdf, &signatures(&pdf)[0]);

    let run = shomei()
        .args(["sign", "pdf"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("bad.pdf"))
        .arg("--key")
        .arg(pki("signer-rsa.p12"))
        .args(["--key-password-env", "SHOMEI_TEST_P12_PASSWORD"])
        .env("SHOMEI_TEST_P12_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr)
        .to_lowercase()
        .contains("password"));
}

#[test]
fn help_describes_every_option() {
    let run = shomei().args(["sign", "pdf", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    for opt in [
        "--key",
        "--cert",
        "--chain",
        "--field",
        "--reason",
        "--location",
        "--certify",
        "--digest",
        "--rsa-pss",
        "--key-password-env",
        "--demo",
    ] {
        assert!(text.contains(opt), "help lacks {opt}:\n{text}");
    }
}

#[test]
fn long_term_levels_need_a_tsa_and_extend_needs_a_signature() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample(dir.path());
    let out = dir.path().join("out.pdf");
    let run = sign_with("signer-ec", &input, &out, &["--level", "B-T"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--tsa"));
    assert!(!out.exists());

    let run = shomei()
        .arg("extend")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .args(["--level", "B-LTA", "--tsa", "http://127.0.0.1:9/tsa"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("no signature"));
    assert!(!out.exists());
}

#[test]
fn an_unreachable_tsa_exits_1_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample(dir.path());
    let out = dir.path().join("out.pdf");
    // Port 9 (discard) on loopback: nothing listens there in the test environment.
    let run = sign_with(
        "signer-ec",
        &input,
        &out,
        &[
            "--level",
            "B-T",
            "--tsa",
            "http://127.0.0.1:9/tsa",
            "--timeout",
            "3",
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
    assert!(!out.exists());
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn signs_xml_enveloped_and_xmlsec1_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.xml");
    let original = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<請求書 xmlns=\"urn:example:invoice\"><金額>1000</金額></請求書>\n";
    std::fs::write(&input, original).unwrap();
    let out = dir.path().join("out.xml");
    let run = sign_as("xml", "signer-ec", &input, &out, &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let signed = std::fs::read_to_string(&out).unwrap();
    assert!(signed.contains("<金額>1000</金額>"), "text kept");
    let (verified, log) = tools::xmlsec1_verify(&out);
    assert!(verified, "{log}");

    let bomb = paths::shared_fixtures().join("xml-unsigned/pyhanko_xmlbomb.xml");
    let refused = dir.path().join("bomb.xml");
    let run = shomei()
        .args(["sign", "xml"])
        .arg(&bomb)
        .arg("-o")
        .arg(&refused)
        .arg("--demo")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("entity"));
    assert!(!refused.exists());
}

#[test]
fn xml_packagings_and_extend_detect_xml() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("data.xml");
    std::fs::write(&input, "<doc><v>1</v></doc>").unwrap();
    let sign = |packaging: &str, out: &std::path::Path| {
        sign_as(
            "xml",
            "signer-rsa",
            &input,
            out,
            &["--packaging", packaging],
        )
    };
    for packaging in ["enveloping", "detached"] {
        let out = dir.path().join(format!("{packaging}.sig.xml"));
        let run = sign(packaging, &out);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let (verified, log) = tools::xmlsec1_verify(&out);
        assert!(verified, "{packaging}: {log}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ds:Signature"));
        if packaging == "detached" {
            assert!(text.contains("URI=\"data.xml\""));
        }
    }
    // A detached signature elsewhere could not find its data by relative path.
    let other = tempfile::tempdir().unwrap();
    let out = other.path().join("far.sig.xml");
    let run = sign("detached", &out);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("relative"));
    assert!(!out.exists());

    // extend tells XML from PDF by content, whatever the file name.
    let unsigned = dir.path().join("unsigned.pdf");
    std::fs::write(&unsigned, "\u{feff}<doc/>").unwrap();
    let ext = dir.path().join("ext.xml");
    let run = shomei()
        .arg("extend")
        .arg(&unsigned)
        .arg("-o")
        .arg(&ext)
        .args(["--level", "B-T", "--tsa", "http://127.0.0.1:9/"])
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("no XAdES signature"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!ext.exists());
    // A B-B signature with the TSA down: exit 1, nothing written.
    let run = shomei()
        .arg("extend")
        .arg(dir.path().join("enveloping.sig.xml"))
        .arg("-o")
        .arg(&ext)
        .args([
            "--level",
            "B-T",
            "--tsa",
            "http://127.0.0.1:9/",
            "--timeout",
            "2",
        ])
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!ext.exists());
}

/// `shomei sign FORMAT IN -o OUT` run under `umask`, so the output mode can be checked.
#[cfg(unix)]
fn sign_under_umask(umask: &str, format: &str, input: &Path, output: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_shomei"))
        .args(["sign", format])
        .arg(input)
        .arg("-o")
        .arg(output)
        .arg("--demo")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::metadata(output).unwrap().permissions().mode() & 0o777
}

/// Issue 9, point 6: a signed file gets the mode an ordinary write gives (0666 less the
/// umask), or the input's mode when that is stricter — never always 0600.
#[cfg(unix)]
#[test]
fn issue9_output_mode_follows_umask_and_a_stricter_input() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let pdf = sample(dir.path());
    let xml = dir.path().join("in.xml");
    std::fs::write(&xml, "<doc><v>1</v></doc>").unwrap();
    for (format, input) in [("pdf", &pdf), ("xml", &xml)] {
        let set = |mode: u32| {
            std::fs::set_permissions(input, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        let out = dir.path().join(format!("out.{format}"));
        set(0o644);
        assert_eq!(
            sign_under_umask("022", format, input, &out),
            0o644,
            "{format}"
        );
        assert_eq!(
            sign_under_umask("027", format, input, &out),
            0o640,
            "{format}"
        );
        assert_eq!(
            sign_under_umask("000", format, input, &out),
            0o644,
            "{format}: input 0644 is stricter than 0666"
        );
        set(0o600);
        assert_eq!(
            sign_under_umask("022", format, input, &out),
            0o600,
            "{format}: private input stays private"
        );
    }
}
