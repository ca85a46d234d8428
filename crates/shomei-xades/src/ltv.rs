//! Long-term levels (ETSI EN 319 132-1 6.3) for the signature being made and for XAdES
//! signatures of any producer: B-T adds `xades:SignatureTimeStamp`, B-LT adds
//! `xades:CertificateValues` and `xades:RevocationValues` (the signer's chain and the
//! chains of the signature time-stamps), B-LTA adds `xades141:ArchiveTimeStamp` followed
//! by `xades141:TimeStampValidationData` for the archive time-stamp's own chain.
//!
//! New properties are spliced into the original bytes before the end tag of
//! `xades:UnsignedSignatureProperties` (created if missing); nothing else of the
//! document changes. Each new element declares the namespaces it uses, so the prefixes
//! the producer chose do not matter. Time-stamps and revocation data come through
//! traits; this module never opens a socket, and detached data is read only through the
//! caller's [`DetachedResolver`].

pub use crate::pipeline::check_relative_uri;
use crate::pipeline::{b64, exclusive};
use crate::references::{
    canonical, child, children_named, decode_b64, descendants_named, digest_from_uri,
    element_children, element_named, reference_octets,
};
use crate::uris::{DS_NS, XADES_NS};
use crate::XadesError;
use shomei_core::chain::ChainCert;
use shomei_core::{Digest, DigestAlgorithm, Level};
use shomei_levels::{add_chain, LtvServices, MissingData, Strictness, ValidationData};
use shomei_tsp::TimestampToken;
use shomei_xml::{Document, NodeId, NodeKind};

/// The XAdES 1.4.1 namespace (`ArchiveTimeStamp`, `TimeStampValidationData`).
pub const XADES141_NS: &str = "http://uri.etsi.org/01903/v1.4.1#";

/// Gives the bytes of detached data a signature names by relative URI. The caller
/// decides where they may come from; the library never fetches anything itself.
pub trait DetachedResolver: Send + Sync {
    /// The bytes `uri` names.
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError>;
}

/// Refuses every detached reference (for documents whose references are all internal).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDetachedData;

impl DetachedResolver for NoDetachedData {
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError> {
        Err(XadesError::Options(format!(
            "the signature refers to detached data `{uri}`, and no place to read it from \
             was given"
        )))
    }
}

/// Detached data held in memory under one URI (the data just signed).
#[derive(Debug, Clone)]
pub struct InMemoryData {
    /// The URI the signature uses.
    pub uri: String,
    /// The data.
    pub data: Vec<u8>,
}

impl DetachedResolver for InMemoryData {
    fn resolve(&self, uri: &str) -> Result<Vec<u8>, XadesError> {
        if uri == self.uri {
            Ok(self.data.clone())
        } else {
            NoDetachedData.resolve(uri)
        }
    }
}

/// The result of an extension.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Extension {
    /// The whole extended document.
    pub bytes: Vec<u8>,
    /// What was added, in order (empty when the document already had the level).
    pub steps: Vec<String>,
    /// Gaps that did not stop the extension ([`Strictness::Existing`] only).
    pub warnings: Vec<String>,
    /// True when a B-LT step was written with gaps ([`MissingData::Allow`]): the
    /// level is claimed without all its validation data, and the caller must say so.
    pub incomplete: bool,
    /// Signatures that did not verify and were extended anyway
    /// ([`ExtendContext::force`]), each with what failed.
    pub forced: Vec<String>,
}

/// One XAdES signature of a document: the `ds:Signature` and its
/// `xades:QualifyingProperties`.
#[derive(Debug, Clone, Copy)]
struct Located {
    sig: NodeId,
    qp: NodeId,
}

