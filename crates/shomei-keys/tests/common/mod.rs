//! Shared helpers: fixture loading and signature checks.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use shomei_core::chain::{parse_certificates, ChainCert};
use shomei_core::verify::verify_digest_signature;
use shomei_core::{CertificateChain, Digest, RemoteSigner, SignatureAlgorithm};
use shomei_keys::SoftwareSigner;

pub(crate) const PKI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/pki/");
pub(crate) const P12_PASSWORD: &str = "shomei-test";

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{PKI}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run fixtures/pki/generate)"))
}

/// The certificate `name.cert.pem` followed by the intermediate and root.
pub(crate) fn chain_for(name: &str) -> CertificateChain {
    let mut chain =
        CertificateChain::from_pem_or_der(&fixture(&format!("{name}.cert.pem"))).unwrap();
    chain.extend(issuers());
    chain
}

pub(crate) fn issuers() -> Vec<ChainCert> {
    parse_certificates(&fixture("chain.pem")).unwrap()
}

pub(crate) fn load(name: &str) -> SoftwareSigner {
    SoftwareSigner::from_key_and_chain(&fixture(&format!("{name}.key.pem")), chain_for(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub(crate) fn digest_for(alg: SignatureAlgorithm, data: &[u8]) -> Digest {
    Digest::compute(alg.digest(), data)
}

/// The digest with its first byte flipped.
pub(crate) fn flipped(d: &Digest) -> Digest {
    let mut bytes = d.as_bytes().to_vec();
    bytes[0] ^= 0x01;
    Digest::new(d.algorithm(), bytes).unwrap()
}

/// Signs through the trait and checks the value against the signing certificate:
/// it must verify for the digest and fail for a flipped digest.
pub(crate) async fn sign_and_verify(signer: &dyn RemoteSigner, alg: SignatureAlgorithm) {
    let desc = signer.describe().await.unwrap();
    let cert = desc.chain.signing_cert();
    let digest = digest_for(alg, format!("shomei {alg}").as_bytes());
    let value = signer.sign_digest(alg, &digest).await.unwrap();
    let cms = value.to_cms().unwrap();
    assert!(
        cms.len() <= desc.max_signature_len,
        "{alg}: {} bytes > max {}",
        cms.len(),
        desc.max_signature_len
    );
    verify_digest_signature(cert, alg, &digest, &cms)
        .unwrap_or_else(|e| panic!("{alg} on {}: {e}", cert.subject()));
    assert!(
        verify_digest_signature(cert, alg, &flipped(&digest), &cms).is_err(),
        "{alg}: a flipped digest verified"
    );
}
