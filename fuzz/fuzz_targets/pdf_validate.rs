//! Arbitrary bytes through PAdES validation (signature placement, CMS, certificates,
//! revocation data, time-stamps, the comparison of revisions) and the report as the
//! CLI and the server give it (text and JSON): no panic, no hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = shomei_validate::validate_pdf(data, &shomei_validate::Options::default()) {
        let _ = report.to_text();
        serde_json::to_vec(&report).expect("a report serializes");
    }
});