/// Every `ds:Signature` with XAdES qualifying properties that is not inside another
/// signature (a counter-signature belongs to its master's unsigned properties, which the
/// master's archive time-stamp covers), in document order.
fn xades_signatures(doc: &Document) -> Vec<Located> {
    let inside_signature = |mut n: NodeId| {
        while let Some(p) = doc.parent(n) {
            if element_named(doc, p, DS_NS, "Signature") {
                return true;
            }
            n = p;
        }
        false
    };
    doc.elements_by_name(Some(DS_NS), "Signature")
        .into_iter()
        .filter(|sig| !inside_signature(*sig))
        .filter_map(|sig| {
            children_named(doc, sig, DS_NS, "Object")
                .find_map(|o| child(doc, o, XADES_NS, "QualifyingProperties"))
                .map(|qp| Located { sig, qp })
        })
        .collect()
}

impl Located {
    fn usp(&self, doc: &Document) -> Option<NodeId> {
        child(doc, self.qp, XADES_NS, "UnsignedProperties")
            .and_then(|up| child(doc, up, XADES_NS, "UnsignedSignatureProperties"))
    }

    fn properties<'d>(&self, doc: &'d Document, ns: &'d str, local: &'d str) -> Vec<NodeId> {
        self.usp(doc)
            .map(|usp| children_named(doc, usp, ns, local).collect())
            .unwrap_or_default()
    }

    fn signature_value(&self, doc: &Document) -> Result<NodeId, XadesError> {
        child(doc, self.sig, DS_NS, "SignatureValue")
            .ok_or_else(|| XadesError::Unsupported("ds:Signature without SignatureValue".into()))
    }

    /// A short, stable seed for the Ids of new properties.
    fn seed(&self, doc: &Document) -> String {
        let value = self
            .signature_value(doc)
            .map(|v| doc.text_content(v))
            .unwrap_or_default();
        Digest::compute(DigestAlgorithm::Sha256, value.as_bytes()).to_hex()
    }

    /// Certificates in `ds:KeyInfo` (in order).
    fn key_info_certs(&self, doc: &Document) -> Result<Vec<ChainCert>, XadesError> {
        let mut out = Vec::new();
        if let Some(ki) = child(doc, self.sig, DS_NS, "KeyInfo") {
            for c in descendants_named(doc, ki, DS_NS, "X509Certificate") {
                out.push(ChainCert::from_der(&decode_b64(doc, c)?)?);
            }
        }
        Ok(out)
    }

    /// Every certificate the signature carries (`ds:KeyInfo` first, then those in its
    /// unsigned properties): where chains are completed from before AIA is tried.
    fn cert_pool(&self, doc: &Document) -> Result<Vec<ChainCert>, XadesError> {
        let mut pool = self.key_info_certs(doc)?;
        for der in self.present(doc)?.certs {
            if !pool.iter().any(|c| c.der() == der.as_slice()) {
                if let Ok(c) = ChainCert::from_der(&der) {
                    pool.push(c);
                }
            }
        }
        Ok(pool)
    }

    /// Every certificate, OCSP response and CRL already stored in the signature.
    fn present(&self, doc: &Document) -> Result<ValidationData, XadesError> {
        let mut present = ValidationData::default();
        for c in self.key_info_certs(doc)? {
            present.certs.push(c.der().to_vec());
        }
        if let Some(usp) = self.usp(doc) {
            for (local, list) in [
                ("EncapsulatedX509Certificate", &mut present.certs),
                ("EncapsulatedOCSPValue", &mut present.ocsps),
                ("EncapsulatedCRLValue", &mut present.crls),
            ] {
                for e in descendants_named(doc, usp, XADES_NS, local) {
                    list.push(decode_b64(doc, e)?);
                }
            }
        }
        Ok(present)
    }

    /// The signing certificate: the embedded certificate whose digest the
    /// `SigningCertificateV2` (or v1) property names; else the first in `ds:KeyInfo`.
    fn signer(&self, doc: &Document, pool: &[ChainCert]) -> Option<ChainCert> {
        let named = doc
            .descendants(self.qp)
            .into_iter()
            .filter(|n| element_named(doc, *n, XADES_NS, "CertDigest"))
            .filter_map(|cd| {
                let method = child(doc, cd, DS_NS, "DigestMethod")?;
                let alg = digest_from_uri(doc.attribute(method, None, "Algorithm")?)?;
                let value = decode_b64(doc, child(doc, cd, DS_NS, "DigestValue")?).ok()?;
                pool.iter()
                    .find(|c| Digest::compute(alg, c.der()).as_bytes() == value.as_slice())
                    .cloned()
            })
            .next();
        named.or_else(|| pool.first().cloned())
    }

    /// The tokens of the time-stamp properties `ns:local`; unreadable ones (other
    /// producers' tokens with a SHA-1 imprint, damaged ones) become warnings.
    fn timestamp_tokens(
        &self,
        doc: &Document,
        ns: &str,
        local: &str,
        warnings: &mut Vec<String>,
    ) -> Vec<TimestampToken> {
        let mut out = Vec::new();
        for ts in self.properties(doc, ns, local) {
            let Some(enc) = child(doc, ts, XADES_NS, "EncapsulatedTimeStamp") else {
                continue;
            };
            match decode_b64(doc, enc).and_then(|der| Ok(TimestampToken::from_ber(&der)?)) {
                Ok(t) => out.push(t),
                Err(e) => warnings.push(format!(
                    "{local}: token not usable, its TSA chain gets no validation data: {e}"
                )),
            }
        }
        out
    }
}

