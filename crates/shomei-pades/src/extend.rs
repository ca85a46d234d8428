//! Raising the signatures of a PDF made by anyone to B-T, B-LT or B-LTA (ETSI EN 319
//! 142-1 6.3), after checking that each one is intact: a broken signature is never
//! time-stamped or archived, and a level is never claimed without its validation data.

use crate::ltv::{
    append, collect_document_validation_data, document_timestamp_update, dss_data, dss_update,
    every_signature_timestamped, LtvServices, SignedOutput, Strictness,
};
use crate::{Level, PadesError};
use shomei_cms::check::CheckFailure;
use shomei_core::check::CheckHash;
use shomei_core::DigestAlgorithm;
use shomei_pdf::{ExistingSignature, PdfReader};
use std::io::{Read, Seek, SeekFrom};

pub use shomei_levels::{ExtendOptions, ExtensionReport};

/// The digest of the bytes a signature's `/ByteRange` covers, read from `pdf`.
fn byte_range_digest<R: Read + Seek>(
    pdf: &mut R,
    byte_range: &[u64],
    hash: CheckHash,
) -> std::io::Result<Vec<u8>> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let len = pdf.seek(SeekFrom::End(0))?;
    let [a, b, c, d] = byte_range else {
        return Err(bad("the /ByteRange does not have four numbers"));
    };
    let mut hasher = hash.hasher();
    let mut buf = vec![0u8; 64 * 1024];
    for (start, count) in [(*a, *b), (*c, *d)] {
        let end = start
            .checked_add(count)
            .filter(|e| *e <= len)
            .ok_or_else(|| bad("the /ByteRange runs past the end of the file"))?;
        pdf.seek(SeekFrom::Start(start))?;
        let mut left = end - start;
        while left > 0 {
            let want = usize::try_from(left.min(64 * 1024)).unwrap_or(64 * 1024);
            let chunk = buf.get_mut(..want).unwrap_or_default();
            pdf.read_exact(chunk)?;
            hasher.update(chunk);
            left -= u64::try_from(want).unwrap_or(0);
        }
    }
    Ok(hasher.finish())
}

/// Checks one signature (or document time-stamp) of the document in `pdf`.
pub fn check_signature<R: Read + Seek>(
    pdf: &mut R,
    sig: &ExistingSignature,
) -> Result<(), CheckFailure> {
    check_signature_summarized(pdf, sig).0
}

/// [`check_signature`], also handing back what the CMS holds from the same decoding
/// (`None` when it could not be decoded).
pub fn check_signature_summarized<R: Read + Seek>(
    pdf: &mut R,
    sig: &ExistingSignature,
) -> (
    Result<(), CheckFailure>,
    Option<shomei_cms::inspect::SignatureSummary>,
) {
    if sig.contents.iter().all(|b| *b == 0) {
        return (Err(CheckFailure::Unchecked("empty /Contents".into())), None);
    }
    if sig.sub_filter == "adbe.x509.rsa_sha1" {
        return (
            Err(CheckFailure::Unchecked(
                "SubFilter adbe.x509.rsa_sha1 (a bare PKCS#1 value) is not supported".into(),
            )),
            None,
        );
    }
    let byte_range = sig.byte_range.clone();
    shomei_cms::check::check_detached_summarized(&sig.contents, &mut |hash| {
        byte_range_digest(&mut *pdf, &byte_range, hash)
    })
}

/// Checks every signature of the document in `pdf`: the broken ones, with what is
/// wrong (empty when all are intact).
pub fn broken_signatures<R: Read + Seek>(
    mut pdf: R,
) -> Result<Vec<(String, CheckFailure)>, PadesError> {
    pdf.seek(SeekFrom::Start(0))?;
    let signatures = PdfReader::open(&mut pdf)?.signatures()?;
    Ok(broken_among(&mut pdf, &signatures))
}

/// The broken signatures among `signatures` (already read from `pdf`).
fn broken_among<R: Read + Seek>(
    pdf: &mut R,
    signatures: &[ExistingSignature],
) -> Vec<(String, CheckFailure)> {
    signatures
        .iter()
        .filter_map(|sig| {
            check_signature(&mut *pdf, sig)
                .err()
                .map(|failure| (sig.field_name.clone(), failure))
        })
        .collect()
}

/// Raises every signature of the PDF held in `out` (a copy of the input, written to
/// in place) to `options.level`, B-T by a document time-stamp where a signature has no
/// signature time-stamp, B-LT by `/DSS`, B-LTA by a document time-stamp over it; at
/// B-LTA an existing archive time-stamp is renewed.
///
/// Refused, with nothing appended: a document without signatures; a signature whose
/// byte-range digest or signature value does not verify, or that cannot be checked
/// (unless `force`); B-LT data that cannot all be had (unless
/// [`shomei_levels::MissingData::Allow`]).
pub async fn extend<O: SignedOutput>(
    out: &mut O,
    services: LtvServices<'_>,
    options: &ExtendOptions,
) -> Result<ExtensionReport, PadesError> {
    let mut ext = ExtensionReport::default();
    out.seek(SeekFrom::Start(0))?;
    // One read of the signature fields serves the count and the checks.
    let signatures = PdfReader::open(&mut *out)?.signatures()?;
    if signatures.is_empty() {
        return Err(PadesError::Options(
            "the document has no signature to extend".into(),
        ));
    }
    for (field, failure) in broken_among(&mut *out, &signatures) {
        if !options.force {
            return Err(PadesError::BrokenSignature { field, failure });
        }
        ext.forced
            .push(format!("signature field `{field}`: {failure}"));
    }

    // B-T: a document time-stamp stands in for missing signature time-stamps.
    out.seek(SeekFrom::Start(0))?;
    if !every_signature_timestamped(&mut *out)? {
        let (update, _) =
            document_timestamp_update(&mut *out, services.tsa, DigestAlgorithm::Sha256).await?;
        append(out, &update)?;
        ext.steps.push("document time-stamp (B-T)".into());
    }
    if options.level >= Level::BLT {
        out.seek(SeekFrom::Start(0))?;
        let data = collect_document_validation_data(
            &mut *out,
            services.revocation,
            services.clock,
            &options.extra_certs,
            Strictness::Existing,
        )
        .await?;
        options.missing.check(options.level, &data)?;
        ext.incomplete = !data.warnings.is_empty();
        ext.warnings.clone_from(&data.warnings);
        if !data.is_empty() {
            let update = dss_update(&mut *out, &dss_data(&data))?;
            append(out, &update)?;
            ext.steps.push("validation data in /DSS (B-LT)".into());
        }
    }
    if options.level == Level::BLTA {
        let (update, _) =
            document_timestamp_update(&mut *out, services.tsa, DigestAlgorithm::Sha256).await?;
        append(out, &update)?;
        ext.steps.push("archive document time-stamp (B-LTA)".into());
    }
    out.flush().map_err(PadesError::Write)?;
    Ok(ext)
}
