//! `shomei extend`: raise every signature of a PDF or XAdES file (any producer) to B-T,
//! B-LT or B-LTA. The work is the libraries' (`shomei_pades::extend`,
//! `shomei_xades::extend`); this file reads the options and prints the report.

use super::services::Services;
use super::sign_pdf::pades_failure;
use super::{ExtendArgs, Failure};
use shomei::output::AtomicOutput;
use shomei_core::chain::{parse_certificates, ChainCert};
use shomei_levels::MissingData;
use shomei_pades::extend::{ExtendOptions, ExtensionReport};
use shomei_pades::Level;
use std::fs::File;
use std::path::Path;

/// Tells XML from PDF by the first bytes: a byte-order mark or `<` after white space is
/// XML; anything else goes to the PDF reader (which accepts junk before `%PDF-`).
fn is_xml(input: &Path) -> Result<bool, Failure> {
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

/// What `--allow-missing-revocation` asks for.
pub(crate) fn missing_data(args: &ExtendArgs) -> MissingData {
    if args.allow_missing_revocation {
        MissingData::Allow
    } else {
        MissingData::Refuse
    }
}

/// The summary line of an extension, with what the user must know: gaps allowed by
/// `--allow-missing-revocation`, broken signatures extended by `--force`.
pub(crate) fn report(
    args: &ExtendArgs,
    level: Level,
    done: &ExtensionReport,
    requests: u64,
) -> String {
    let (steps, warnings, incomplete, forced) =
        (&done.steps, &done.warnings, done.incomplete, &done.forced);
    for w in warnings {
        eprintln!("shomei: warning: {w}");
    }
    for f in forced {
        eprintln!("shomei: warning: forced: {f}");
    }
    let done = if steps.is_empty() {
        "already at that level; copied unchanged".to_string()
    } else {
        steps.join(", ")
    };
    let mut line = format!(
        "extended {} -> {} to {level}: {done} ({requests} HTTP requests)",
        args.input.display(),
        args.output.display(),
    );
    if incomplete {
        line.push_str(&format!(
            "; {level} INCOMPLETE: the status of {} certificate(s) could not be established \
             (written because of --allow-missing-revocation)",
            warnings.len()
        ));
    }
    if !forced.is_empty() {
        line.push_str(&format!(
            "; forced: {} signature(s) that do not verify were extended because of --force",
            forced.len()
        ));
    }
    line
}

pub(crate) fn run(args: &ExtendArgs) -> Result<String, Failure> {
    let level: Level = args.level.parse().map_err(Failure::Input)?;
    let input = &args.input;
    let mut extra: Vec<ChainCert> = Vec::new();
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
    let ltv = services.ltv()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))?;
    let mut source = File::open(input)
        .map_err(|e| Failure::Input(format!("{}: cannot open: {e}", input.display())))?;
    // Refuse what is not a PDF before anything is created.
    shomei_pdf::PdfReader::open(&mut source)
        .map_err(|e| Failure::Input(format!("{}: {e}", input.display())))?;
    let mut out = AtomicOutput::create(&args.output, input).map_err(|e| {
        Failure::Input(format!(
            "{}: cannot create output: {e}",
            args.output.display()
        ))
    })?;
    std::io::Seek::rewind(&mut source)
        .and_then(|()| std::io::copy(&mut source, out.file()))
        .map_err(|e| Failure::Signing(format!("{}: cannot copy: {e}", args.output.display())))?;
    let mut options = ExtendOptions::new(level);
    options.extra_certs = extra;
    options.missing = missing_data(args);
    options.force = args.force;
    let done = runtime
        .block_on(shomei_pades::extend::extend(out.file(), ltv, &options))
        .map_err(|e| pades_failure(input, e))?;
    out.commit(&args.output)
        .map_err(|e| Failure::Signing(format!("{}: cannot write: {e}", args.output.display())))?;
    Ok(report(args, level, &done, services.requests()))
}
