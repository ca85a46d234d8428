//! Arbitrary bytes through XAdES validation (XML and ASiC-E containers: references,
//! wrapping checks, signing certificate, time-stamp inputs, certificates, revocation
//! data) and the report as the CLI and the server give it (text and JSON): no panic,
//! no hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = shomei_validate::validate_offline(
        data,
        &shomei_validate::Options::default(),
        &shomei_xades::ltv::GivenData::new(),
    ) {
        let _ = report.to_text();
        serde_json::to_vec(&report).expect("a report serializes");
    }
});
