//! Raising XAdES signatures of any producer to B-T, B-LT or B-LTA, after checking
//! each one: the time-stamps, the validation data and the archive time-stamp input.

use crate::located::{xades_signatures, Located};
use crate::pipeline::exclusive;
use crate::references::{canonical, child, children_named, element_children, reference_octets};
use crate::resolver::DetachedResolver;
use crate::unsigned::{
    certificate_values, new_id, revocation_values, timestamp_element, Working, XADES141_NS,
};
use crate::uris::{DS_NS, XADES_NS};
use crate::XadesError;
use shomei_core::chain::ChainCert;
use shomei_core::{Digest, DigestAlgorithm, Hasher, Level};
use shomei_levels::{
    add_chain, ExtendOptions, ExtensionReport, LtvServices, MissingData, Strictness, ValidationData,
};
use shomei_xml::{Document, NodeId, NodeKind};
use std::io::Write;

/// The result of an extension: the document and what was done (the same report as
/// PAdES extension).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Extension {
    /// The whole extended document.
    pub bytes: Vec<u8>,
    /// What was added, gaps allowed, signatures forced.
    pub report: ExtensionReport,
}

/// The digest a new archive time-stamp covers (EN 319 132-1 5.5.2, the
/// ArchiveTimeStamp to be appended as the last unsigned signature property): SHA-256
/// over the references' data, the canonical SignedInfo, SignatureValue and KeyInfo,
/// every unsigned signature property, and every ds:Object except the one with the
/// qualifying properties. Hashed as it is produced, never held whole.
pub(crate) fn archive_digest(
    work: &Working,
    at: Located,
    resolver: &dyn DetachedResolver,
) -> Result<Digest, XadesError> {
    // The signature just made, extended alone: the first Reference's octets (the
    // document or the detached data) were hashed while it was prepared.
    let (mut hasher, skip) = match &work.first_reference {
        Some(head) => (head.clone(), 1),
        None => (Hasher::new(DigestAlgorithm::Sha256), 0),
    };
    let method = exclusive();
    archive_input_into(&work.doc, at, resolver, &method, None, skip, &mut hasher)?;
    Ok(hasher.finish())
}

/// The input of an archive time-stamp canonicalized with `method`, with the unsigned
/// signature properties that precede `until` (an archive time-stamp being validated:
/// it covers what came before it).
pub(crate) fn archive_input_before(
    doc: &Document,
    at: Located,
    resolver: &dyn DetachedResolver,
    method: &shomei_xml::C14nMethod,
    until: Option<NodeId>,
) -> Result<Vec<u8>, XadesError> {
    let mut out = Vec::new();
    archive_input_into(doc, at, resolver, method, until, 0, &mut out)?;
    Ok(out)
}

/// Writes the input of an archive time-stamp to `out` (see [`archive_digest`]), leaving
/// out the octets of the first `skip` References (the caller wrote them already).
fn archive_input_into(
    doc: &Document,
    at: Located,
    resolver: &dyn DetachedResolver,
    method: &shomei_xml::C14nMethod,
    until: Option<NodeId>,
    skip: usize,
    out: &mut dyn Write,
) -> Result<(), XadesError> {
    let signed_info = child(doc, at.sig, DS_NS, "SignedInfo")
        .ok_or_else(|| XadesError::Unsupported("ds:Signature without SignedInfo".into()))?;
    for r in children_named(doc, signed_info, DS_NS, "Reference").skip(skip) {
        out.write_all(&reference_octets(doc, at.sig, r, resolver, method)?)?;
    }
    for name in ["SignedInfo", "SignatureValue", "KeyInfo"] {
        if let Some(e) = child(doc, at.sig, DS_NS, name) {
            out.write_all(&canonical(doc, e, method)?)?;
        }
    }
    if let Some(usp) = at.usp(doc) {
        for p in element_children(doc, usp) {
            if Some(p) == until {
                break;
            }
            out.write_all(&canonical(doc, p, method)?)?;
        }
    }
    for o in children_named(doc, at.sig, DS_NS, "Object") {
        if child(doc, o, XADES_NS, "QualifyingProperties").is_none() {
            out.write_all(&canonical(doc, o, method)?)?;
        }
    }
    Ok(())
}

