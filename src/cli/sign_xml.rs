//! `shomei sign xml`, and the XML half of `shomei extend`.

use super::services::Services;
use super::{batch, signer, ExtendArgs, Failure, SignXmlArgs};
use shomei::output::AtomicOutput;
use shomei_core::chain::ChainCert;
use shomei_core::Level;
use shomei_xades::ltv::{check_relative_uri, DetachedResolver};
use shomei_xades::{BatchDocument, ExtendOptions, Packaging, XadesError, XadesOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub(crate) fn xades_failure(input: &Path, e: XadesError) -> Failure {
    let msg = format!("{}: {e}", input.display());
    match e {
        XadesError::Signer(_)
        | XadesError::Verify(_)
        | XadesError::Timestamp(_)
        | XadesError::Revocation(_)
        | XadesError::BrokenSignature { .. }
        | XadesError::Io(_) => Failure::Signing(msg),
        _ => Failure::Input(msg),
    }
}

/// The path of `input` relative to the directory of `output`, with `/` separators.
fn detached_uri(input: &Path, output: &Path) -> Result<String, Failure> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let canon = |p: &Path| {
        std::fs::canonicalize(p)
            .map_err(|e| Failure::Input(format!("{}: cannot resolve: {e}", p.display())))
    };
    let (input_abs, dir_abs) = (canon(input)?, canon(&dir)?);
    let rel = input_abs.strip_prefix(&dir_abs).map_err(|_| {
        Failure::Input(format!(
            "{}: a detached signature names its data by a path relative to the signature, \
             so the input must be in {} or below it",
            input.display(),
            dir.display()
        ))
    })?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let uri = parts
        .map(|p| p.join("/"))
        .ok_or_else(|| Failure::Input(format!("{}: the path is not UTF-8", input.display())))?;
    check_relative_uri(&uri).map_err(|e| Failure::Input(format!("{}: {e}", input.display())))?;
    Ok(uri)
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))
}

fn write_output(output: &Path, input: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut out = AtomicOutput::create(output, input)
        .map_err(|e| Failure::Input(format!("{}: cannot create output: {e}", output.display())))?;
    out.file()
        .write_all(bytes)
        .and_then(|()| out.commit(output))
        .map_err(|e| Failure::Signing(format!("{}: cannot write: {e}", output.display())))
}

/// Where a single document is signed from.
enum Source {
    /// Read from the file as it is signed (B-B).
    File(std::fs::File),
    /// Read into memory first (B-T and above).
    Memory(Vec<u8>),
}

