//! XAdES validation (ETSI EN 319 102-1 for XAdES baseline signatures, EN 319 132-1):
//! every signature of an XML document that is not inside another one, in document
//! order. What each signature signs, its signing certificate, its time-stamps and its
//! validation data are read by `shomei_xades::inspect`; this module judges them. Each
//! reference's data is checked, and the signed content is what
//! [`shomei_xades::inspect::SignedReference::content`] hands back; signature wrapping
//! (an Id on two elements, the signed element moved into the signature) is a
//! FORMAT_FAILURE; `ds:KeyInfo` is never trusted over `SigningCertificate(V2)`.

use crate::evidence::{fetch, Draft, Embedded, Evidence, Options, ValidateError};
use crate::report::{
    rfc3339, Indication, Level, Report, SignatureKind, SignatureReport, SubIndication,
};
use shomei_core::chain::ChainCert;
use shomei_core::Digest;
use shomei_revocation::{Crl, RevocationSource};
use shomei_xades::check::CheckFailure;
use shomei_xades::inspect::{
    inspect, InspectedSignature, Integrity, SigningCertificate, StampInput,
};
use shomei_xades::uris::XADES_NS;
use shomei_xades::DetachedResolver;
use std::time::SystemTime;

/// Validates every signature of the XML document `xml`; detached data comes from
/// `resolver` only.
///
/// # Errors
/// [`ValidateError::Xml`] when the document is not XML that can be read (syntax,
/// DTDs, entity declarations, limits). Problems of a signature are in its report.
pub fn validate_xml(
    xml: &[u8],
    options: &Options,
    resolver: &dyn DetachedResolver,
) -> Result<Report, ValidateError> {
    Ok(validate_with(xml, options, resolver, &Embedded::default())?.0)
}

/// [`validate_xml`], fetching the revocation status of every certificate the
/// signatures carry no data for through `source`, then validating again with it.
///
/// # Errors
/// As [`validate_xml`].
pub async fn validate_xml_online(
    xml: &[u8],
    options: &Options,
    resolver: &dyn DetachedResolver,
    source: &dyn RevocationSource,
) -> Result<Report, ValidateError> {
    let (report, missing) = validate_with(xml, options, resolver, &Embedded::default())?;
    if missing.is_empty() {
        return Ok(report);
    }
    let fetched = fetch(&missing, source).await;
    Ok(validate_with(xml, options, resolver, &fetched)?.0)
}

fn validate_with(
    xml: &[u8],
    options: &Options,
    resolver: &dyn DetachedResolver,
    fetched: &Embedded,
) -> Result<(Report, Vec<(ChainCert, ChainCert)>), ValidateError> {
    let now = options.at.unwrap_or_else(SystemTime::now);
    let signatures = inspect(xml, resolver)?;
    let mut missing = Vec::new();
    let mut reports = Vec::with_capacity(signatures.len());
    for s in &signatures {
        let embedded = Embedded {
            certs: s.certificates.clone(),
            ocsps: s.ocsps.clone(),
            crls: s
                .crls
                .iter()
                .filter_map(|d| Crl::from_der_or_pem(d).ok())
                .collect(),
        };
        let ev = Evidence::new(options, now, &embedded, fetched);
        reports.push(signature(s, &ev));
        for pair in ev.missing.into_inner() {
            if !missing.iter().any(|(c, i): &(ChainCert, ChainCert)| {
                c.der() == pair.0.der() && i.der() == pair.1.der()
            }) {
                missing.push(pair);
            }
        }
    }
    let report = Report {
        format: "XML".into(),
        validation_time: rfc3339(now),
        signatures: reports,
        revisions: Vec::new(),
        revisions_error: None,
    };
    Ok((report, missing))
}

