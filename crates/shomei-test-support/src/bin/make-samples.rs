//! Regenerates the repository's sample documents: `examples/sample.pdf`.
//!
//! `cargo run -p shomei-test-support --bin make-samples`

fn main() -> std::io::Result<()> {
    let root = shomei_test_support::paths::repo_root();
    let out = root.join("examples/sample.pdf");
    std::fs::write(
        &out,
        shomei_test_support::sample_pdf::one_page("shomei sample document"),
    )?;
    println!("wrote {}", out.display());
    Ok(())
}
