//! `shomei sign pdf`.

use super::services::Services;
use super::{batch, signer, Failure, SignPdfArgs, StampArgs};
use shomei::output::AtomicOutput;
use shomei_pades::ltv;
use shomei_pades::{Level, PadesError, PadesOptions};
use shomei_stamp::{SealImage, Stamp, StampError, StampFont};
use std::fs::File;
use std::sync::Arc;

use std::path::Path;
use std::time::SystemTime;

pub(crate) fn pades_failure(input: &Path, e: PadesError) -> Failure {
    let msg = format!("{}: {e}", input.display());
    if e.is_input_error() {
        Failure::Input(msg)
    } else {
        Failure::Signing(msg)
    }
}

fn io_failure(path: &Path, e: std::io::Error) -> Failure {
    Failure::Signing(format!("{}: cannot write: {e}", path.display()))
}

/// The visible stamp the arguments ask for, with its font and seal read.
fn stamp(args: &StampArgs) -> Result<Option<Stamp>, Failure> {
    let Some(placement) = &args.placement else {
        return Ok(None);
    };
    let input = |e: StampError| Failure::Input(e.to_string());
    let (page, rect) = Stamp::parse_placement(placement).map_err(input)?;
    let font = match &args.font {
        Some(spec) => StampFont::from_file(spec),
        None => StampFont::system_default(),
    }
    .map_err(input)?;
    let mut stamp = Stamp::new(page, rect, Arc::new(font));
    if let Some(text) = &args.text {
        let text = text.replace("\\n", "\n");
        Stamp::check_text(&text).map_err(input)?;
        stamp.text = Some(text);
    }
    if let Some(path) = &args.image {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", path.display())))?;
        let seal = SealImage::from_png(&bytes)
            .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?;
        stamp.seal = Some(Arc::new(seal));
    }
    if let Some(offset) = &args.utc_offset {
        stamp.utc_offset_minutes = Stamp::parse_utc_offset(offset).map_err(input)?;
    }
    Ok(Some(stamp))
}

pub(crate) fn run(args: &SignPdfArgs) -> Result<String, Failure> {
    let level: Level = args.level.parse().map_err(Failure::Input)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))?;
    let plan = batch::plan(&args.inputs, &args.output)?;
    let built = signer::build(&args.signer, &runtime, args.network.timeout)?;
    let services = Services::for_level(level, &args.network)?;
    let mut options = PadesOptions::default();
    options.level = level;
    options.digest = match args.digest.as_deref() {
        Some(d) => Some(d.parse().map_err(Failure::Input)?),
        None => None,
    };
    options.rsa_pss = args.rsa_pss;
    options.field_name.clone_from(&args.field);
    options.reason.clone_from(&args.reason);
    options.location.clone_from(&args.location);
    options.contact_info.clone_from(&args.contact_info);
    options.name.clone_from(&args.name);
    options.certify = args.certify;
    options.signing_time = SystemTime::now();
    options.stamp = stamp(&args.stamp)?;
    let ltv_services = services.as_ref().map(Services::ltv).transpose()?;
    let requests = || Services::summary(services.as_ref());
    if let [(input, output)] = plan.as_slice() {
        let file = File::open(input)
            .map_err(|e| Failure::Input(format!("{}: cannot open: {e}", input.display())))?;
        let mut out = AtomicOutput::create(output, input).map_err(|e| {
            Failure::Input(format!("{}: cannot create output: {e}", output.display()))
        })?;
        runtime
            .block_on(ltv::sign_at_level(
                built.signer.as_ref(),
                file,
                out.file(),
                &options,
                ltv_services,
            ))
            .map_err(|e| pades_failure(input, e))?;
        out.commit(output).map_err(|e| io_failure(output, e))?;
        return Ok(format!(
            "signed {} -> {} (PAdES {level}{}{})",
            input.display(),
            output.display(),
            requests(),
            built.summary()
        ));
    }

    // Several documents: one sign_digests call for all of them.
    let mut report = batch::Report::default();
    let mut opened = Vec::new();
    for (input, output) in &plan {
        let file = File::open(input).map_err(|e| format!("cannot open: {e}"));
        let out =
            AtomicOutput::create(output, input).map_err(|e| format!("cannot create output: {e}"));
        match (file, out) {
            (Ok(f), Ok(o)) => opened.push((input, output, f, o)),
            (Err(m), _) | (_, Err(m)) => report.failed.push((input.clone(), m)),
        }
    }
    let bar = batch::progress(plan.len());
    bar.inc(u64::try_from(report.failed.len()).unwrap_or(0));
    let results = {
        let mut items: Vec<ltv::BatchItem<&mut File, &mut File>> = opened
            .iter_mut()
            .map(|(_, _, f, o)| ltv::BatchItem {
                input: f,
                output: o.file(),
            })
            .collect();
        runtime.block_on(ltv::sign_batch_at_level(
            built.signer.as_ref(),
            &mut items,
            &options,
            ltv_services,
            &mut |_| bar.inc(1),
        ))
    };
    bar.finish_and_clear();
    let results = results.map_err(|e| Failure::Signing(format!("signing failed: {e}")))?;
    for ((input, output, _, out), result) in opened.into_iter().zip(results) {
        match result.and_then(|()| out.commit(output).map_err(PadesError::from)) {
            Ok(()) => report.signed.push((input.clone(), output.clone())),
            Err(e) => report.failed.push((input.clone(), e.to_string())),
        }
    }
    report.finish(
        &format!("PAdES {level}"),
        &format!("{}{}", requests(), built.summary()),
    )
}