/// The verdict on the references and the signature value.
fn integrity(
    s: &InspectedSignature,
    draft: &mut Draft,
) -> Result<(), (Indication, SubIndication, &'static str, String)> {
    let failure = match &s.integrity {
        Integrity::Intact => {
            draft.check(
                "references",
                true,
                format!(
                    "{} reference(s), each digests to its value",
                    s.references.len()
                ),
            );
            draft.check(
                "signature value",
                true,
                "verifies with the key of the signing certificate",
            );
            return Ok(());
        }
        Integrity::DataNotFound(why) => {
            return Err((
                Indication::Indeterminate,
                SubIndication::SignedDataNotFound,
                "references",
                why.clone(),
            ))
        }
        Integrity::Broken(f) => f,
    };
    Err(match failure {
        CheckFailure::Reference(what) => (
            Indication::TotalFailed,
            SubIndication::HashFailure,
            "references",
            format!("{what}: the digest does not match (the signed data was changed)"),
        ),
        CheckFailure::SignatureValue => (
            Indication::TotalFailed,
            SubIndication::SigCryptoFailure,
            "signature value",
            failure.to_string(),
        ),
        CheckFailure::Unchecked(_) if s.signing_certificate.cert().is_none() => (
            Indication::Indeterminate,
            SubIndication::NoSigningCertificateFound,
            "signing certificate",
            match &s.signing_certificate {
                SigningCertificate::Unmatched(why) => why.clone(),
                _ => "the signature carries no certificate to check it with".into(),
            },
        ),
        CheckFailure::Disallowed(why) => (
            Indication::Indeterminate,
            SubIndication::SigConstraintsFailure,
            "references",
            why.clone(),
        ),
        CheckFailure::Unchecked(why) => (
            Indication::Indeterminate,
            SubIndication::CryptoConstraintsFailureNoPoe,
            "references",
            format!("cannot be checked: {why}"),
        ),
        other => (
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            "form",
            other.to_string(),
        ),
    })
}

