//! In-process PAdES B-B signing of a one-page PDF with software keys.
//!
//! `cargo bench --bench sign` — the figure to compare is signatures per second
//! (1 / time per iteration); `benches/compare-pyhanko.sh` runs pyHanko on the same
//! input for the ratio.

#![allow(clippy::expect_used, missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use shomei::pades::{sign_document, PadesOptions};
use shomei_test_support::{sample_pdf, signers::test_signer};

fn bench_sign(c: &mut Criterion) {
    let pdf = sample_pdf::one_page("shomei benchmark document");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("pades_bb_one_page");
    group.throughput(Throughput::Elements(1));
    for name in ["signer-ec", "signer-rsa"] {
        let signer = test_signer(name);
        let options = PadesOptions::default();
        group.bench_function(name, |b| {
            b.iter(|| {
                let out = rt
                    .block_on(sign_document(&signer, &pdf, &options))
                    .expect("sign");
                assert!(out.len() > pdf.len());
                out
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sign);
criterion_main!(benches);