/// The input of a new archive time-stamp (EN 319 132-1 5.5.2, the ArchiveTimeStamp to
/// be appended as the last unsigned signature property): the references' data, the
/// canonical SignedInfo, SignatureValue and KeyInfo, every unsigned signature property,
/// and every ds:Object except the one with the qualifying properties.
fn archive_input(
    doc: &Document,
    at: Located,
    resolver: &dyn DetachedResolver,
) -> Result<Vec<u8>, XadesError> {
    let method = exclusive();
    let mut out = Vec::new();
    let signed_info = child(doc, at.sig, DS_NS, "SignedInfo")
        .ok_or_else(|| XadesError::Unsupported("ds:Signature without SignedInfo".into()))?;
    for r in children_named(doc, signed_info, DS_NS, "Reference") {
        out.extend(reference_octets(doc, at.sig, r, resolver, &method)?);
    }
    for name in ["SignedInfo", "SignatureValue", "KeyInfo"] {
        if let Some(e) = child(doc, at.sig, DS_NS, name) {
            out.extend(canonical(doc, e, &method)?);
        }
    }
    if let Some(usp) = at.usp(doc) {
        for p in element_children(doc, usp) {
            out.extend(canonical(doc, p, &method)?);
        }
    }
    for o in children_named(doc, at.sig, DS_NS, "Object") {
        if child(doc, o, XADES_NS, "QualifyingProperties").is_none() {
            out.extend(canonical(doc, o, &method)?);
        }
    }
    Ok(out)
}

fn is_ascii_compatible(doc: &Document) -> bool {
    doc.declared_encoding()
        .is_none_or(|l| !l.to_ascii_lowercase().starts_with("utf-16"))
}

