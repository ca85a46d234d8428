//! Software signers over the repository's test PKI.

use crate::paths::pki_dir;
use shomei_core::CertificateChain;
use shomei_keys::SoftwareSigner;

/// A signer of `fixtures/pki/` by name: `signer-rsa`, `signer-ec`, `signer-ec384`, `demo`.
/// The intermediate and root from `chain.pem` are appended (not for `demo`).
pub fn test_signer(name: &str) -> SoftwareSigner {
    let dir = pki_dir();
    let key = std::fs::read(dir.join(format!("{name}.key.pem"))).expect("test key");
    let mut pem = std::fs::read(dir.join(format!("{name}.cert.pem"))).expect("test cert");
    if name != "demo" {
        pem.extend(std::fs::read(dir.join("chain.pem")).expect("chain.pem"));
    }
    let chain = CertificateChain::from_pem_or_der(&pem).expect("test chain");
    SoftwareSigner::from_key_and_chain(&key, chain).expect("test signer")
}

/// The root certificate of the test PKI (PEM path).
pub fn test_root_pem() -> std::path::PathBuf {
    pki_dir().join("root.cert.pem")
}
