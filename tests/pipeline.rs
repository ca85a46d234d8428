//! The staged pipeline: stop between digest and signature, resume from JSON; a
//! device that returns a wrong value is caught before anything is embedded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use async_trait::async_trait;
use common::*;
use shomei::core::{
    Digest, DigestAlgorithm, RemoteSigner, SignatureAlgorithm, SignatureValue, SignerDescription,
    SignerError,
};
use shomei::pades::{prepare, PadesError, PadesOptions, Prepared};
use shomei_test_support::{sample_pdf, signers::test_signer};
use std::io::Cursor;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn prepared_state_survives_serialization_and_resumes() {
    let signer = test_signer("signer-ec");
    let pdf = sample_pdf::one_page("resume me");
    let description = block_on(signer.describe()).unwrap();
    let options = PadesOptions::default();

    // "Process" 1: prepare and hash, then persist.
    let draft = prepare(Cursor::new(&pdf), &description, &options).unwrap();
    let prepared = draft.digest_document(&pdf[..], None).unwrap();
    let json = serde_json::to_string(&prepared).unwrap();
    let to_sign = prepared.digest_to_sign();
    let alg = prepared.signature_algorithm();
    drop(prepared);

    // The signature arrives later, from the device.
    let value = block_on(signer.sign_digest(alg, &to_sign)).unwrap();

    // "Process" 2: restore and finish.
    let restored: Prepared = serde_json::from_str(&json).unwrap();
    assert_eq!(restored.digest_to_sign(), to_sign);
    let signed = restored.finish(&value).unwrap();
    let mut out = Vec::new();
    signed.write_to(&pdf[..], &mut out).unwrap();
    assert!(out.starts_with(&pdf));
    let sigs = signatures(&out);
    assert_eq!(sigs.len(), 1);
    let v = openssl_verify(
        &sigs[0].cms,
        &signed_bytes(&out, sigs[0].byte_range),
        &pki("root.cert.pem"),
    );
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));

    // Resuming with a different document is refused.
    let other = sample_pdf::one_page("resume mf");
    let err = signed.write_to(&other[..], &mut Vec::new()).unwrap_err();
    assert!(matches!(err, PadesError::DocumentChanged(_)), "{err}");
}

/// A device that signs something other than what it was asked to.
struct Liar(shomei::keys::SoftwareSigner);

#[async_trait]
impl RemoteSigner for Liar {
    async fn describe(&self) -> Result<SignerDescription, SignerError> {
        self.0.describe().await
    }
    async fn sign_digests(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        let other: Vec<Digest> = digests
            .iter()
            .map(|_| Digest::compute(DigestAlgorithm::Sha256, b"something else"))
            .collect();
        self.0.sign_digests(algorithm, &other).await
    }
}

#[test]
fn a_wrong_signature_value_is_never_embedded() {
    let liar = Liar(test_signer("signer-rsa"));
    let pdf = sample_pdf::one_page("x");
    let err = block_on(shomei::pades::sign_document(
        &liar,
        &pdf,
        &PadesOptions::default(),
    ))
    .unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn an_algorithm_the_key_cannot_use_is_refused_up_front() {
    let signer = test_signer("signer-ec");
    let pdf = sample_pdf::one_page("x");
    let mut options = PadesOptions::default();
    options.rsa_pss = true;
    let err = block_on(shomei::pades::sign_document(&signer, &pdf, &options)).unwrap_err();
    assert!(err.to_string().contains("RSA"), "{err}");
}
