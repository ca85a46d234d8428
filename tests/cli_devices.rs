//! The CLI's signer options against an in-process CSC v2 service double and a SoftHSM2
//! token: batches under one authorization, partial failures, and each error of the
//! device as a clear message with exit 1 and no output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::*;
use shomei_test_support::csc_double::{Api, Double, SadMode, EC};
use shomei_test_support::sample_pdf;
use std::path::Path;
use std::process::Output;

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = shomei();
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn leftovers(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .count()
}

#[test]
fn csc_v2_batches_and_errors_through_the_cli() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let double = rt.block_on(Double::start(Api::V2));
    let url = double.base_url.clone();
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<String> = (0..10)
        .map(|i| {
            let p = dir.path().join(format!("doc{i}.pdf"));
            std::fs::write(&p, sample_pdf::one_page(&format!("doc {i}"))).unwrap();
            p.display().to_string()
        })
        .collect();
    let out = dir.path().join("signed");
    let csc = ["--csc-url", url.as_str(), "--credential-id", EC];
    double.set(|b| b.require_pin = Some("4321".into()));

    // A batch of 10: one authorize, one signHash, every output verifies.
    let mut args = vec!["sign", "pdf"];
    args.extend(inputs.iter().map(String::as_str));
    args.extend(["-o", out.to_str().unwrap(), "--pin-env", "CSC_PIN"]);
    args.extend(csc);
    let o = run(&args, &[("CSC_PIN", "4321")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("10 of 10 documents signed"),
        "{}",
        text(&o)
    );
    assert_eq!(double.calls("credentials/authorize"), 1);
    assert_eq!(double.calls("signatures/signHash"), 1);
    let body = double.last_body("signatures/signHash");
    assert_eq!(
        body["hashes"].as_array().unwrap().len(),
        10,
        "v2 field names"
    );
    assert!(body.get("hash").is_none());
    for i in 0..10 {
        let pdf = std::fs::read(out.join(format!("doc{i}.pdf"))).unwrap();
        let sigs = signatures(&pdf);
        assert_eq!(sigs.len(), 1);
        let v = openssl_verify(
            &sigs[0].cms,
            &signed_bytes(&pdf, sigs[0].byte_range),
            &pki("root.cert.pem"),
        );
        assert!(
            v.status.success(),
            "doc{i}: {}",
            String::from_utf8_lossy(&v.stderr)
        );
    }

    // Partial failure: the good documents are written, the bad one listed, exit 1.
    let bad = dir.path().join("bad.pdf");
    std::fs::write(&bad, b"not a pdf").unwrap();
    let out2 = dir.path().join("signed2");
    let o = run(
        &[
            "sign",
            "pdf",
            &inputs[0],
            bad.to_str().unwrap(),
            &inputs[1],
            "-o",
            out2.to_str().unwrap(),
            "--pin-env",
            "CSC_PIN",
            "--csc-url",
            &url,
            "--credential-id",
            EC,
        ],
        &[("CSC_PIN", "4321")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("2 of 3 documents signed"), "{}", text(&o));
    assert!(text(&o).contains("bad.pdf"), "{}", text(&o));
    assert!(out2.join("doc0.pdf").exists() && out2.join("doc1.pdf").exists());
    assert!(!out2.join("bad.pdf").exists());
    assert_eq!(leftovers(&out2), 0);

    // Each device error: exit 1, a clear message, nothing written.
    let single = dir.path().join("one.pdf");
    let cases = [
        ("wrong PIN", SadMode::Valid, "0000", "wrong PIN"),
        ("invalid SAD", SadMode::Invalid, "4321", "SAD"),
        ("expired SAD", SadMode::Expired, "4321", "expired"),
    ];
    for (what, sad, pin, expect) in cases {
        double.set(|b| b.sad = sad);
        let o = run(
            &[
                "sign",
                "pdf",
                &inputs[0],
                "-o",
                single.to_str().unwrap(),
                "--pin-env",
                "CSC_PIN",
                "--csc-url",
                &url,
                "--credential-id",
                EC,
            ],
            &[("CSC_PIN", pin)],
        );
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        assert!(text(&o).contains(expect), "{what}: {}", text(&o));
        assert!(!text(&o).contains(pin), "{what}: the PIN is not shown");
        assert!(!single.exists(), "{what}: no output");
    }
    double.set(|b| b.sad = SadMode::Valid);
    let o = run(
        &[
            "sign",
            "xml",
            &inputs[0],
            "-o",
            single.to_str().unwrap(),
            "--packaging",
            "detached",
            "--pin-env",
            "CSC_PIN",
            "--csc-url",
            &url,
            "--credential-id",
            "no-such-credential",
        ],
        &[("CSC_PIN", "4321")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("unknown credential"), "{}", text(&o));
    assert!(!single.exists());
    assert_eq!(leftovers(dir.path()), 0);
    rt.block_on(double.stop());
}
