//! `shomei validate`: the library's validation of a PDF or XML document, its report
//! printed as text or JSON, and the verdict as the exit code.

use super::ValidateArgs;
use shomei_validate::{validate, Indication, Options};
use shomei_xades::ltv::GivenData;
use std::process::ExitCode;

fn bad_input(message: &str) -> ExitCode {
    eprintln!("shomei: {message}");
    ExitCode::from(2)
}

pub(crate) fn run(args: &ValidateArgs) -> ExitCode {
    let file = match std::fs::read(&args.input) {
        Ok(f) => f,
        Err(e) => return bad_input(&format!("{}: cannot read: {e}", args.input.display())),
    };
    let mut anchors = Vec::new();
    for path in &args.trust {
        match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| shomei_core::chain::parse_certificates(&b).map_err(|e| e.to_string()))
        {
            Ok(certs) => anchors.extend(certs),
            Err(e) => return bad_input(&format!("--trust {}: {e}", path.display())),
        }
    }
    let mut detached = GivenData::new();
    for path in &args.detached {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match std::fs::read(path) {
            Ok(data) => detached.add(name, data),
            Err(e) => return bad_input(&format!("--detached {}: {e}", path.display())),
        }
    }
    let mut options = Options::new(anchors);
    options.revocation_soft_fail = args.offline && !args.require_revocation;
    if let Some(at) = &args.at {
        match time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339) {
            Ok(t) => options.at = Some(t.into()),
            Err(e) => return bad_input(&format!("--at {at}: not an RFC 3339 time ({e})")),
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return bad_input(&format!("cannot start the async runtime: {e}")),
    };
    let services = if args.offline {
        None
    } else {
        match shomei::online::OnlineServices::new(
            None,
            Default::default(),
            std::time::Duration::from_secs(30),
        ) {
            Ok(s) => Some(s),
            Err(e) => return bad_input(&format!("network: {e}")),
        }
    };
    let source = services.as_ref().map(|s| s.revocation());
    let report = match rt.block_on(validate(&file, &options, &detached, source)) {
        Ok(r) => r,
        Err(e) => return bad_input(&format!("{}: {e}", args.input.display())),
    };
    if args.format == "json" {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => return bad_input(&format!("report: {e}")),
        }
    } else {
        print!("{}", report.to_text());
    }
    match report.indication() {
        Indication::TotalPassed => ExitCode::SUCCESS,
        Indication::TotalFailed => ExitCode::from(1),
        Indication::Indeterminate => ExitCode::from(3),
    }
}
