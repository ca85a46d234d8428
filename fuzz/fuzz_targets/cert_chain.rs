//! Certificates given by users (--cert, --chain) or embedded by other producers:
//! PEM bundles and DER, parsed without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(chain) = shomei_core::CertificateChain::from_pem_or_der(data) {
        for cert in chain.certs() {
            let _ = cert.key_kind();
            let _ = cert.subject();
        }
    }
});
