//! XAdES signatures of other producers, checked before extension: references
//! (manifests included), transforms, canonicalization, signature values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shomei_xades::ltv::{check_signatures, NoDetachedData};

fuzz_target!(|data: &[u8]| {
    let _ = check_signatures(data, &NoDetachedData, &[]);
});