/// Which signatures to extend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// Every XAdES signature of the document.
    All,
    /// The `ds:Signature` with this `Id`.
    Id(&'a str),
}

/// What an extension works with besides the document.
#[derive(Clone, Copy)]
pub(crate) struct ExtendContext<'a> {
    /// Time-stamping authority, revocation sources and clock.
    pub(crate) services: LtvServices<'a>,
    /// Where detached data comes from (for archive time-stamps).
    pub(crate) resolver: &'a dyn DetachedResolver,
    /// Extra certificates to complete chains with.
    pub(crate) extra_certs: &'a [ChainCert],
    /// How strictly certificate problems are treated.
    pub(crate) strictness: Strictness,
    /// The signer's chain and revocation data when already gathered (the signature just
    /// made, checked before signing); `None` = gather them from the signature.
    pub(crate) signer_data: Option<&'a ValidationData>,
    /// What to do when B-LT data cannot all be had (default: refuse).
    pub(crate) missing: MissingData,
    /// Extend signatures whose references or signature value do not verify (default:
    /// refuse them); each one extended anyway is listed in the report.
    pub(crate) force: bool,
    /// Check each signature before extending it (default). Off only for a signature
    /// just made and verified by this process.
    pub(crate) check_first: bool,
}

/// Raises every XAdES signature of `xml` (any producer) to `options.level` (B-T, B-LT
/// or B-LTA): the same shape as `shomei_pades::extend::extend`, with `resolver` for
/// detached data. Each signature is checked first (references, manifests, signature
/// value) and refused when broken unless `options.force`; B-LT data with gaps is
/// refused unless `MissingData::Allow`. Properties already present are kept; at B-LTA
/// a new archive time-stamp is added every time (renewal).
pub async fn extend(
    xml: &[u8],
    services: LtvServices<'_>,
    resolver: &dyn DetachedResolver,
    options: &ExtendOptions,
) -> Result<Extension, XadesError> {
    let cx = ExtendContext {
        services,
        resolver,
        extra_certs: &options.extra_certs,
        strictness: Strictness::Existing,
        signer_data: None,
        missing: options.missing,
        force: options.force,
        check_first: true,
    };
    extend_with(xml, options.level, Target::All, cx).await
}

/// [`extend`] for some signatures, with the context of the caller: the signature just
/// made passes its own chain and data and skips the check of its fresh value.
pub(crate) async fn extend_with(
    xml: &[u8],
    level: Level,
    target: Target<'_>,
    cx: ExtendContext<'_>,
) -> Result<Extension, XadesError> {
    let doc = Document::parse(xml)?;
    let all = xades_signatures(&doc);
    let indexes: Vec<usize> = match target {
        Target::All => (0..all.len()).collect(),
        Target::Id(id) => all
            .iter()
            .position(|s| doc.attribute(s.sig, None, "Id") == Some(id))
            .into_iter()
            .collect(),
    };
    if indexes.is_empty() {
        // Older XAdES versions use other namespaces; say so rather than "none found".
        let older = doc
            .descendants(doc.root())
            .into_iter()
            .find_map(|n| match doc.kind(n) {
                Some(NodeKind::Element {
                    local_name: "QualifyingProperties",
                    namespace: Some(ns),
                    ..
                }) if ns != XADES_NS => Some(ns.to_owned()),
                _ => None,
            });
        return Err(XadesError::Options(match older {
            Some(ns) => format!(
                "the signature's qualifying properties are in namespace {ns}: only XAdES \
                 1.3.2 / ETSI EN 319 132 signatures ({XADES_NS}) can be extended"
            ),
            None => {
                "no XAdES signature (ds:Signature with xades:QualifyingProperties) found".into()
            }
        }));
    }
    let mut work = Working::whole(xml.to_vec(), doc);
    let mut ext = Extension {
        bytes: Vec::new(),
        report: ExtensionReport::default(),
    };
    // A broken signature is never time-stamped or archived (unless forced).
    if cx.check_first {
        for index in &indexes {
            let (id, verdict) = check_one(&work.doc, *index, cx.resolver, cx.extra_certs)?;
            if let Err(failure) = verdict {
                if !cx.force {
                    return Err(XadesError::BrokenSignature { id, failure });
                }
                ext.report
                    .forced
                    .push(format!("signature `{id}`: {failure}"));
            }
        }
    }
    for index in indexes {
        extend_one(&mut work, &mut ext, index, level, cx).await?;
    }
    ext.bytes = work.bytes;
    Ok(ext)
}

