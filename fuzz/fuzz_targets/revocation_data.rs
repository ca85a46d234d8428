//! OCSP responses and CRLs fetched from responders or embedded in documents.
#![no_main]

use der::Decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shomei_revocation::rfc6960::OcspResponse::from_der(data);
    if let Ok(crl) = shomei_revocation::Crl::from_der_or_pem(data) {
        let _ = crl.this_update();
    }
});
