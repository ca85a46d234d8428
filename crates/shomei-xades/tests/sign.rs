//! End-to-end signing with the test PKI; every output is judged by xmlsec1.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers, not only #[test] fns

use shomei_core::{
    Digest, RemoteSigner, SignatureAlgorithm, SignatureValue, SignerDescription, SignerError,
};
mod common;

use common::{options, xmlsec1_verify};
use shomei_test_support::paths::shared_fixtures;
use shomei_test_support::signers::test_signer;
use shomei_xades::{prepare, sign_xml, XadesError, XadesOptions};
use std::path::Path;

/// The output is the original with one insertion before the root's end tag.
fn assert_only_inserted(original: &[u8], signed: &[u8]) {
    let start = signed
        .windows(13)
        .position(|w| w == b"<ds:Signature")
        .unwrap();
    let end_tag = b"</ds:Signature>";
    let end = signed
        .windows(end_tag.len())
        .rposition(|w| w == end_tag)
        .unwrap()
        + end_tag.len();
    assert_eq!(&signed[..start], &original[..start]);
    assert_eq!(&signed[end..], &original[start..]);
    assert_eq!(signed.len() - (end - start), original.len());
}

async fn sign_and_check(signer_name: &str, xml: &[u8], opts: &XadesOptions) -> Vec<u8> {
    let signer = test_signer(signer_name);
    let signed = sign_xml(&signer, xml, opts).await.unwrap();
    assert_only_inserted(xml, &signed);
    // xmlsec1 1.2.37 knows no RSA-PSS URI (RFC 6931 MGF1 support came in 1.3): PSS values
    // are checked by `finish` against the certificate and by the signxml kit by hand.
    if !opts.rsa_pss {
        let (ok, log) = xmlsec1_verify(&signed);
        assert!(ok, "xmlsec1 refused the {signer_name} signature:\n{log}");
    }
    signed
}

const SMALL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<!-- before -->\n<inv:Invoice xmlns:inv=\"urn:example:invoice\" xmlns=\"urn:example:default\" \
xml:lang=\"fr\">\r\n  <Line n=\"1\">caf\u{e9} &amp; cr\u{e8}me</Line>\n  <Empty/>\n</inv:Invoice>\n\
<!-- after --><?trailing pi?>\n";

#[tokio::test]
async fn small_document_rsa_ec_ec384() {
    for name in ["signer-rsa", "signer-ec", "signer-ec384"] {
        let signed = sign_and_check(name, SMALL.as_bytes(), &options()).await;
        let text = String::from_utf8(signed).unwrap();
        assert!(text.contains("<xades:SigningTime>2023-11-14T22:13:20Z</xades:SigningTime>"));
        assert!(text.contains("<xades:MimeType>text/xml</xades:MimeType>"));
    }
}

#[tokio::test]
async fn every_digest_and_rsa_pss() {
    use shomei_core::DigestAlgorithm::*;
    for d in [Sha256, Sha384, Sha512] {
        for (name, pss) in [
            ("signer-rsa", false),
            ("signer-rsa", true),
            ("signer-ec", false),
        ] {
            let mut o = options();
            o.digest = Some(d);
            o.rsa_pss = pss;
            let signed = sign_and_check(name, SMALL.as_bytes(), &o).await;
            let text = String::from_utf8(signed).unwrap();
            if pss {
                assert!(text.contains(&format!("#{}-rsa-MGF1", d.name())));
                if let Ok(out) = std::env::var("SHOMEI_XADES_KEEP") {
                    // For the signxml kit by hand (xmlsec1 1.2 has no PSS).
                    let xml = std::fs::read(
                        shared_fixtures().join("xml-unsigned/dss_ns-prefixes-sample.xml"),
                    )
                    .unwrap();
                    let signed = sign_and_check(name, &xml, &o).await;
                    std::fs::write(Path::new(&out).join(format!("signed-pss-{d}.xml")), signed)
                        .unwrap();
                }
            }
        }
    }
}

