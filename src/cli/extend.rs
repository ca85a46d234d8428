//! `shomei extend`: raise every signature of a PDF or XAdES file (any producer) to B-T,
//! B-LT or B-LTA.

use super::services::Services;
use super::sign_pdf::{append, pades_failure};
use super::{ExtendArgs, Failure};
use shomei::output::AtomicOutput;
use shomei_core::chain::parse_certificates;
use shomei_core::DigestAlgorithm;
use shomei_pades::ltv::{self, Strictness};
use shomei_pades::Level;
use std::fs::File;
use std::io::{Seek, SeekFrom};

/// Tells XML from PDF by the first bytes: a byte-order mark or `<` after white space is
/// XML; anything else goes to the PDF reader (which accepts junk before `%PDF-`).
fn is_xml(input: &std::path::Path) -> Result<bool, Failure> {
    use std::io::Read;
    let mut head = Vec::with_capacity(1024);
    File::open(input)
        .and_then(|f| f.take(1024).read_to_end(&mut head))
        .map_err(|e| Failure::Input(format!("{}: cannot open: {e}", input.display())))?;
    if head.starts_with(&[0xEF, 0xBB, 0xBF])
        || head.starts_with(&[0xFE, 0xFF])
        || head.starts_with(&[0xFF, 0xFE])
    {
        return Ok(true);
    }
    Ok(head
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<'))
}

pub(crate) fn run(args: &ExtendArgs) -> Result<String, Failure> {
    let level: Level = args.level.parse().map_err(Failure::Input)?;
    let input = &args.input;
    let mut extra = Vec::new();
    for path in &args.trust {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
        extra.extend(
            parse_certificates(&bytes)
                .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?,
        );
    }
    if is_xml(input)? {
        let xml = std::fs::read(input)
            .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", input.display())))?;
        return super::sign_xml::extend(args, level, &xml, &extra);
    }
    let services = Services::new(args.network.tsa.as_deref(), args.network.timeout)?;
    let tsa = services.tsa()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))?;

    let mut source = File::open(input)
        .map_err(|e| Failure::Input(format!("{}: cannot open: {e}", input.display())))?;
    // Refuse what is not a signed PDF before anything is written.
    let mut reader = shomei_pdf::PdfReader::open(&mut source)
        .map_err(|e| Failure::Input(format!("{}: {e}", input.display())))?;
    let count = reader
        .signatures()
        .map_err(|e| Failure::Input(format!("{}: {e}", input.display())))?
        .len();
    drop(reader);
    if count == 0 {
        return Err(Failure::Input(format!(
            "{}: the document has no signature to extend",
            input.display()
        )));
    }
    let mut out = AtomicOutput::create(&args.output, input).map_err(|e| {
        Failure::Input(format!(
            "{}: cannot create output: {e}",
            args.output.display()
        ))
    })?;
    source
        .seek(SeekFrom::Start(0))
        .and_then(|_| std::io::copy(&mut source, out.file()))
        .map_err(|e| Failure::Signing(format!("{}: cannot copy: {e}", args.output.display())))?;
    let mut steps = Vec::new();

    // B-T: a document time-stamp stands in for missing signature time-stamps.
    let f = out.file();
    f.seek(SeekFrom::Start(0))
        .map_err(|e| Failure::Signing(e.to_string()))?;
    let timestamped =
        ltv::every_signature_timestamped(&mut *f).map_err(|e| pades_failure(input, e))?;
    // Appends a document time-stamp over everything written so far.
    let add_document_timestamp = |f: &mut File| -> Result<(), Failure> {
        let (update, _) = runtime
            .block_on(ltv::document_timestamp_update(
                &mut *f,
                tsa,
                DigestAlgorithm::Sha256,
            ))
            .map_err(|e| pades_failure(input, e))?;
        append(f, &update, &args.output)
    };
    if !timestamped {
        add_document_timestamp(f)?;
        steps.push("document time-stamp (B-T)");
    }
    if level >= Level::BLT {
        f.seek(SeekFrom::Start(0))
            .map_err(|e| Failure::Signing(e.to_string()))?;
        let data = runtime
            .block_on(ltv::collect_document_validation_data(
                &mut *f,
                services.revocation.as_ref(),
                services.clock.as_ref(),
                &extra,
                Strictness::Existing,
            ))
            .map_err(|e| {
                Failure::Signing(format!("{}: cannot reach {level}: {e}", input.display()))
            })?;
        for w in &data.warnings {
            eprintln!("shomei: warning: {w}");
        }
        if !data.is_empty() {
            let update = ltv::dss_update(&mut *f, &ltv::dss_data(&data))
                .map_err(|e| pades_failure(input, e))?;
            append(f, &update, &args.output)?;
            steps.push("validation data in /DSS (B-LT)");
        }
    }
    if level == Level::BLTA {
        add_document_timestamp(f)?;
        steps.push("archive document time-stamp (B-LTA)");
    }
    out.commit(&args.output)
        .map_err(|e| Failure::Signing(format!("{}: cannot write: {e}", args.output.display())))?;
    let done = if steps.is_empty() {
        "already at that level; copied unchanged".to_string()
    } else {
        steps.join(", ")
    };
    Ok(format!(
        "extended {} -> {} to {level}: {done} ({} HTTP requests)",
        input.display(),
        args.output.display(),
        services.requests()
    ))
}
