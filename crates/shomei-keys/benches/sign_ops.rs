//! Signing throughput of `SoftwareSigner` through the `RemoteSigner` trait.
//!
//! ```text
//! cargo bench -p shomei-keys --bench sign_ops -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Compare with `openssl speed -seconds 3 rsa2048 ecdsap256` on the same machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_main, Criterion};
use shomei_core::{CertificateChain, Digest, DigestAlgorithm, RemoteSigner, SignatureAlgorithm};
use shomei_keys::SoftwareSigner;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

const PKI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/pki/");

/// Polls a future to completion on this thread. `SoftwareSigner` never waits on
/// anything, so the first poll finishes; the loop only guards against a change.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

fn signer(name: &str) -> SoftwareSigner {
    let read = |f: String| std::fs::read(format!("{PKI}{f}")).expect("run fixtures/pki/generate");
    let chain = CertificateChain::from_pem_or_der(&read(format!("{name}.cert.pem"))).unwrap();
    SoftwareSigner::from_key_and_chain(&read(format!("{name}.key.pem")), chain).unwrap()
}

fn sign_ops(c: &mut Criterion) {
    let digest = Digest::compute(DigestAlgorithm::Sha256, b"shomei benchmark");
    for (name, id, alg) in [
        (
            "signer-rsa",
            "rsa2048_pkcs1v15_sha256_sign_digest",
            SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
        ),
        (
            "signer-ec",
            "ecdsa_p256_sha256_sign_digest",
            SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
        ),
    ] {
        let signer: &dyn RemoteSigner = &signer(name);
        c.bench_function(id, |b| {
            b.iter(|| block_on(signer.sign_digest(black_box(alg), black_box(&digest))).unwrap())
        });
    }
    baseline(c, &digest);
}

/// The same operations on aws-lc-rs directly, to show what the trait path costs.
fn baseline(c: &mut Criterion, digest: &Digest) {
    use aws_lc_rs::digest as lc_digest;
    use aws_lc_rs::signature as lc;
    let pkcs8 = |name: &str| {
        let pem = std::fs::read(format!("{PKI}{name}.key.pem")).unwrap();
        der::pem::decode_vec(&pem).unwrap().1
    };
    let lc_d = lc_digest::Digest::import_less_safe(digest.as_bytes(), &lc_digest::SHA256).unwrap();
    let rsa = lc::RsaKeyPair::from_pkcs8(&pkcs8("signer-rsa")).unwrap();
    let mut sig = vec![0u8; rsa.public_modulus_len()];
    c.bench_function("baseline_aws_lc_rs_rsa2048_pkcs1v15_sha256", |b| {
        b.iter(|| {
            rsa.sign_digest(&lc::RSA_PKCS1_SHA256, black_box(&lc_d), &mut sig)
                .unwrap()
        })
    });
    let ec = lc::EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8("signer-ec"))
        .unwrap();
    c.bench_function("baseline_aws_lc_rs_ecdsa_p256_sha256", |b| {
        b.iter(|| ec.sign_digest(black_box(&lc_d)).unwrap())
    });
}

// The macro generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::sign_ops);
}
criterion_main!(group::benches);
