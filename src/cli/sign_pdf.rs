//! `shomei sign pdf`.

use super::{signer, Failure, SignPdfArgs};
use shomei::output::AtomicOutput;
use shomei_pades::{PadesError, PadesOptions};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::time::SystemTime;

fn pades_failure(input: &std::path::Path, e: PadesError) -> Failure {
    let msg = format!("{}: {e}", input.display());
    if e.is_input_error() {
        Failure::Input(msg)
    } else {
        Failure::Signing(msg)
    }
}

pub(crate) fn run(args: &SignPdfArgs) -> Result<String, Failure> {
    let signer = signer::build(&args.signer)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))?;
    let description = runtime
        .block_on(signer.describe())
        .map_err(|e| Failure::Signing(format!("signer: {e}")))?;

    let mut options = PadesOptions::default();
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

    let input = &args.input;
    let mut file = File::open(input)
        .map_err(|e| Failure::Input(format!("{}: cannot open: {e}", input.display())))?;
    let draft = shomei_pades::prepare(&mut file, &description, &options)
        .map_err(|e| pades_failure(input, e))?;

    // One pass over the original: hashed and copied into the temporary output together.
    let mut out = AtomicOutput::create(&args.output).map_err(|e| {
        Failure::Input(format!(
            "{}: cannot create output: {e}",
            args.output.display()
        ))
    })?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Failure::Input(format!("{}: {e}", input.display())))?;
    let prepared = draft
        .digest_document(&mut file, Some(out.file()))
        .map_err(|e| pades_failure(input, e))?;
    let algorithm = prepared.signature_algorithm();
    let value = runtime
        .block_on(signer.sign_digest(prepared.signature_algorithm(), &prepared.digest_to_sign()))
        .map_err(|e| Failure::Signing(format!("signer: {e}")))?;
    let signed = prepared
        .finish(&value)
        .map_err(|e| pades_failure(input, e))?;
    out.file()
        .write_all(signed.update_bytes())
        .and_then(|()| out.commit(&args.output))
        .map_err(|e| Failure::Signing(format!("{}: cannot write: {e}", args.output.display())))?;
    Ok(format!(
        "signed {} -> {} (PAdES B-B, {algorithm})",
        input.display(),
        args.output.display(),
    ))
}
