//! Arbitrary bytes through XAdES validation (XML and ASiC-E containers: references,
//! wrapping checks, signing certificate, time-stamp inputs, certificates, revocation
//! data): no panic, no hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shomei_validate::validate_offline(
        data,
        &shomei_validate::Options::default(),
        &shomei_xades::ltv::GivenData::new(),
    );
});
