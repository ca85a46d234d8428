//! Load generator for `signatures/signHash` of a running `shomei serve` (the benchmark
//! in benches/signhash-load.sh): CONCURRENCY clients send signHash calls with
//! HASHES_PER_CALL fresh SHA-256 hashes each, for SECONDS, under one SAD; prints
//! signatures per second and p50/p99 latency as JSON.
//!
//! cargo run --release --example signhash_load -- BASE_URL TOKEN CREDENTIAL SAD \
//!     HASHES_PER_CALL CONCURRENCY SECONDS

// A measuring tool, not library code: float statistics need casts.
#![allow(
    clippy::as_conversions,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use base64ct::{Base64, Encoding};
use shomei::core::{HttpRequest, HttpTransport};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, token, credential, sad, per_call, concurrency, seconds] = args.as_slice() else {
        return Err(
            "usage: BASE_URL TOKEN CREDENTIAL SAD HASHES_PER_CALL CONCURRENCY SECONDS".into(),
        );
    };
    let per_call: usize = per_call.parse()?;
    let concurrency: usize = concurrency.parse()?;
    let duration = Duration::from_secs(seconds.parse()?);
    let transport: Arc<dyn HttpTransport> = Arc::new(shomei::http::ReqwestTransport::new(
        Duration::from_secs(30),
    )?);
    let url = format!("{}/csc/v2/signatures/signHash", base.trim_end_matches('/'));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..concurrency {
        let (transport, url, token, credential, sad) = (
            transport.clone(),
            url.clone(),
            token.clone(),
            credential.clone(),
            sad.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut ok, mut failed, mut n) = (0u64, 0u64, 0u64);
            while start.elapsed() < duration {
                let hashes: Vec<String> = (0..per_call)
                    .map(|i| {
                        n += 1;
                        let d = shomei::core::Digest::compute(
                            shomei::core::DigestAlgorithm::Sha256,
                            format!("{client}/{n}/{i}").as_bytes(),
                        );
                        Base64::encode_string(d.as_bytes())
                    })
                    .collect();
                let body = serde_json::json!({
                    "credentialID": credential, "SAD": sad, "hashes": hashes,
                    "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                    "signAlgo": "1.2.840.10045.4.3.2",
                });
                let mut request =
                    HttpRequest::post(&url, "application/json", body.to_string().into_bytes());
                request.authorization = Some(format!("Bearer {token}").into());
                let t = Instant::now();
                match transport.send(request).await {
                    Ok(r) if r.status == 200 => ok += 1,
                    _ => failed += 1,
                }
                latencies.push(t.elapsed());
            }
            (ok, failed, latencies)
        }));
    }
    let (mut ok, mut failed, mut latencies) = (0u64, 0u64, Vec::new());
    for t in tasks {
        let (o, f, l) = t.await?;
        ok += o;
        failed += f;
        latencies.extend(l);
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let signatures = ok * per_call as u64;
    println!(
        "{}",
        serde_json::json!({
            "hashes_per_call": per_call, "concurrency": concurrency,
            "seconds": elapsed, "calls_ok": ok, "calls_failed": failed,
            "signatures_per_second": signatures as f64 / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99),
        })
    );
    Ok(())
}
