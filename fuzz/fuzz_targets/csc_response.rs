//! Answers of a CSC service (info, credentials/list and info, authorize, signHash,
//! OAuth2 token, error bodies): parsed without panicking, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shomei_csc::wire::parse_any(data);
});
