//! XML documents given to sign or to extend: parsing and canonicalization.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shomei_xml::{canonicalize, C14nMethod, Document};

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = Document::parse(data) {
        let mut out = Vec::new();
        let _ = canonicalize(&doc, None, &C14nMethod::Inclusive10 { comments: true }, &mut out);
        out.clear();
        let exclusive = C14nMethod::Exclusive {
            comments: false,
            inclusive_prefixes: Vec::new(),
        };
        let _ = canonicalize(&doc, Some(doc.root()), &exclusive, &mut out);
        let _ = doc.find_by_id("x");
    }
});
