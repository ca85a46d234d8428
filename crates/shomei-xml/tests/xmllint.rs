//! Differential test against libxml2 (`xmllint --c14n` / `--exc-c14n`, both "with comments").
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns
//! The tool is required: the test fails (does not skip) when `xmllint` is missing
//! (`apt-get install -y libxml2-utils`).

mod common;
use std::path::{Path, PathBuf};
use std::process::Command;

use shomei_xml::{canonicalize, C14nMethod, Document, XmlError};

/// Documents this crate refuses on purpose (entity declarations); libxml2 expands them.
const REFUSED: &[&str] = &["c14n-w3c/35_input.xml", "japanese/pr-xml-utf-8.xml"];

/// Documents whose canonical form legitimately differs because libxml2 processes the DTD
/// (default attributes, attribute types) and this crate does not.
const DTD_DIFFERS: &[&str] = &["c14n-w3c/33_input.xml", "c14n-w3c/34_input.xml"];

fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            xml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "xml") && !p.ends_with("pyhanko_xmlbomb.xml") {
            out.push(p);
        }
    }
}

fn xmllint(flag: &str, file: &Path) -> Vec<u8> {
    let out = Command::new("xmllint")
        .arg(flag)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("xmllint not runnable ({e}); install libxml2-utils"));
    assert!(
        out.status.success(),
        "xmllint {flag} {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn run(flag: &str, method: &C14nMethod) {
    let base = common::fixtures().join("xml-unsigned");
    let mut files = Vec::new();
    xml_files(&base, &mut files);
    files.sort();
    assert!(files.len() >= 10, "too few fixtures found");
    let mut compared = 0;
    for f in &files {
        let rel = f
            .strip_prefix(&base)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(f).unwrap();
        match Document::parse(&bytes) {
            Err(XmlError::EntityDeclared { .. }) if REFUSED.contains(&rel.as_str()) => continue,
            Err(e) => panic!("{rel}: unexpected parse error {e}"),
            Ok(_) if REFUSED.contains(&rel.as_str()) => panic!("{rel}: expected refusal"),
            Ok(doc) => {
                let mut ours = Vec::new();
                canonicalize(&doc, None, method, &mut ours).unwrap();
                let theirs = xmllint(flag, f);
                if DTD_DIFFERS.contains(&rel.as_str()) {
                    assert_ne!(ours, theirs, "{rel}: listed as differing but matches");
                } else {
                    assert!(
                        ours == theirs,
                        "{rel}: differs from xmllint {flag}\n--- ours\n{}\n--- xmllint\n{}",
                        String::from_utf8_lossy(&ours),
                        String::from_utf8_lossy(&theirs)
                    );
                    compared += 1;
                }
            }
        }
    }
    assert!(compared >= 10, "only {compared} fixtures compared");
}

#[test]
fn inclusive_c14n_matches_xmllint() {
    run("--c14n", &C14nMethod::Inclusive10 { comments: true });
}

#[test]
fn exclusive_c14n_matches_xmllint() {
    run(
        "--exc-c14n",
        &C14nMethod::Exclusive {
            comments: true,
            inclusive_prefixes: vec![],
        },
    );
}

#[test]
fn c14n11_whole_document_matches_xmllint() {
    run("--c14n11", &C14nMethod::Inclusive11 { comments: true });
}