pub(crate) fn run(args: &SignXmlArgs) -> Result<String, Failure> {
    let level: Level = args.level.parse().map_err(Failure::Input)?;
    let runtime = runtime()?;
    let plan = batch::plan(&args.inputs, &args.output)?;
    let built = signer::build(&args.signer, &runtime, args.network.timeout)?;
    let mut base = XadesOptions::new(SystemTime::now());
    base.digest = match args.digest.as_deref() {
        Some(d) => Some(d.parse().map_err(Failure::Input)?),
        None => None,
    };
    base.rsa_pss = args.rsa_pss;
    base.level = level;
    let options_for = |input: &Path, output: &Path| -> Result<XadesOptions, Failure> {
        let mut o = base.clone();
        o.packaging = match args.packaging.as_str() {
            "enveloping" => Packaging::Enveloping,
            "detached" => Packaging::Detached {
                uri: detached_uri(input, output)?,
            },
            _ => Packaging::Enveloped,
        };
        Ok(o)
    };
    let services = Services::for_level(level, &args.network)?;
    let ltv = services.as_ref().map(Services::ltv).transpose()?;
    let requests = || Services::summary(services.as_ref());
    let packaging = args.packaging.as_str();

    if let [(input, output)] = plan.as_slice() {
        let options = options_for(input, output)?;
        let cannot_read =
            |e: std::io::Error| Failure::Input(format!("{}: cannot read: {e}", input.display()));
        // B-B reads from the file and streams to the output: an enveloped signature of a
        // large document does not hold it in memory. The higher levels hold it once and
        // read it in one pass (the long-term properties go to the new signature alone).
        let mut source = if level == Level::BB {
            let mut file = std::fs::File::open(input).map_err(cannot_read)?;
            // A first read refuses what opens but cannot be read (a directory) with the
            // same message as before; the signing reads from the start again.
            std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, 1), &mut Vec::new())
                .map_err(cannot_read)?;
            Source::File(file)
        } else {
            Source::Memory(std::fs::read(input).map_err(cannot_read)?)
        };
        let mut out = AtomicOutput::create(output, input).map_err(|e| {
            Failure::Input(format!("{}: cannot create output: {e}", output.display()))
        })?;
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, out.file());
        let signed = match &mut source {
            Source::File(file) => runtime.block_on(shomei_xades::sign_xml_from(
                built.signer.as_ref(),
                file,
                &options,
                &mut writer,
            )),
            Source::Memory(data) => runtime.block_on(shomei_xades::sign_at_level_into(
                built.signer.as_ref(),
                data,
                &options,
                ltv,
                &mut writer,
            )),
        };
        signed.map_err(|e| xades_failure(input, e))?;
        writer
            .flush()
            .map_err(|e| Failure::Signing(format!("{}: cannot write: {e}", output.display())))?;
        drop(writer);
        out.commit(output)
            .map_err(|e| Failure::Signing(format!("{}: cannot write: {e}", output.display())))?;
        return Ok(format!(
            "signed {} -> {} (XAdES {level} {packaging}{}{})",
            input.display(),
            output.display(),
            requests(),
            built.summary()
        ));
    }

    // Several documents: one sign_digests call for all of them.
    let mut report = batch::Report::default();
    let mut loaded = Vec::new();
    for (input, output) in &plan {
        let data = std::fs::read(input).map_err(|e| format!("cannot read: {e}"));
        match (data, options_for(input, output)) {
            (Ok(d), Ok(o)) => loaded.push((input, output, d, o)),
            (Err(m), _) => report.failed.push((input.clone(), m)),
            (_, Err(f)) => report.failed.push((input.clone(), f.to_string())),
        }
    }
    let bar = batch::progress(plan.len());
    bar.inc(u64::try_from(report.failed.len()).unwrap_or(0));
    let docs: Vec<BatchDocument<'_>> = loaded
        .iter()
        .map(|(_, _, data, options)| BatchDocument { data, options })
        .collect();
    let results = runtime.block_on(shomei_xades::sign_batch_at_level(
        built.signer.as_ref(),
        &docs,
        ltv,
        &mut |_| bar.inc(1),
    ));
    bar.finish_and_clear();
    let results = results.map_err(|e| Failure::Signing(format!("signing failed: {e}")))?;
    for ((input, output, _, _), result) in loaded.iter().zip(results) {
        match result
            .map_err(|e| e.to_string())
            .and_then(|bytes| write_output(output, input, &bytes).map_err(|f| f.to_string()))
        {
            Ok(()) => report.signed.push(((*input).clone(), (*output).clone())),
            Err(m) => report.failed.push(((*input).clone(), m)),
        }
    }
    report.finish(
        &format!("XAdES {level} {packaging}"),
        &format!("{}{}", requests(), built.summary()),
    )
}

/// Reads detached data from the directory of the signature file, by plain relative
/// paths only.
struct NextToSignature {
    dir: PathBuf,
}

impl DetachedResolver for NextToSignature {
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError> {
        check_relative_uri(uri)?;
        let path = self.dir.join(uri);
        std::fs::read(&path).map_err(|e| {
            XadesError::Options(if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "detached data `{uri}` is missing: the signature names it, and there \
                     is no file {} next to the signature",
                    path.display()
                )
            } else {
                format!("detached data `{uri}` (next to the signature): {e}")
            })
        })
    }
}

/// `shomei extend` for an XML file.
pub(crate) fn extend(
    args: &ExtendArgs,
    level: Level,
    xml: &[u8],
    extra: &[ChainCert],
) -> Result<String, Failure> {
    let input = &args.input;
    let services = Services::new(args.network.tsa.as_deref(), args.network.timeout)?;
    let resolver = NextToSignature {
        dir: input
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let mut options = ExtendOptions::new(level);
    options.extra_certs = extra.to_vec();
    options.missing = super::extend::missing_data(args);
    options.force = args.force;
    let done = runtime()?
        .block_on(shomei_xades::extend(
            xml,
            services.ltv()?,
            &resolver,
            &options,
        ))
        .map_err(|e| xades_failure(input, e))?;
    write_output(&args.output, input, &done.bytes)?;
    Ok(super::extend::report(
        args,
        level,
        &done.report,
        services.requests(),
    ))
}
