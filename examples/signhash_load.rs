//! Load generator for `signatures/signHash` of running `shomei serve` nodes (the
//! benchmark in benches/signhash-load.sh and the fault scripts in tests/faults/):
//! CONCURRENCY clients send signHash calls with HASHES_PER_CALL fresh SHA-256 hashes
//! each, for SECONDS, under one SAD; prints calls by outcome, signatures per second and
//! p50/p99 latency as JSON.
//!
//! cargo run --release --example signhash_load -- BASE_URL[,BASE_URL...] TOKEN \
//!     CREDENTIAL SAD HASHES_PER_CALL CONCURRENCY SECONDS [--rate CALLS_PER_SECOND] \
//!     [--record FILE]
//!
//! With several nodes, client i calls node i mod n. A node that does not answer (killed,
//! restarting) is retried after 20 ms; the call counts as `unreachable`. `--rate` caps
//! the calls per second of all clients together (the soak). `--record FILE` writes one
//! JSON line per call: `t` (ms since start), `node`, `status` (0: no answer), and for a
//! 200 the hashes signed (hex) — what the client received, to be joined against the
//! audit trail — or for an error whether its body was the JSON error and its `error`.

// A measuring tool, not library code: float statistics need casts; JSON lines are
// built by key and the node list is never empty (split yields one item at least).
#![allow(
    clippy::indexing_slicing,
    clippy::as_conversions,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use base64ct::{Base64, Encoding};
use serde_json::{json, Value};
use shomei::core::{HttpRequest, HttpTransport};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one client saw.
#[derive(Default)]
struct Tally {
    by_status: BTreeMap<u16, u64>,
    /// Error answers whose body was not the JSON error.
    not_json: u64,
    /// 200 answers whose signature count did not match the hashes sent.
    short: u64,
    latencies: Vec<Duration>,
    record: Vec<String>,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: BASE_URL[,BASE_URL...] TOKEN CREDENTIAL SAD HASHES_PER_CALL \
                 CONCURRENCY SECONDS [--rate CALLS_PER_SECOND] [--record FILE]";
    let (Some([bases, token, credential, sad, per_call, concurrency, seconds]), options) = (
        args.get(..7).and_then(|a| <&[String; 7]>::try_from(a).ok()),
        args.get(7..).unwrap_or_default(),
    ) else {
        return Err(usage.into());
    };
    let (mut rate, mut record) = (None::<f64>, None::<String>);
    let mut options = options.iter();
    while let Some(option) = options.next() {
        match (option.as_str(), options.next()) {
            ("--rate", Some(v)) => rate = Some(v.parse()?),
            ("--record", Some(v)) => record = Some(v.clone()),
            _ => return Err(usage.into()),
        }
    }
    let per_call: usize = per_call.parse()?;
    let concurrency: usize = concurrency.parse()?;
    let duration = Duration::from_secs(seconds.parse()?);
    let transport: Arc<dyn HttpTransport> = Arc::new(shomei::http::ReqwestTransport::new(
        Duration::from_secs(30),
    )?);
    let urls: Vec<String> = bases
        .split(',')
        .map(|b| format!("{}/csc/v2/signatures/signHash", b.trim_end_matches('/')))
        .collect();
    // Each client waits this long between the starts of its calls (the rate cap).
    let interval = rate.map(|r| Duration::from_secs_f64(concurrency as f64 / r));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..concurrency {
        let node = client % urls.len();
        let (transport, url, token, credential, sad) = (
            transport.clone(),
            urls[node].clone(),
            token.clone(),
            credential.clone(),
            sad.clone(),
        );
        let recording = record.is_some();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut n = 0u64;
            let mut next = Instant::now();
            while start.elapsed() < duration {
                if let Some(interval) = interval {
                    tokio::time::sleep_until(next.into()).await;
                    next += interval;
                }
                let hashes: Vec<Vec<u8>> = (0..per_call)
                    .map(|i| {
                        n += 1;
                        shomei::core::Digest::compute(
                            shomei::core::DigestAlgorithm::Sha256,
                            format!("{client}/{n}/{i}/{:?}", start).as_bytes(),
                        )
                        .as_bytes()
                        .to_vec()
                    })
                    .collect();
                let body = json!({
                    "credentialID": credential, "SAD": sad,
                    "hashes": hashes.iter().map(|h| Base64::encode_string(h)).collect::<Vec<_>>(),
                    "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                    "signAlgo": "1.2.840.10045.4.3.2",
                });
                let mut request =
                    HttpRequest::post(&url, "application/json", body.to_string().into_bytes());
                request.authorization = Some(format!("Bearer {token}").into());
                let t = Instant::now();
                let at = start.elapsed().as_millis();
                let answer = transport.send(request).await;
                let status = answer.as_ref().map_or(0, |r| r.status);
                *tally.by_status.entry(status).or_default() += 1;
                let mut line = json!({ "t": at, "node": node, "status": status });
                match answer {
                    Err(_) => {
                        // Not answering: killed or restarting. Try again shortly.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Ok(r) => {
                        tally.latencies.push(t.elapsed());
                        let body: Option<Value> = serde_json::from_slice(&r.body).ok();
                        if r.status == 200 {
                            let signed = body
                                .as_ref()
                                .and_then(|b| b.get("signatures"))
                                .and_then(Value::as_array)
                                .map_or(0, Vec::len);
                            if signed != hashes.len() {
                                tally.short += 1;
                            }
                            line["hashes"] =
                                json!(hashes.iter().map(hex::encode).collect::<Vec<_>>());
                        } else {
                            let error = body.as_ref().and_then(|b| b.get("error")).cloned();
                            if error.is_none() {
                                tally.not_json += 1;
                            }
                            line["json"] = json!(error.is_some());
                            line["error"] = error.unwrap_or(Value::Null);
                        }
                    }
                }
                if recording {
                    tally.record.push(line.to_string());
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for t in tasks {
        let t = t.await?;
        for (status, n) in t.by_status {
            *all.by_status.entry(status).or_default() += n;
        }
        all.not_json += t.not_json;
        all.short += t.short;
        all.latencies.extend(t.latencies);
        all.record.extend(t.record);
    }
    if let Some(path) = record {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        for line in &all.record {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut latencies = all.latencies;
    latencies.sort();
    let pct = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let ok = all.by_status.get(&200).copied().unwrap_or(0);
    let failed: u64 = all.by_status.values().sum::<u64>() - ok;
    let signatures = ok * per_call as u64;
    println!(
        "{}",
        json!({
            "hashes_per_call": per_call, "concurrency": concurrency,
            "seconds": elapsed, "calls_ok": ok, "calls_failed": failed,
            "by_status": all.by_status.iter().map(|(s, n)| (s.to_string(), *n)).collect::<BTreeMap<_, _>>(),
            "errors_not_json": all.not_json, "ok_with_wrong_count": all.short,
            "signatures_per_second": signatures as f64 / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99),
        })
    );
    Ok(())
}
