//! The streaming canonicalizer used for enveloped signatures must agree with the tree
//! path on every input: the same bytes, or the same refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shomei_xml::{canonicalize_excluding, canonicalize_stream, C14nMethod, Document, Limits};

fuzz_target!(|data: &[u8]| {
    let mut limits = Limits::default();
    limits.max_depth = 64;
    limits.max_nodes = 10_000;
    let methods = [
        C14nMethod::Inclusive10 { comments: true },
        C14nMethod::Inclusive11 { comments: false },
        C14nMethod::Exclusive {
            comments: false,
            inclusive_prefixes: vec!["#default".into(), "a".into()],
        },
    ];
    for m in &methods {
        let mut streamed = Vec::new();
        let stream = canonicalize_stream(data, &limits, m, &mut streamed);
        let tree = Document::parse_with(data, &limits).and_then(|doc| {
            let mut out = Vec::new();
            canonicalize_excluding(&doc, None, None, m, &mut out).map(|()| out)
        });
        match (stream, tree) {
            (Ok(_), Ok(out)) => assert_eq!(streamed, out, "stream and tree differ"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("stream {:?} vs tree {:?}", a.map(|_| ()), b.map(|_| ())),
        }
    }
});
