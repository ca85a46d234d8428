//! Whole-document exclusive C14N of a ~50 MB document: streaming vs tree.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::io::sink;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shomei_xml::{canonicalize_excluding, canonicalize_stream, C14nMethod, Document, Limits};

#[path = "support/big_doc.rs"]
mod big_doc;

fn bench(c: &mut Criterion) {
    let doc = big_document_bytes();
    let method = C14nMethod::Exclusive {
        comments: false,
        inclusive_prefixes: vec![],
    };
    let limits = Limits::default();
    let mut g = c.benchmark_group("c14n_50MB_exclusive");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(u64::try_from(doc.len()).unwrap()));
    g.bench_function("stream", |b| {
        b.iter(|| canonicalize_stream(black_box(&doc), &limits, &method, &mut sink()).unwrap())
    });
    g.bench_function("tree", |b| {
        b.iter(|| {
            let d = Document::parse_with(black_box(&doc), &limits).unwrap();
            let mut out = Vec::new();
            canonicalize_excluding(&d, None, None, &method, &mut out).unwrap();
            out.len()
        })
    });
    g.finish();
}

fn big_document_bytes() -> Vec<u8> {
    big_doc::big_document(50 * 1000 * 1000).into_bytes()
}

criterion_group!(benches, bench);
criterion_main!(benches);