fn signature(s: &InspectedSignature, ev: &Evidence<'_>) -> SignatureReport {
    let mut draft = Draft::new(s.label.clone(), SignatureKind::Signature);
    draft.report.covers = s
        .references
        .iter()
        .map(|r| {
            if r.in_manifest {
                format!("{} (in a Manifest)", r.covers)
            } else {
                r.covers.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(claimed) = &s.signing_time {
        match signing_time(claimed) {
            Some(t) => draft.report.claimed_time = Some(rfc3339(t)),
            None => draft.check(
                "signing time",
                false,
                format!("SigningTime `{claimed}` is not a date and time"),
            ),
        }
    }
    if !s.structure.is_empty() {
        return draft.stop(
            Indication::TotalFailed,
            SubIndication::FormatFailure,
            "form",
            s.structure.join("; "),
        );
    }
    if let Err((i, sub, name, why)) = integrity(s, &mut draft) {
        return draft.stop(i, sub, name, why);
    }
    let signer = match &s.signing_certificate {
        SigningCertificate::Bound { cert, v2 } => {
            draft.check(
                "signing certificate",
                true,
                format!(
                    "{} is named by the signed {} property",
                    cert.subject(),
                    if *v2 {
                        "SigningCertificateV2"
                    } else {
                        "SigningCertificate"
                    }
                ),
            );
            cert.clone()
        }
        SigningCertificate::Absent(Some(cert)) => {
            draft.check(
                "signing certificate",
                false,
                "no signed property binds the certificate (the one in ds:KeyInfo is used): \
                 not a XAdES baseline signature",
            );
            cert.clone()
        }
        SigningCertificate::Unmatched(why) => {
            return draft.stop(
                Indication::Indeterminate,
                SubIndication::NoSigningCertificateFound,
                "signing certificate",
                why.clone(),
            )
        }
        _ => {
            return draft.stop(
                Indication::Indeterminate,
                SubIndication::NoSigningCertificateFound,
                "signing certificate",
                "the signature carries no certificate",
            )
        }
    };
    draft.report.signer = Some(signer.subject());
    let mut baseline = matches!(s.signing_certificate, SigningCertificate::Bound { .. })
        && s.xades_namespace.as_deref() == Some(XADES_NS)
        && s.signing_time.is_some()
        && s.not_baseline.is_empty();
    if let Some(ns) = s.xades_namespace.as_deref().filter(|ns| *ns != XADES_NS) {
        draft.check(
            "format",
            false,
            format!("qualifying properties in {ns}: an older XAdES, not a baseline signature"),
        );
    } else if s.xades_namespace.is_none() {
        draft.check(
            "format",
            false,
            "plain XMLDSig: no XAdES qualifying properties",
        );
    } else if s.signing_time.is_none() {
        baseline = false;
        draft.check(
            "format",
            false,
            "no SigningTime: not a XAdES baseline signature",
        );
    }
    for remark in &s.not_baseline {
        draft.check(
            "format",
            false,
            format!("{remark}: not a XAdES baseline signature"),
        );
    }

    // Proofs of existence: archive time-stamps (the last first: a later one proves an
    // earlier one), then signature time-stamps.
    let mut archive_times: Vec<SystemTime> = Vec::new();
    for stamp in s.archive_timestamps.iter().rev() {
        let later = archive_times.iter().copied().min();
        match stamp_time(ev, stamp, later, &mut draft) {
            Ok((t, _)) => archive_times.push(t),
            Err(why) => draft.check("archive time-stamp", false, why),
        }
    }
    let archived = archive_times.iter().copied().min();
    let mut proven: Option<SystemTime> = None;
    let mut by_signature_timestamp = false;
    // The signature time-stamps' TSA chains have their revocation data in the file.
    let mut timestamp_data = true;
    for stamp in &s.signature_timestamps {
        match stamp_time(ev, stamp, archived, &mut draft) {
            Ok((t, embedded)) => {
                proven = Some(proven.map_or(t, |p| p.min(t)));
                by_signature_timestamp = true;
                timestamp_data &= embedded;
            }
            Err(why) => draft.check("signature time-stamp", false, why),
        }
    }
    // An archive time-stamp cannot be older than the signature time-stamp it covers.
    if let (Some(sig_ts), Some(archive)) = (proven, archived) {
        if archive < sig_ts {
            return draft.stop(
                Indication::Indeterminate,
                SubIndication::TimestampOrderFailure,
                "time-stamp order",
                format!(
                    "the archive time-stamp ({}) is older than the signature time-stamp ({})",
                    rfc3339(archive),
                    rfc3339(sig_ts)
                ),
            );
        }
    }
    if let Some(t) = archived {
        draft.check(
            "archive time-stamp",
            true,
            format!(
                "an archive time-stamp of {} covers this signature",
                rfc3339(t)
            ),
        );
        proven = Some(proven.map_or(t, |p| p.min(t)));
    }
    draft.report.proven_time = proven.map(rfc3339);
    let all_embedded = match ev.signer_checks(&signer, &s.certificates, proven, &mut draft) {
        Ok(e) => e,
        Err((i, sub, name, why)) => return draft.stop(i, sub, name, why),
    };
    // Each level builds on the one below: no B-LT without a signature time-stamp.
    let level = if !baseline {
        None
    } else if !by_signature_timestamp {
        Some(Level::BB)
    } else if !all_embedded || !timestamp_data || !s.has_long_term_values {
        Some(Level::BT)
    } else if archived.is_some() {
        Some(Level::BLTA)
    } else {
        Some(Level::BLT)
    };
    draft.finish(level)
}

/// A time-stamp of the signature: its token over the octets it must cover, validated
/// as [`Evidence::timestamp`] does; its time.
fn stamp_time(
    ev: &Evidence<'_>,
    stamp: &StampInput,
    covered_later: Option<SystemTime>,
    draft: &mut Draft,
) -> Result<(SystemTime, bool), String> {
    let token = stamp.token.as_ref().map_err(Clone::clone)?;
    let covered = stamp
        .covered
        .as_ref()
        .map_err(|e| format!("what it covers cannot be computed: {e}"))?;
    let imprint = Digest::compute(token.imprint().algorithm(), covered);
    ev.timestamp(token, &imprint, covered_later, draft)
        .map_err(|(_, _, why)| why)
}

/// An `xs:dateTime` as written in SigningTime (a time without a zone is taken as UTC).
fn signing_time(text: &str) -> Option<SystemTime> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(&format!("{text}Z"), &Rfc3339))
        .ok()
        .map(SystemTime::from)
}
