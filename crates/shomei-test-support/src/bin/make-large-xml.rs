//! Writes a large XML document for the XAdES benchmark.
//!
//! `make-large-xml OUT.xml SIZE_MB [--xmlsec-template]`

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(mb)) = (args.next(), args.next()) else {
        eprintln!("usage: make-large-xml OUT.xml SIZE_MB [--xmlsec-template]");
        std::process::exit(2);
    };
    let template = args.next().as_deref() == Some("--xmlsec-template");
    let mb: u64 = mb.parse().unwrap_or(50);
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&out)?);
    let n = shomei_test_support::sample_xml::write_large(file, mb << 20, template)?;
    println!("wrote {out}: {n} bytes");
    Ok(())
}
