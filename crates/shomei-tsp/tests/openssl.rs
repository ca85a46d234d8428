//! OpenSSL as an independent judge: it verifies our in-process tokens, and we verify
//! tokens OpenSSL's own TSA (`openssl ts -reply`) makes with the test PKI's TSA key.
//! OpenSSL must be installed: a missing judge is a failure, never a skip.

// Helpers outside #[test] functions unwrap too (clippy.toml covers test bodies only).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use der::{Decode, Encode};
use shomei_core::{CertificateChain, Digest, DigestAlgorithm};
use shomei_test_support::paths::pki_dir;
use shomei_test_support::tools::openssl;
use shomei_test_support::tsa::InProcessTsa;
use shomei_tsp::rfc3161::{MessageImprint, TimeStampReq, TimeStampResp};
use shomei_tsp::{TimestampAuthority, TimestampToken, TspError};
use std::path::Path;

fn pki(file: &str) -> String {
    pki_dir().join(file).display().to_string()
}

#[tokio::test]
async fn openssl_verifies_in_process_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let data = b"bytes covered by a PDF signature";
    let imprint = Digest::compute(DigestAlgorithm::Sha256, data);
    // OpenSSL checks certificate validity at the current time; freeze the TSA now.
    let tsa = InProcessTsa::at(std::time::SystemTime::now());
    let token = tsa.timestamp(&imprint).await.unwrap();
    std::fs::write(dir.path().join("tok.der"), token.der()).unwrap();
    std::fs::write(dir.path().join("data.bin"), data).unwrap();
    let (ok, out) = openssl(
        Some(dir.path()),
        &[
            "ts",
            "-verify",
            "-token_in",
            "-in",
            "tok.der",
            "-digest",
            &imprint.to_hex(),
            "-CAfile",
            &pki("root.cert.pem"),
            "-untrusted",
            &pki("chain.pem"),
        ],
    );
    assert!(ok && out.contains("Verification: OK"), "{out}");
    let (ok, out) = openssl(
        Some(dir.path()),
        &[
            "ts",
            "-verify",
            "-token_in",
            "-in",
            "tok.der",
            "-data",
            "data.bin",
            "-CAfile",
            &pki("root.cert.pem"),
        ],
    );
    assert!(ok && out.contains("Verification: OK"), "{out}");
    // And refuses it for other data.
    let other = Digest::compute(DigestAlgorithm::Sha256, b"other");
    let (ok, out) = openssl(
        Some(dir.path()),
        &[
            "ts",
            "-verify",
            "-token_in",
            "-in",
            "tok.der",
            "-digest",
            &other.to_hex(),
            "-CAfile",
            &pki("root.cert.pem"),
        ],
    );
    assert!(!ok, "{out}");
}

/// A token from `openssl ts -reply` acting as TSA with the test PKI's key.
fn openssl_token(dir: &Path, imprint: &Digest, ess_alg: &str, nonce: bool) -> Vec<u8> {
    let config = format!(
        "[ tsa ]\ndefault_tsa = tsa_config\n\n[ tsa_config ]\nserial = serial.txt\n\
         crypto_device = builtin\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
         digests = sha256, sha384, sha512\naccuracy = secs:1, millisecs:500\n\
         ordering = no\ntsa_name = yes\ness_cert_id_chain = yes\ness_cert_id_alg = {ess_alg}\n"
    );
    std::fs::write(dir.join("tsa.cnf"), config).unwrap();
    std::fs::write(dir.join("serial.txt"), "01\n").unwrap();
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifierOwned {
                oid: imprint.algorithm().oid(),
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(imprint.as_bytes()).unwrap(),
        },
        req_policy: None,
        nonce: nonce.then(|| der::asn1::Int::new(&[0x12, 0x34, 0x56]).unwrap()),
        cert_req: true,
        extensions: None,
    };
    std::fs::write(dir.join("q.tsq"), req.to_der().unwrap()).unwrap();
    let (ok, out) = openssl(
        Some(dir),
        &[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-queryfile",
            "q.tsq",
            "-signer",
            &pki("tsa.cert.pem"),
            "-inkey",
            &pki("tsa.key.pem"),
            "-chain",
            &pki("chain.pem"),
            "-out",
            "r.tsr",
        ],
    );
    assert!(ok, "{out}");
    let resp = TimeStampResp::from_der(&std::fs::read(dir.join("r.tsr")).unwrap()).unwrap();
    assert!(resp.status.status.is_granted(), "{:?}", resp.status);
    resp.time_stamp_token.unwrap().to_der().unwrap()
}

#[test]
fn openssl_made_tokens_verify_with_ess_v1_and_v2() {
    let root =
        CertificateChain::from_pem_or_der(&std::fs::read(pki("root.cert.pem")).unwrap()).unwrap();
    for (alg, ess) in [
        (DigestAlgorithm::Sha256, "sha1"),
        (DigestAlgorithm::Sha384, "sha256"),
        (DigestAlgorithm::Sha512, "sha512"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let imprint = Digest::compute(alg, b"data time-stamped by OpenSSL");
        let der = openssl_token(dir.path(), &imprint, ess, true);
        let token = TimestampToken::from_der(&der).unwrap_or_else(|e| panic!("{ess}: {e}"));
        token
            .verify(&imprint)
            .unwrap_or_else(|e| panic!("{ess}: {e}"));
        assert_eq!(token.nonce(), Some(&[0x12, 0x34, 0x56][..]));
        assert_eq!(
            token.serial(),
            [2],
            "OpenSSL issues the successor of serial.txt"
        );
        let accuracy = token.accuracy().unwrap().to_duration();
        assert_eq!(accuracy, std::time::Duration::from_millis(1500));
        token
            .verify_chain_to(root.certs(), token.gen_time())
            .unwrap();
        let other = Digest::compute(alg, b"other");
        assert!(matches!(
            token.verify(&other),
            Err(TspError::ImprintMismatch)
        ));
    }
}
