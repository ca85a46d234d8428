//! Arbitrary PDFs through the modification analysis: for every revision end (each
//! `%%EOF`), the comparison of that revision with the whole file (`changes::findings`
//! under each DocMDP permission), the certification lookup, and the per-revision
//! report of changed objects that validation builds (`Report::revisions`, rendered as
//! text and JSON). No panic, no hang.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use shomei_pdf::PdfReader;
use shomei_validate::{changes, placement, validate_pdf, Options};

/// Revisions compared per input (the analysis itself bounds its work; this keeps one
/// input's time small).
const MAX_ENDS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let certified = match PdfReader::open(Cursor::new(data)) {
        Ok(mut reader) => changes::certification(&mut reader).ok().flatten(),
        Err(_) => return,
    };
    let ends = placement::revision_ends(data);
    for (i, end) in ends.iter().take(MAX_ENDS).enumerate() {
        // The document's own permission, else each of none, P=1, P=2 and P=3 in turn.
        let permission = match &certified {
            Some(c) => Some(c.permission),
            None => [None, Some(1), Some(2), Some(3)][i % 4],
        };
        if let Ok(found) = changes::findings(data, *end, permission) {
            for f in &found {
                assert!(!f.text.is_empty(), "a finding without words");
            }
        }
    }
    if let Ok(report) = validate_pdf(data, &Options::default()) {
        for revision in &report.revisions {
            let _ = revision.to_text();
        }
        let _ = report.to_text();
        serde_json::to_vec(&report).expect("a report serializes");
    }
});
