//! CMS signatures of other producers (DER or BER) read when extending a document.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = shomei_cms::inspect::summarize(data);
    let _ = shomei_cms::ber::ber_to_der(data);
    // The check before extension, over the input itself as "signed content".
    let _ = shomei_cms::check::check_detached(data, &mut |h| Ok(h.digest(data)));
});
