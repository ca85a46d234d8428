//! Key files given by users (--key): PKCS#8, PKCS#1, SEC1 (PEM or DER) and PKCS#12.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn demo_chain() -> &'static shomei_core::CertificateChain {
    static CHAIN: OnceLock<shomei_core::CertificateChain> = OnceLock::new();
    CHAIN.get_or_init(|| {
        shomei_core::CertificateChain::from_pem_or_der(include_bytes!(
            "../../fixtures/pki/demo.cert.pem"
        ))
        .expect("demo certificate")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = shomei_keys::detect_format(data);
    let _ = shomei_keys::SoftwareSigner::from_key_and_chain(data, demo_chain().clone());
    let _ = shomei_keys::SoftwareSigner::from_pkcs12(data, "shomei-test");
});