/// The byte offset of the end tag of `node` in `bytes` (the parse of which is `doc`).
/// Counts the end tags with the same name; the caller checks the result by parsing it.
fn end_tag_offset(bytes: &[u8], doc: &Document, node: NodeId) -> Result<usize, XadesError> {
    let not_found =
        || XadesError::Unsupported("could not locate the unsigned properties in the bytes".into());
    let Some(NodeKind::Element {
        prefix, local_name, ..
    }) = doc.kind(node)
    else {
        return Err(not_found());
    };
    let qname = match prefix {
        Some(p) => format!("{p}:{local_name}"),
        None => local_name.to_owned(),
    };
    if !qname.is_ascii() || !is_ascii_compatible(doc) {
        return Err(XadesError::Unsupported(
            "extending a signature in a UTF-16 document or with non-ASCII element names".into(),
        ));
    }
    let same_name_before = doc
        .descendants(doc.root())
        .into_iter()
        .take_while(|n| *n != node)
        .filter(|n| {
            matches!(doc.kind(*n), Some(NodeKind::Element { prefix: p, local_name: l, .. })
                if p == prefix && l == local_name)
        })
        .count();
    // Walk the start and end tags with this name in byte order, pairing them with a
    // stack (same-name elements may nest, as in counter-signatures); the element that is
    // the n-th start tag ends at its paired end tag.
    let open = format!("<{qname}");
    let close = format!("</{qname}");
    let boundary = |at: usize| {
        matches!(
            bytes.get(at).copied(),
            Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')
        )
    };
    let mut starts_seen = 0usize;
    let mut stack: Vec<usize> = Vec::new();
    let mut at = 0usize;
    while let Some(pos) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|b| *b == b'<'))
    {
        let here = at + pos;
        let rest = bytes.get(here..).unwrap_or_default();
        if rest.starts_with(close.as_bytes()) && boundary(here + close.len()) {
            if stack.pop() == Some(same_name_before) {
                return Ok(here);
            }
        } else if rest.starts_with(open.as_bytes()) && boundary(here + open.len()) {
            let gt = rest.iter().position(|b| *b == b'>').ok_or_else(not_found)?;
            let self_closed = gt > 0 && rest.get(gt - 1) == Some(&b'/');
            if !self_closed {
                stack.push(starts_seen);
            }
            starts_seen += 1;
        }
        at = here + 1;
    }
    Err(not_found())
}

/// The document being extended, with its parse: every splice re-parses once, and that
/// parse both checks the splice and serves the next step.
struct Working {
    bytes: Vec<u8>,
    doc: Document,
}

impl Working {
    /// XAdES signature `index` of the current document.
    fn at(&self, index: usize) -> Result<Located, XadesError> {
        xades_signatures(&self.doc)
            .get(index)
            .copied()
            .ok_or_else(|| XadesError::Unsupported("the signature disappeared".into()))
    }

    /// Appends `fragment` (elements that declare their own namespaces; the first carries
    /// `Id="{id}"`) as the last unsigned signature properties of signature `index`.
    fn append(&mut self, index: usize, fragment: &str, id: &str) -> Result<(), XadesError> {
        let (bytes, doc) = (&self.bytes, &self.doc);
        let at = self.at(index)?;
        let (offset, text) = if let Some(usp) = at.usp(doc) {
            (end_tag_offset(bytes, doc, usp)?, fragment.to_owned())
        } else if child(doc, at.qp, XADES_NS, "UnsignedProperties").is_some() {
            return Err(XadesError::Unsupported(
                "xades:UnsignedProperties without UnsignedSignatureProperties".into(),
            ));
        } else {
            (
                end_tag_offset(bytes, doc, at.qp)?,
                format!(
                    "<xades:UnsignedProperties xmlns:xades=\"{XADES_NS}\">\
                     <xades:UnsignedSignatureProperties>{fragment}\
                     </xades:UnsignedSignatureProperties></xades:UnsignedProperties>"
                ),
            )
        };
        let mut out = Vec::with_capacity(bytes.len() + text.len());
        out.extend_from_slice(bytes.get(..offset).unwrap_or_default());
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(bytes.get(offset..).unwrap_or_default());
        // Check that the new element landed where it belongs.
        let check = Document::parse(&out)?;
        let placed = check.find_by_id(id)?.and_then(|n| check.parent(n));
        let expected = xades_signatures(&check)
            .get(index)
            .and_then(|s| s.usp(&check));
        if placed.is_none() || placed != expected {
            return Err(XadesError::Unsupported(
                "could not place the new unsigned properties".into(),
            ));
        }
        self.bytes = out;
        self.doc = check;
        Ok(())
    }
}

/// A fresh Id for a new property of the signature.
fn new_id(doc: &Document, at: Located, kind: &str) -> Result<String, XadesError> {
    let seed = at.seed(doc);
    for n in 0u32..64 {
        let h = Digest::compute(
            DigestAlgorithm::Sha256,
            format!("{seed}{kind}{n}").as_bytes(),
        )
        .to_hex();
        let id = format!("id-{kind}-{}", h.get(..16).unwrap_or(&h));
        if doc.find_by_id(&id)?.is_none() {
            return Ok(id);
        }
    }
    Err(XadesError::Unsupported("no free Id".into()))
}

