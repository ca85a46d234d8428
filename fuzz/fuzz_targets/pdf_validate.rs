//! Arbitrary bytes through PAdES validation (signature placement, CMS, certificates,
//! revocation data, time-stamps, the comparison of revisions): no panic, no hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shomei_validate::validate_pdf(data, &shomei_validate::Options::default());
});