#[tokio::test]
async fn self_closed_root() {
    let xml = b"<?xml version=\"1.0\"?>\n<root a=\"1\"/>\n";
    let signer = test_signer("signer-ec");
    let signed = sign_xml(&signer, xml, &options()).await.unwrap();
    assert!(signed.starts_with(b"<?xml version=\"1.0\"?>\n<root a=\"1\"><ds:Signature"));
    assert!(signed.ends_with(b"</ds:Signature></root>\n"));
    let (ok, log) = xmlsec1_verify(&signed);
    assert!(ok, "{log}");
}

#[tokio::test]
async fn shared_fixtures_sign_and_verify() {
    let dir = shared_fixtures().join("xml-unsigned");
    for (file, signer) in [
        ("dss_eu-lotl-no-sig.xml", "signer-rsa"),
        ("dss_ns-prefixes-sample.xml", "signer-ec"),
        ("santuario_plain-soap-1.1.xml", "signer-ec384"),
        ("japanese/weekly-utf-8.xml", "signer-rsa"),
    ] {
        let xml = std::fs::read(dir.join(file)).unwrap();
        let signed = sign_and_check(signer, &xml, &options()).await;
        if let Ok(out) = std::env::var("SHOMEI_XADES_KEEP") {
            let name = Path::new(file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            std::fs::write(Path::new(&out).join(format!("signed-{name}")), &signed).unwrap();
        }
    }
}

#[tokio::test]
async fn ascii_compatible_encodings_are_signed_in_place() {
    let dir = shared_fixtures().join("xml-unsigned");
    for file in ["japanese/weekly-shift_jis.xml", "dss_sample-latin1.xml"] {
        let xml = std::fs::read(dir.join(file)).unwrap();
        sign_and_check("signer-ec", &xml, &options()).await;
    }
}

#[tokio::test]
async fn utf16_is_refused_clearly() {
    let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><r>x</r>";
    let mut xml = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        xml.extend_from_slice(&u.to_le_bytes());
    }
    let err = sign_xml(&test_signer("signer-rsa"), &xml, &options())
        .await
        .unwrap_err();
    assert!(matches!(err, XadesError::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("UTF-16"), "{err}");
}

#[tokio::test]
async fn garbage_and_billion_laughs_are_refused() {
    let signer = test_signer("signer-ec");
    for bad in [&b"<a><b></a>"[..], b"not xml at all", b""] {
        let err = sign_xml(&signer, bad, &options()).await.unwrap_err();
        assert!(matches!(err, XadesError::Xml(_)), "{err}");
    }
    let bomb = std::fs::read(shared_fixtures().join("xml-unsigned/pyhanko_xmlbomb.xml")).unwrap();
    let err = sign_xml(&signer, &bomb, &options()).await.unwrap_err();
    assert!(
        matches!(
            err,
            XadesError::Xml(shomei_xml::XmlError::EntityDeclared { .. })
        ),
        "{err}"
    );
}

/// Signs with the wrong key (or returns a corrupted value) while describing the right chain.
struct LyingSigner {
    describe_as: shomei_keys::SoftwareSigner,
    sign_with: shomei_keys::SoftwareSigner,
    corrupt: bool,
}

#[async_trait::async_trait]
impl RemoteSigner for LyingSigner {
    async fn describe(&self) -> Result<SignerDescription, SignerError> {
        self.describe_as.describe().await
    }
    async fn sign_digests(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        let mut values = self.sign_with.sign_digests(algorithm, digests).await?;
        if self.corrupt {
            for v in &mut values {
                if let SignatureValue::Rsa(b) = v {
                    b[10] ^= 1;
                }
            }
        }
        Ok(values)
    }
}

#[tokio::test]
async fn wrong_signature_values_are_refused() {
    let cases = [
        // A corrupted RSA value.
        ("signer-rsa", "signer-rsa", true),
        // A valid ECDSA signature by another key (P-384 instead of the certified P-256).
        ("signer-ec", "signer-ec384", false),
    ];
    for (described, key, corrupt) in cases {
        let signer = LyingSigner {
            describe_as: test_signer(described),
            sign_with: test_signer(key),
            corrupt,
        };
        let err = sign_xml(&signer, SMALL.as_bytes(), &options())
            .await
            .unwrap_err();
        assert!(matches!(err, XadesError::Verify(_)), "{err}");
    }
}

#[tokio::test]
async fn staged_pipeline_is_deterministic_and_resumable() {
    let signer = test_signer("signer-rsa");
    let description = signer.describe().await.unwrap();
    let a = prepare(SMALL.as_bytes(), &description, &options()).unwrap();
    let b = prepare(SMALL.as_bytes(), &description, &options()).unwrap();
    assert_eq!(a.digest_to_sign(), b.digest_to_sign());
    assert_eq!(
        a.signature_algorithm(),
        SignatureAlgorithm::RsaPkcs1v15(shomei_core::DigestAlgorithm::Sha256)
    );
    let value = signer
        .sign_digest(a.signature_algorithm(), &a.digest_to_sign())
        .await
        .unwrap();
    // RSA PKCS#1 v1.5 is deterministic: both stages produce the same document.
    let json = serde_json::to_string(&b).unwrap();
    let restored: shomei_xades::Prepared = serde_json::from_str(&json).unwrap();
    let signed = a.finish(SMALL.as_bytes(), &value).unwrap();
    assert_eq!(signed, restored.finish(SMALL.as_bytes(), &value).unwrap());
    // finish refuses another document than the one prepared.
    assert!(a.finish(b"<other/>", &value).is_err());
}

/// Issue 13: signing from a reader (a file) gives byte for byte what signing from memory
/// gives (RSA PKCS#1 v1.5 is deterministic), or the same refusal, for every packaging.
#[tokio::test]
async fn signing_from_a_reader_equals_signing_from_memory() {
    use shomei_xades::{sign_xml_from, Packaging};
    use std::io::Cursor;
    let signer = test_signer("signer-rsa");
    let fixtures = shared_fixtures();
    let mut docs: Vec<(String, Vec<u8>)> = vec![
        ("small".into(), SMALL.as_bytes().to_vec()),
        (
            "self-closed".into(),
            b"<?xml version=\"1.0\"?><r a=\"1\"/>\n".to_vec(),
        ),
        ("garbage".into(), b"<a><b></a>".to_vec()),
        ("empty".into(), Vec::new()),
        (
            // The end of the document element lies before more than the 64 KiB read
            // from the end first.
            "long trailing comment".into(),
            format!(
                "<r><a Id=\"id-x\">x</a></r><!--{}-->\n",
                "c".repeat(150_000)
            )
            .into_bytes(),
        ),
    ];
    for rel in [
        "xml-unsigned/santuario_plain-soap-1.1.xml",
        "xml-unsigned/japanese/weekly-shift_jis.xml",
        "xml-unsigned/dss_sample-latin1.xml",
        "xml-unsigned/pyhanko_xmlbomb.xml",
        "xml-signed/dss_xmldsig-only.xml",
        "xml-signed/dss_doubleSignedTest.xml",
    ] {
        docs.push((rel.into(), std::fs::read(fixtures.join(rel)).unwrap()));
    }
    let mut large = Vec::new();
    shomei_test_support::sample_xml::write_large(&mut large, 300_000, false).unwrap();
    docs.push(("large".into(), large));
    let packagings = [
        Packaging::Enveloped,
        Packaging::Enveloping,
        Packaging::Detached {
            uri: "data.xml".into(),
        },
    ];
    for (name, xml) in &docs {
        for packaging in &packagings {
            let mut opts = options();
            opts.packaging = packaging.clone();
            let from_memory = sign_xml(&signer, xml, &opts).await;
            let mut from_reader = Vec::new();
            let r = sign_xml_from(&signer, &mut Cursor::new(xml), &opts, &mut from_reader).await;
            match (from_memory, r) {
                (Ok(m), Ok(())) => {
                    assert!(m == from_reader, "{name} {packaging:?}: outputs differ")
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{name}"),
                (a, b) => panic!("{name} {packaging:?}: memory {a:?}, reader {b:?}"),
            }
        }
    }
}