fn timestamp_element(ns: &str, prefix: &str, local: &str, id: &str, token: &[u8]) -> String {
    let exc = crate::uris::EXC_C14N;
    let own = if prefix == "xades" {
        String::new()
    } else {
        format!(" xmlns:{prefix}=\"{ns}\"")
    };
    format!(
        "<{prefix}:{local}{own} xmlns:xades=\"{XADES_NS}\" \
         xmlns:ds=\"{DS_NS}\" Id=\"{id}\"><ds:CanonicalizationMethod Algorithm=\"{exc}\">\
         </ds:CanonicalizationMethod><xades:EncapsulatedTimeStamp>{}\
         </xades:EncapsulatedTimeStamp></{prefix}:{local}>",
        b64(token)
    )
}

fn encapsulated(local: &str, items: &[Vec<u8>]) -> String {
    items
        .iter()
        .map(|i| format!("<xades:{local}>{}</xades:{local}>", b64(i)))
        .collect()
}

fn certificate_values(id: Option<&str>, certs: &[Vec<u8>], declare: bool) -> String {
    format!(
        "<xades:CertificateValues{}{}>{}</xades:CertificateValues>",
        if declare {
            format!(" xmlns:xades=\"{XADES_NS}\"")
        } else {
            String::new()
        },
        id.map(|i| format!(" Id=\"{i}\"")).unwrap_or_default(),
        encapsulated("EncapsulatedX509Certificate", certs)
    )
}

fn revocation_values(id: Option<&str>, data: &ValidationData, declare: bool) -> String {
    let mut inner = String::new();
    if !data.crls.is_empty() {
        inner.push_str(&format!(
            "<xades:CRLValues>{}</xades:CRLValues>",
            encapsulated("EncapsulatedCRLValue", &data.crls)
        ));
    }
    if !data.ocsps.is_empty() {
        inner.push_str(&format!(
            "<xades:OCSPValues>{}</xades:OCSPValues>",
            encapsulated("EncapsulatedOCSPValue", &data.ocsps)
        ));
    }
    format!(
        "<xades:RevocationValues{}{}>{inner}</xades:RevocationValues>",
        if declare {
            format!(" xmlns:xades=\"{XADES_NS}\"")
        } else {
            String::new()
        },
        id.map(|i| format!(" Id=\"{i}\"")).unwrap_or_default(),
    )
}

/// Which signatures to extend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target<'a> {
    /// Every XAdES signature of the document.
    All,
    /// The `ds:Signature` with this `Id`.
    Id(&'a str),
}

/// What the caller supplies besides the document.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct ExtendContext<'a> {
    /// Time-stamping authority, revocation sources and clock.
    pub services: LtvServices<'a>,
    /// Where detached data comes from (for archive time-stamps).
    pub resolver: &'a dyn DetachedResolver,
    /// Extra certificates to complete chains with.
    pub extra_certs: &'a [ChainCert],
    /// How strictly certificate problems are treated.
    pub strictness: Strictness,
    /// The signer's chain and revocation data when already gathered (the signature just
    /// made, checked before signing); `None` = gather them from the signature.
    pub signer_data: Option<&'a ValidationData>,
    /// What to do when B-LT data cannot all be had (default: refuse).
    pub missing: MissingData,
    /// Extend signatures whose references or signature value do not verify (default:
    /// refuse them); each one extended anyway is listed in [`Extension::forced`].
    pub force: bool,
    /// Check each signature before extending it (default). Off only for a signature
    /// just made and verified by this process.
    pub check_first: bool,
}

impl<'a> ExtendContext<'a> {
    /// A context for signatures already made by anyone ([`Strictness::Existing`], no
    /// extra certificates).
    pub fn new(services: LtvServices<'a>, resolver: &'a dyn DetachedResolver) -> Self {
        Self {
            services,
            resolver,
            extra_certs: &[],
            strictness: Strictness::Existing,
            signer_data: None,
            missing: MissingData::Refuse,
            force: false,
            check_first: true,
        }
    }
}

