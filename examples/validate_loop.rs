//! shomei's in-process validation rate of one signed PDF (offline), for the ratio
//! against pyHanko in benches/README.md g), with the allocator of the `shomei` binary
//! (mimalloc).
//!
//!     cargo run --release --example validate_loop -- FILE.pdf ROOT.pem [SECONDS] [cold|warm]

use shomei::validate::{validate_pdf, Options};
use std::time::{Duration, Instant};

/// The allocator the `shomei` binary uses, so that the rate is the shipped one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(file), Some(root)) = (args.get(1), args.get(2)) else {
        return Err("usage: validate_loop FILE.pdf ROOT.pem [SECONDS]".into());
    };
    let seconds: f64 = args.get(3).map_or(Ok(5.0), |s| s.parse())?;
    let pdf = std::fs::read(file)?;
    let anchors = shomei::core::chain::parse_certificates(&std::fs::read(root)?)?;
    let options = Options::new(anchors);
    let report = validate_pdf(&pdf, &options)?;
    eprintln!(
        "shomei verdict: {} (levels {:?})",
        report.indication().name(),
        report
            .signatures
            .iter()
            .map(|s| s.level)
            .collect::<Vec<_>>()
    );
    let budget = Duration::from_secs_f64(seconds);
    // "cold": every certificate signature verified in each validation; "warm": the
    // process remembers the verdicts on the CA certificates it has seen (as a service
    // validating documents from the same CAs does).
    let only = args.get(4).map(String::as_str);
    for (label, cold) in [("cold", true), ("warm", false)] {
        if only.is_some_and(|o| o != label) {
            continue;
        }
        let (mut n, start) = (0u64, Instant::now());
        while start.elapsed() < budget {
            if cold {
                shomei::validate::path::clear_verified_cache();
            }
            validate_pdf(&pdf, &options)?;
            n += 1;
        }
        let dt = start.elapsed().as_secs_f64();
        println!(
            "shomei in-process ({label}): {n} validations in {dt:.2}s = {:.1}/s",
            f64::from(u32::try_from(n).unwrap_or(u32::MAX)) / dt
        );
    }
    Ok(())
}
