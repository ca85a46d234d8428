//! RFC 3161 time-stamp tokens and responses from a TSA or inside other producers' CMS.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shomei_core::{Digest, DigestAlgorithm};

fuzz_target!(|data: &[u8]| {
    // from_ber tries DER first, then converts BER: both parsers run on every input.
    if let Ok(token) = shomei_tsp::TimestampToken::from_ber(data) {
        let _ = token.verify(&Digest::compute(DigestAlgorithm::Sha256, b"x"));
        let _ = token.signer_cert();
    }
    use der::Decode;
    let _ = shomei_tsp::rfc3161::TimeStampResp::from_der(data);
});