/// Raises XAdES signatures of `xml` to `level` (B-T, B-LT or B-LTA). Properties already
/// present are kept; at B-LTA a new archive time-stamp is added every time (renewal).
pub async fn extend(
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
    let mut work = Working {
        bytes: xml.to_vec(),
        doc,
    };
    let mut ext = Extension {
        bytes: Vec::new(),
        steps: Vec::new(),
        warnings: Vec::new(),
        incomplete: false,
        forced: Vec::new(),
    };
    // A broken signature is never time-stamped or archived (unless forced).
    if cx.check_first {
        for index in &indexes {
            let (id, verdict) = check_one(&work.doc, *index, cx.resolver, cx.extra_certs)?;
            if let Err(failure) = verdict {
                if !cx.force {
                    return Err(XadesError::BrokenSignature { id, failure });
                }
                ext.forced.push(format!("signature `{id}`: {failure}"));
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
fn check_one(
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
fn signature_label(doc: &Document, sig: NodeId, index: usize) -> String {
    doc.attribute(sig, None, "Id")
        .map_or_else(|| format!("{}", index + 1), str::to_owned)
}

async fn extend_one(
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
        let id = new_id(&work.doc, at, "sigts")?;
        let frag = timestamp_element(XADES_NS, "xades", "SignatureTimeStamp", &id, token.der());
        work.append(index, &frag, &id)?;
        ext.steps
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
            ext.incomplete = true;
        }
        ext.warnings.append(&mut data.warnings);
        let certs = data.without(&at.present(doc)?).certs;
        let cv_id = new_id(doc, at, "certs")?;
        let rv_id = new_id(doc, at, "revocation")?;
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
        ext.steps.push(format!(
            "{label}: {} certificates, {} OCSP responses, {} CRLs (B-LT)",
            certs.len(),
            data.ocsps.len(),
            data.crls.len()
        ));
    }

    if level == Level::BLTA {
        let at = work.at(index)?;
        let input = archive_input(&work.doc, at, cx.resolver)?;
        let token = tsa
            .timestamp(&Digest::compute(DigestAlgorithm::Sha256, &input))
            .await?;
        let id = new_id(&work.doc, at, "archivets")?;
        let frag = timestamp_element(
            XADES141_NS,
            "xades141",
            "ArchiveTimeStamp",
            &id,
            token.der(),
        );
        work.append(index, &frag, &id)?;
        ext.steps
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
            ext.warnings.append(&mut data.warnings);
            let new = data.without(&at.present(doc)?);
            if !new.is_empty() {
                let id = new_id(doc, at, "tsvd")?;
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
                ext.steps.push(format!(
                    "{label}: validation data of the archive time-stamp"
                ));
            }
        }
    }
    Ok(())
}

/// Signs `data` at `level`: B-B through [`crate::prepare`], then the long-term
/// properties through [`extend`] for the new signature only. At B-LT a revoked, expired
/// or not-yet-valid signer is refused before anything is signed.
pub async fn sign_xml_at_level(
    signer: &dyn shomei_core::RemoteSigner,
    data: &[u8],
    options: &crate::XadesOptions,
    level: Level,
    services: Option<LtvServices<'_>>,
) -> Result<Vec<u8>, XadesError> {
    let docs = [BatchDocument { data, options }];
    let mut results = sign_xml_batch_at_level(signer, &docs, level, services, &mut |_| {}).await?;
    results
        .pop()
        .unwrap_or_else(|| Err(XadesError::Unsupported("internal: no result".into())))
}

/// One document of a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchDocument<'a> {
    /// The document (or, detached, the data).
    pub data: &'a [u8],
    /// How to sign it.
    pub options: &'a crate::XadesOptions,
}

/// Signs every document at `level` with **one** call to
/// [`shomei_core::RemoteSigner::sign_digests`] per signature algorithm (one, unless the
/// options differ in digest or padding) — one authorization at a remote signing service
/// (CSC: one SAD for N hashes). Returns one result per document, in order: a document
/// that cannot be prepared or extended fails alone. `done(i)` is called as each
/// document is finished (or has failed).
pub async fn sign_xml_batch_at_level(
    signer: &dyn shomei_core::RemoteSigner,
    docs: &[BatchDocument<'_>],
    level: Level,
    services: Option<LtvServices<'_>>,
    done: &mut (dyn FnMut(usize) + Send),
) -> Result<Vec<Result<Vec<u8>, XadesError>>, XadesError> {
    let services =
        shomei_levels::services_for_level(level, services).map_err(XadesError::Options)?;
    let description = signer.describe().await?;
    let mut results: Vec<Result<Vec<u8>, XadesError>> = Vec::with_capacity(docs.len());
    let mut prepared = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        match crate::prepare(doc.data, &description, doc.options) {
            Ok(p) => {
                prepared.push((i, p));
                results.push(Ok(Vec::new()));
            }
            Err(e) => {
                results.push(Err(e));
                done(i);
            }
        }
    }
    if prepared.is_empty() {
        return Ok(results);
    }
    // After the inputs are read (a damaged input costs no request) and before anything
    // is signed: refuses a revoked, expired or not-yet-valid signer; the data gathered
    // serves every document's B-LT step.
    let signer_data =
        shomei_levels::new_signer_data(level, services.as_ref(), &description.chain).await?;
    // One sign_digests call per algorithm, in first-seen order.
    let mut algorithms: Vec<shomei_core::SignatureAlgorithm> = Vec::new();
    for (_, p) in &prepared {
        if !algorithms.contains(&p.signature_algorithm()) {
            algorithms.push(p.signature_algorithm());
        }
    }
    let mut values = Vec::with_capacity(prepared.len());
    for alg in algorithms {
        let group: Vec<usize> = (0..prepared.len())
            .filter(|k| {
                prepared
                    .get(*k)
                    .is_some_and(|(_, p)| p.signature_algorithm() == alg)
            })
            .collect();
        let digests: Vec<Digest> = group
            .iter()
            .filter_map(|k| prepared.get(*k).map(|(_, p)| p.digest_to_sign()))
            .collect();
        let signed = signer.sign_digests(alg, &digests).await?;
        if signed.len() != digests.len() {
            return Err(shomei_core::SignerError::CountMismatch {
                sent: digests.len(),
                got: signed.len(),
            }
            .into());
        }
        values.extend(group.into_iter().zip(signed));
    }
    values.sort_by_key(|(k, _)| *k);
    for ((i, p), (_, value)) in prepared.iter().zip(values) {
        let Some(doc) = docs.get(*i) else { continue };
        let outcome =
            finish_and_extend(p, doc, &value, level, services, &description, &signer_data).await;
        if let Some(slot) = results.get_mut(*i) {
            *slot = outcome;
        }
        done(*i);
    }
    Ok(results)
}

async fn finish_and_extend(
    prepared: &crate::Prepared,
    doc: &BatchDocument<'_>,
    value: &shomei_core::SignatureValue,
    level: Level,
    services: Option<LtvServices<'_>>,
    description: &shomei_core::SignerDescription,
    signer_data: &ValidationData,
) -> Result<Vec<u8>, XadesError> {
    let signed = prepared.finish(doc.data, value)?;
    let Some(services) = services else {
        return Ok(signed);
    };
    let in_memory;
    let resolver: &dyn DetachedResolver = match &doc.options.packaging {
        crate::Packaging::Detached { uri } => {
            in_memory = InMemoryData {
                uri: uri.clone(),
                data: doc.data.to_vec(),
            };
            &in_memory
        }
        _ => &NoDetachedData,
    };
    let cx = ExtendContext {
        services,
        resolver,
        extra_certs: description.chain.certs(),
        strictness: Strictness::NewSignature,
        signer_data: Some(signer_data),
        missing: MissingData::Refuse,
        force: false,
        // The signature value was verified before it was embedded.
        check_first: false,
    };
    Ok(
        extend(&signed, level, Target::Id(prepared.signature_id()), cx)
            .await?
            .bytes,
    )
}
