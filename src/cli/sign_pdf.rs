//! `shomei sign pdf`.

use super::services::Services;
use super::{signer, Failure, SignPdfArgs};
use shomei::output::AtomicOutput;
use shomei_pades::ltv::{self, Strictness, ValidationData, TOKEN_OVERHEAD};
use shomei_pades::{Level, PadesError, PadesOptions};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
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

/// Appends `update` at the end of the file.
pub(crate) fn append(file: &mut File, update: &[u8], path: &Path) -> Result<(), Failure> {
    file.seek(SeekFrom::End(0))
        .and_then(|_| file.write_all(update))
        .map_err(|e| io_failure(path, e))
}

pub(crate) fn run(args: &SignPdfArgs) -> Result<String, Failure> {
    let level: Level = args.level.parse().map_err(Failure::Input)?;
    let signer = signer::build(&args.signer)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))?;
    let description = runtime
        .block_on(signer.describe())
        .map_err(|e| Failure::Signing(format!("signer: {e}")))?;
    let services = if level > Level::BB {
        Some(Services::new(
            args.network.tsa.as_deref(),
            args.network.timeout,
        )?)
    } else {
        None
    };
    let input = &args.input;

    // B-LT: check the signer's chain (revoked, expired, not yet valid) before anything
    // is signed, and keep the evidence for /DSS.
    let mut validation = ValidationData::default();
    if level >= Level::BLT {
        let s = services
            .as_ref()
            .ok_or_else(|| Failure::Input("no services".into()))?;
        s.tsa()?;
        let chain = description.chain.certs();
        let leaf = description.chain.signing_cert();
        runtime
            .block_on(ltv::add_chain(
                &mut validation,
                leaf,
                chain,
                s.revocation.as_ref(),
                s.clock.as_ref(),
                Strictness::NewSignature,
            ))
            .map_err(|e| {
                Failure::Signing(format!("{}: cannot reach {level}: {e}", input.display()))
            })?;
    }

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
    if let Some(s) = &services {
        if level >= Level::BT {
            options.unsigned_attrs_reserve =
                s.tsa()?.expected_token_len().saturating_add(TOKEN_OVERHEAD);
        }
    }

    let mut file = File::open(input)
        .map_err(|e| Failure::Input(format!("{}: cannot open: {e}", input.display())))?;
    // At most two rounds: a time-stamp token larger than reserved is learned, and the
    // signing is redone with room for it — never a corrupt file.
    let mut attempt = 0;
    let (mut out, token) = loop {
        attempt += 1;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Failure::Input(format!("{}: {e}", input.display())))?;
        let draft = shomei_pades::prepare(&mut file, &description, &options)
            .map_err(|e| pades_failure(input, e))?;
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
        let value = runtime
            .block_on(
                signer.sign_digest(prepared.signature_algorithm(), &prepared.digest_to_sign()),
            )
            .map_err(|e| Failure::Signing(format!("signer: {e}")))?;
        let (signed, token) = match &services {
            Some(s) if level >= Level::BT => {
                match runtime.block_on(prepared.finish_with_timestamp(&value, s.tsa()?)) {
                    Ok((signed, token)) => (signed, Some(token)),
                    Err(PadesError::PlaceholderTooSmall { needed, capacity }) if attempt < 2 => {
                        options.unsigned_attrs_reserve = options
                            .unsigned_attrs_reserve
                            .saturating_add(needed.saturating_sub(capacity))
                            .saturating_add(TOKEN_OVERHEAD);
                        continue;
                    }
                    Err(e) => return Err(pades_failure(input, e)),
                }
            }
            _ => (
                prepared
                    .finish(&value)
                    .map_err(|e| pades_failure(input, e))?,
                None,
            ),
        };
        out.file()
            .write_all(signed.update_bytes())
            .map_err(|e| io_failure(&args.output, e))?;
        break (out, token);
    };

    if let (Some(s), true) = (&services, level >= Level::BLT) {
        // The TSA's chain and its revocation data join the signer's.
        if let Some(token) = &token {
            if let Some(tsa_cert) = token.signer_cert() {
                let mut pool = token.certificates();
                pool.extend_from_slice(description.chain.certs());
                runtime
                    .block_on(ltv::add_chain(
                        &mut validation,
                        &tsa_cert,
                        &pool,
                        s.revocation.as_ref(),
                        s.clock.as_ref(),
                        Strictness::NewSignature,
                    ))
                    .map_err(|e| Failure::Signing(format!("time-stamp authority: {e}")))?;
            }
        }
        let f = out.file();
        f.seek(SeekFrom::Start(0))
            .map_err(|e| io_failure(&args.output, e))?;
        let update =
            ltv::dss_update(&mut *f, &validation.dss).map_err(|e| pades_failure(input, e))?;
        append(f, &update, &args.output)?;
    }
    if let (Some(s), Level::BLTA) = (&services, level) {
        let f = out.file();
        let digest = description
            .key_kind()
            .map(|k| k.default_digest())
            .unwrap_or(shomei_core::DigestAlgorithm::Sha256);
        let (update, _) = runtime
            .block_on(ltv::document_timestamp_update(&mut *f, s.tsa()?, digest))
            .map_err(|e| pades_failure(input, e))?;
        append(f, &update, &args.output)?;
    }
    out.commit(&args.output)
        .map_err(|e| io_failure(&args.output, e))?;
    let requests = services
        .as_ref()
        .map(|s| format!(", {} HTTP requests", s.requests()))
        .unwrap_or_default();
    Ok(format!(
        "signed {} -> {} (PAdES {level}{requests})",
        input.display(),
        args.output.display(),
    ))
}
