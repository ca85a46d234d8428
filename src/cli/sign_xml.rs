//! `shomei sign xml`.

use super::{signer, Failure, SignXmlArgs};
use shomei::output::AtomicOutput;
use shomei_xades::{XadesError, XadesOptions};
use std::io::Write;
use std::time::SystemTime;

fn xades_failure(input: &std::path::Path, e: XadesError) -> Failure {
    let msg = format!("{}: {e}", input.display());
    match e {
        XadesError::Signer(_) | XadesError::Verify(_) => Failure::Signing(msg),
        _ => Failure::Input(msg),
    }
}

pub(crate) fn run(args: &SignXmlArgs) -> Result<String, Failure> {
    let signer = signer::build(&args.signer)?;
    let input = &args.input;
    let xml = std::fs::read(input)
        .map_err(|e| Failure::Input(format!("{}: cannot read: {e}", input.display())))?;
    let mut options = XadesOptions::new(SystemTime::now());
    options.digest = match args.digest.as_deref() {
        Some(d) => Some(d.parse().map_err(Failure::Input)?),
        None => None,
    };
    options.rsa_pss = args.rsa_pss;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))?;
    let description = runtime
        .block_on(signer.describe())
        .map_err(|e| Failure::Signing(format!("signer: {e}")))?;
    let prepared =
        shomei_xades::prepare(&xml, &description, &options).map_err(|e| xades_failure(input, e))?;
    let algorithm = prepared.signature_algorithm();
    let value = runtime
        .block_on(signer.sign_digest(algorithm, &prepared.digest_to_sign()))
        .map_err(|e| Failure::Signing(format!("signer: {e}")))?;
    let signed = prepared
        .finish(&value)
        .map_err(|e| xades_failure(input, e))?;
    let mut out = AtomicOutput::create(&args.output).map_err(|e| {
        Failure::Input(format!(
            "{}: cannot create output: {e}",
            args.output.display()
        ))
    })?;
    out.file()
        .write_all(&signed)
        .and_then(|()| out.commit(&args.output))
        .map_err(|e| Failure::Signing(format!("{}: cannot write: {e}", args.output.display())))?;
    Ok(format!(
        "signed {} -> {} (XAdES B-B enveloped, {algorithm})",
        input.display(),
        args.output.display()
    ))
}