/// The verdict on XAdES signature `index` of `doc`, with its label.
pub(crate) fn check_one(
    doc: &Document,
    index: usize,
    resolver: &dyn DetachedResolver,
    extra_certs: &[ChainCert],
) -> Result<(String, crate::check::Verdict), XadesError> {
    let at = xades_signatures(doc)
        .get(index)
        .copied()
        .ok_or_else(|| XadesError::Unsupported("the signature disappeared".into()))?;
    let id = signature_label(doc, at.sig, index);
    let mut pool = at.cert_pool(doc)?;
    pool.extend_from_slice(extra_certs);
    let verdict = match at.signer(doc, &pool) {
        Some(signer) => crate::check::check_signature(doc, at.sig, &signer, resolver)?,
        None => Err(crate::check::CheckFailure::Unchecked(
            "the signing certificate is not in the signature".into(),
        )),
    };
    Ok((id, verdict))
}

/// Checks every XAdES signature of `xml` (not nested counter-signatures): each
/// Reference, the References of the Manifests it signs, and the SignatureValue with
/// the signer's certificate (SigningCertificate(V2), else the first in `ds:KeyInfo`).
/// One entry per signature: its Id (or position) and the verdict. `Err` means the
/// document could not be read (or detached data could not be had).
pub fn check_signatures(
    xml: &[u8],
    resolver: &dyn DetachedResolver,
    extra_certs: &[ChainCert],
) -> Result<Vec<(String, crate::check::Verdict)>, XadesError> {
    let doc = Document::parse(xml)?;
    (0..xades_signatures(&doc).len())
        .map(|i| check_one(&doc, i, resolver, extra_certs))
        .collect()
}

/// A signature's Id, or its position (`2`) when it has none.
pub(crate) fn signature_label(doc: &Document, sig: NodeId, index: usize) -> String {
    doc.attribute(sig, None, "Id")
        .map_or_else(|| format!("{}", index + 1), str::to_owned)
}

