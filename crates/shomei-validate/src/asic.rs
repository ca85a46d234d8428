//! ASiC-E containers (ETSI EN 319 162-1) with XAdES signatures: a ZIP whose
//! `META-INF/*signatures*.xml` sign the other entries as detached data. Each signature
//! file is validated as XML with the container's data entries as its detached data;
//! the reports are joined. Reading is bounded: entry count, each entry's and the total
//! uncompressed size (a ZIP bomb ends in an error, not in memory exhaustion).

use crate::evidence::{Options, ValidateError};
use crate::report::Report;
use shomei_revocation::RevocationSource;
use shomei_xades::ltv::GivenData;
use std::io::{Cursor, Read};

/// Most entries read from a container.
const MAX_ENTRIES: usize = 1_000;
/// Largest entry, uncompressed.
const MAX_ENTRY: u64 = 64 << 20;
/// Largest total, uncompressed.
const MAX_TOTAL: u64 = 256 << 20;

/// Whether `file` is a ZIP (an ASiC container is one).
pub(crate) fn is_zip(file: &[u8]) -> bool {
    file.starts_with(b"PK\x03\x04")
}

/// The signature files (name, bytes) of a container.
type SignatureFiles = Vec<(String, Vec<u8>)>;

/// The signature files and the data entries of a container.
fn read(file: &[u8]) -> Result<(SignatureFiles, GivenData), ValidateError> {
    let bad = |why: String| ValidateError::Container(why);
    let mut archive =
        zip::ZipArchive::new(Cursor::new(file)).map_err(|e| bad(format!("not a ZIP: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(bad(format!("more than {MAX_ENTRIES} entries")));
    }
    let mut signatures = Vec::new();
    let mut data = GivenData::exact();
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive
            .by_index(i)
            .map_err(|e| bad(format!("entry {i}: {e}")))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_owned();
        let mut bytes = Vec::new();
        entry
            .take(MAX_ENTRY + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        total = total.saturating_add(len);
        if len > MAX_ENTRY || total > MAX_TOTAL {
            return Err(bad(format!(
                "{name}: the container unpacks to more than the {} MiB allowed",
                if len > MAX_ENTRY {
                    MAX_ENTRY
                } else {
                    MAX_TOTAL
                } >> 20
            )));
        }
        if let Some(meta) = name.strip_prefix("META-INF/") {
            if meta.contains("signatures") && meta.ends_with(".xml") {
                signatures.push((name, bytes));
            }
        } else if name != "mimetype" {
            data.add(name, bytes);
        }
    }
    if signatures.is_empty() {
        return Err(bad(
            "no META-INF/*signatures*.xml: not an ASiC-E container with XAdES signatures".into(),
        ));
    }
    Ok((signatures, data))
}

/// The reports of a container's signature files as one, each signature named with
/// its file.
fn join(reports: Vec<(String, Report)>) -> Result<Report, ValidateError> {
    let mut joined: Option<Report> = None;
    for (name, mut report) in reports {
        for s in &mut report.signatures {
            s.name = format!("{name}: {}", s.name);
        }
        match &mut joined {
            None => {
                report.format = "ASiC-E".into();
                joined = Some(report);
            }
            Some(j) => j.signatures.append(&mut report.signatures),
        }
    }
    joined.ok_or_else(|| ValidateError::Container("no signature".into()))
}

/// Validates every XAdES signature of an ASiC-E container with the data it embeds.
pub(crate) fn validate_container(file: &[u8], options: &Options) -> Result<Report, ValidateError> {
    let (signatures, data) = read(file)?;
    let mut reports = Vec::new();
    for (name, xml) in signatures {
        reports.push((name, crate::xades::validate_xml(&xml, options, &data)?));
    }
    unsigned_entries(join(reports)?, &data)
}

/// Entries of the container that no signature signs are named in every report: the
/// container's verdict is about the signed files only.
fn unsigned_entries(mut report: Report, data: &GivenData) -> Result<Report, ValidateError> {
    let unused = data.unused();
    if !unused.is_empty() {
        for s in &mut report.signatures {
            s.checks.push(crate::report::Check {
                name: "container".into(),
                passed: false,
                detail: format!(
                    "not signed by any signature of the container: {}",
                    unused.join(", ")
                ),
            });
        }
    }
    Ok(report)
}

/// [`validate_container`], fetching missing revocation data through `source`.
pub(crate) async fn validate_container_online(
    file: &[u8],
    options: &Options,
    source: &dyn RevocationSource,
) -> Result<Report, ValidateError> {
    let (signatures, data) = read(file)?;
    let mut reports = Vec::new();
    for (name, xml) in signatures {
        let report = crate::xades::validate_xml_online(&xml, options, &data, source).await?;
        reports.push((name, report));
    }
    unsigned_entries(join(reports)?, &data)
}
