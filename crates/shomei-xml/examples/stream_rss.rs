//! Canonicalizes a generated ~50 MB document once, for measuring peak memory:
//! `/usr/bin/time -v target/release/examples/stream_rss [stream|tree] [SIZE_MB]` (default 50;
//! a few MB are enough under `valgrind --tool=callgrind`).
#![allow(clippy::unwrap_used, clippy::as_conversions)] // a measuring tool: byte counts shown as f64

use std::io::Write;
use std::time::Instant;

use shomei_xml::{canonicalize_excluding, canonicalize_stream, C14nMethod, Document, Limits};

#[path = "../benches/support/big_doc.rs"]
mod big_doc;

/// Counts the bytes written to it.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "stream".into());
    let mb: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let doc = big_doc::big_document(mb * 1000 * 1000).into_bytes();
    let method = C14nMethod::Exclusive {
        comments: false,
        inclusive_prefixes: vec![],
    };
    let limits = Limits::default();
    let t = Instant::now();
    let written = if mode == "tree" {
        let d = Document::parse_with(&doc, &limits).unwrap();
        let mut out = Vec::new();
        canonicalize_excluding(&d, None, None, &method, &mut out).unwrap();
        out.len() as u64
    } else {
        let mut c = Count(0);
        let s = canonicalize_stream(&doc, &limits, &method, &mut c).unwrap();
        eprintln!("ids: {}", s.ids.len());
        c.0
    };
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{mode}: {} bytes in, {written} bytes out, {:.3} s, {:.0} MB/s",
        doc.len(),
        secs,
        doc.len() as f64 / secs / 1e6
    );
}