pub(crate) async fn extend_one(
    work: &mut Working,
    ext: &mut Extension,
    index: usize,
    level: Level,
    cx: ExtendContext<'_>,
) -> Result<(), XadesError> {
    let tsa = cx.services.tsa;
    let s = cx.services;
    let at = work.at(index)?;
    let label = format!("signature {}", signature_label(&work.doc, at.sig, index));

    if level >= Level::BT
        && at
            .properties(&work.doc, XADES_NS, "SignatureTimeStamp")
            .is_empty()
    {
        let value = canonical(&work.doc, at.signature_value(&work.doc)?, &exclusive())?;
        let token = tsa
            .timestamp(&Digest::compute(DigestAlgorithm::Sha256, &value))
            .await?;
        let id = new_id(work, at, "sigts")?;
        let frag = timestamp_element(XADES_NS, "xades", "SignatureTimeStamp", &id, token.der());
        work.append(index, &frag, &id)?;
        ext.report
            .steps
            .push(format!("{label}: signature time-stamp (B-T)"));
    }

    let (doc, at) = (&work.doc, work.at(index)?);
    let has_lt = !at.properties(doc, XADES_NS, "CertificateValues").is_empty()
        && !at.properties(doc, XADES_NS, "RevocationValues").is_empty();
    if level >= Level::BLT && !has_lt {
        let mut pool = at.cert_pool(doc)?;
        pool.extend_from_slice(cx.extra_certs);
        let mut data = match cx.signer_data {
            Some(known) => known.clone(),
            None => {
                let signer = at.signer(doc, &pool).ok_or_else(|| {
                    XadesError::Unsupported(
                        "the signing certificate is not in the signature".into(),
                    )
                })?;
                let mut data = ValidationData::default();
                add_chain(
                    &mut data,
                    &signer,
                    &pool,
                    s.revocation,
                    s.clock,
                    cx.strictness,
                )
                .await?;
                data
            }
        };
        for token in at.timestamp_tokens(doc, XADES_NS, "SignatureTimeStamp", &mut data.warnings) {
            let mut tpool = token.certificates();
            tpool.extend_from_slice(&pool);
            if let Some(tsa_cert) = token.signer_cert_with(&tpool) {
                add_chain(
                    &mut data,
                    &tsa_cert,
                    &tpool,
                    s.revocation,
                    s.clock,
                    cx.strictness,
                )
                .await?;
            }
        }
        // Refused unless allowed: a B-LT claim without the data would overstate.
        cx.missing.check(level, &data)?;
        if !data.warnings.is_empty() {
            ext.report.incomplete = true;
        }
        ext.report.warnings.append(&mut data.warnings);
        let certs = data.without(&at.present(doc)?).certs;
        let cv_id = new_id(work, at, "certs")?;
        let rv_id = new_id(work, at, "revocation")?;
        // An empty CertificateValues or RevocationValues would claim data that is not
        // there: an element is written only with content.
        let mut frag = String::new();
        let mut first_id = None;
        if !certs.is_empty() {
            frag.push_str(&certificate_values(Some(&cv_id), &certs, true));
            first_id = Some(&cv_id);
        }
        if !data.ocsps.is_empty() || !data.crls.is_empty() {
            frag.push_str(&revocation_values(Some(&rv_id), &data, true));
            first_id = first_id.or(Some(&rv_id));
        }
        if let Some(id) = first_id {
            work.append(index, &frag, id)?;
        }
        ext.report.steps.push(format!(
            "{label}: {} certificates, {} OCSP responses, {} CRLs (B-LT)",
            certs.len(),
            data.ocsps.len(),
            data.crls.len()
        ));
    }

    if level == Level::BLTA {
        let at = work.at(index)?;
        let token = tsa
            .timestamp(&archive_digest(work, at, cx.resolver)?)
            .await?;
        let id = new_id(work, at, "archivets")?;
        let frag = timestamp_element(
            XADES141_NS,
            "xades141",
            "ArchiveTimeStamp",
            &id,
            token.der(),
        );
        work.append(index, &frag, &id)?;
        ext.report
            .steps
            .push(format!("{label}: archive time-stamp (B-LTA)"));

        // Validation data for the archive time-stamp itself, after it.
        let (doc, at) = (&work.doc, work.at(index)?);
        let mut pool = token.certificates();
        pool.extend(at.cert_pool(doc)?);
        pool.extend_from_slice(cx.extra_certs);
        if let Some(tsa_cert) = token.signer_cert_with(&pool) {
            let mut data = ValidationData::default();
            add_chain(
                &mut data,
                &tsa_cert,
                &pool,
                s.revocation,
                s.clock,
                Strictness::Existing,
            )
            .await?;
            ext.report.warnings.append(&mut data.warnings);
            let new = data.without(&at.present(doc)?);
            if !new.is_empty() {
                let id = new_id(work, at, "tsvd")?;
                let mut inner = String::new();
                if !new.certs.is_empty() {
                    inner.push_str(&certificate_values(None, &new.certs, false));
                }
                if !new.ocsps.is_empty() || !new.crls.is_empty() {
                    inner.push_str(&revocation_values(None, &new, false));
                }
                let frag = format!(
                    "<xades141:TimeStampValidationData xmlns:xades141=\"{XADES141_NS}\" \
                     xmlns:xades=\"{XADES_NS}\" Id=\"{id}\">{inner}\
                     </xades141:TimeStampValidationData>"
                );
                work.append(index, &frag, &id)?;
                ext.report.steps.push(format!(
                    "{label}: validation data of the archive time-stamp"
                ));
            }
        }
    }
    Ok(())
}
