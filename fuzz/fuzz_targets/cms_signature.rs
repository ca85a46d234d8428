//! CMS signatures of other producers (DER or BER) read when extending a document.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shomei_cms::inspect::summarize(data);
    let _ = shomei_cms::ber::ber_to_der(data);
});
