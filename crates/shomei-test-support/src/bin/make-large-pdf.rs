//! Writes a large PDF of image pages for the memory/throughput benchmark.
//!
//! `make-large-pdf OUT.pdf SIZE_MB`

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(mb)) = (args.next(), args.next()) else {
        eprintln!("usage: make-large-pdf OUT.pdf SIZE_MB");
        std::process::exit(2);
    };
    let mb: u64 = mb.parse().unwrap_or(200);
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let n = shomei_test_support::sample_pdf::write_large(file, mb << 20)?;
    println!("wrote {out}: {n} bytes");
    Ok(())
}
