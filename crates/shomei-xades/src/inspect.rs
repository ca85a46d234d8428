//! Reading the signatures of an XML document for validation. For each signature:
//! what it signs (every reference checked, the data each one signs handed back, never
//! the parsed document), the signing certificate as its signed properties bind it, the
//! certificates, revocation data and time-stamps it carries with the octets each
//! time-stamp must cover, and what makes its form unacceptable (an Id on more than one
//! element, signed data hidden inside a signature, SignedProperties not signed as
//! such). The validation policy (paths, revocation, proofs of existence, verdicts) is
//! the validator's.

use crate::check::{check, hash_from_uri, CheckFailure, Covered, Problem};
use crate::extension::archive_input_before;
use crate::located::Located;
use crate::references::{
    canonical, child, children_named, decode_b64, element_children, element_named, same_document,
    SameDocument,
};
use crate::resolver::DetachedResolver;
use crate::unsigned::XADES141_NS;
use crate::uris::{DS_NS, XADES_NS};
use crate::XadesError;
use shomei_core::chain::ChainCert;
use shomei_tsp::TimestampToken;
use shomei_xml::{C14nMethod, Document, NodeId, NodeKind};

/// The namespaces of XAdES qualifying properties (1.3.2 and the older 1.2.2, 1.1.1).
const XADES_NAMESPACES: [&str; 3] = [
    XADES_NS,
    "http://uri.etsi.org/01903/v1.2.2#",
    "http://uri.etsi.org/01903/v1.1.1#",
];

/// What a signature's signed properties say about its signing certificate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SigningCertificate {
    /// The certificate `SigningCertificateV2` (`v2`) or `SigningCertificate` names by
    /// digest, with a matching issuer and serial number where they are given.
    Bound {
        /// The certificate.
        cert: ChainCert,
        /// Named by `SigningCertificateV2`.
        v2: bool,
    },
    /// The property is there, but names no certificate the signature carries, or its
    /// issuer and serial number contradict the certificate its digest names. A
    /// certificate in `ds:KeyInfo` is never taken instead.
    Unmatched(String),
    /// No such property (plain XMLDSig): the first `ds:KeyInfo` certificate, if any,
    /// is the one the signature value is checked with.
    Absent(Option<ChainCert>),
}

impl SigningCertificate {
    /// The certificate the signature value is checked with, if any.
    pub fn cert(&self) -> Option<&ChainCert> {
        match self {
            Self::Bound { cert, .. } | Self::Absent(Some(cert)) => Some(cert),
            _ => None,
        }
    }
}

/// One reference the signature value covers (in the SignedInfo or a Manifest it
/// signs), checked against its DigestValue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignedReference {
    /// The `URI` attribute (`""`, `#id`, or a detached name).
    pub uri: String,
    /// The `Type` attribute, if any.
    pub reference_type: Option<String>,
    /// In a `ds:Manifest` (its data is checked, but a manifest reference does not make
    /// the signature invalid by itself in every profile).
    pub in_manifest: bool,
    /// What it covers, in words (`the whole document except the signature`, `element
    /// <doc:Body Id="b"> at /doc:Envelope/doc:Body`, `detached data "a.txt"`).
    pub covers: String,
    /// The signed content: the octets digested (after the transforms), which is what
    /// an application must use — not the element it finds in the parsed document.
    pub content: Vec<u8>,
}

/// A time-stamp of the signature and the octets its message imprint must digest.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StampInput {
    /// The token, or why it could not be read.
    pub token: Result<TimestampToken, String>,
    /// The octets it time-stamps, or why they could not be computed.
    pub covered: Result<Vec<u8>, String>,
}

/// Whether the references and the signature value check out.
#[derive(Debug, Clone)]
pub enum Integrity {
    /// Every reference digests to its value and the signature value verifies.
    Intact,
    /// Something does not check out (or cannot be checked: [`CheckFailure::Unchecked`]).
    Broken(CheckFailure),
    /// Detached data the signature names was not given.
    DataNotFound(String),
}

/// One signature of a document, read for validation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InspectedSignature {
    /// Its `Id`, or its position (`signature 2`).
    pub label: String,
    /// The namespace of its XAdES qualifying properties; `None` for plain XMLDSig.
    pub xades_namespace: Option<String>,
    /// Problems of form that make the signature unacceptable whatever its value: an Id
    /// on more than one element, signed data moved inside a signature (wrapping),
    /// SignedProperties not signed or signed with another `Type`.
    pub structure: Vec<String>,
    /// Remarks that keep the signature from being a baseline one without making it
    /// invalid (the SignedProperties reference without its `Type`).
    pub not_baseline: Vec<String>,
    /// References and signature value.
    pub integrity: Integrity,
    /// The signing certificate as the signed properties bind it.
    pub signing_certificate: SigningCertificate,
    /// Every certificate the signature carries (`ds:KeyInfo`, `CertificateValues`,
    /// `TimeStampValidationData`).
    pub certificates: Vec<ChainCert>,
    /// Embedded OCSP responses (DER).
    pub ocsps: Vec<Vec<u8>>,
    /// Embedded CRLs (DER).
    pub crls: Vec<Vec<u8>>,
    /// `CertificateValues` and `RevocationValues` are both present (B-LT form).
    pub has_long_term_values: bool,
    /// The `SigningTime` the signer claims, as written.
    pub signing_time: Option<String>,
    /// The references that check out, with their signed content.
    pub references: Vec<SignedReference>,
    /// `SignatureTimeStamp` properties.
    pub signature_timestamps: Vec<StampInput>,
    /// `ArchiveTimeStamp` properties, in order.
    pub archive_timestamps: Vec<StampInput>,
}

/// Reads every signature of `xml` that is not inside another one (counter-signatures
/// belong to their master), in document order. Detached data comes through `resolver`
/// only.
///
/// # Errors
/// The document is not acceptable XML (syntax, DTDs, entities, limits).
pub fn inspect(
    xml: &[u8],
    resolver: &dyn DetachedResolver,
) -> Result<Vec<InspectedSignature>, XadesError> {
    let doc = Document::parse(xml)?;
    let tops: Vec<NodeId> = doc
        .elements_by_name(Some(DS_NS), "Signature")
        .into_iter()
        .filter(|s| enclosing_signature(&doc, *s).is_none())
        .collect();
    tops.into_iter()
        .enumerate()
        .map(|(i, sig)| inspect_one(&doc, sig, i, resolver))
        .collect()
}

/// The nearest `ds:Signature` strictly above `node`.
fn enclosing_signature(doc: &Document, node: NodeId) -> Option<NodeId> {
    let mut n = doc.parent(node)?;
    loop {
        if element_named(doc, n, DS_NS, "Signature") {
            return Some(n);
        }
        n = doc.parent(n)?;
    }
}

fn qualified_name(doc: &Document, n: NodeId) -> String {
    match doc.kind(n) {
        Some(NodeKind::Element {
            prefix: Some(p),
            local_name,
            ..
        }) => format!("{p}:{local_name}"),
        Some(NodeKind::Element { local_name, .. }) => local_name.to_owned(),
        _ => "?".into(),
    }
}

/// `/a:Root/a:Body` — where an element is.
fn path_of(doc: &Document, n: NodeId) -> String {
    let mut names = vec![qualified_name(doc, n)];
    let mut at = n;
    while let Some(p) = doc.parent(at) {
        if matches!(doc.kind(p), Some(NodeKind::Element { .. })) {
            names.push(qualified_name(doc, p));
        }
        at = p;
    }
    names.reverse();
    format!("/{}", names.join("/"))
}

fn is_xades_element(doc: &Document, n: NodeId) -> bool {
    matches!(doc.kind(n), Some(NodeKind::Element { namespace: Some(ns), .. })
        if ns == DS_NS || ns == XADES141_NS || XADES_NAMESPACES.contains(&ns))
}

/// The Id a same-document URI names (`#id`, `#xpointer(id('id'))`); `None` for the
/// whole document or detached data.
fn fragment_id(uri: &str) -> Option<&str> {
    match same_document(uri) {
        Some(SameDocument::Id(id)) => Some(id),
        _ => None,
    }
}

/// Why signed data at `target` is where no signed data belongs: inside a signature
/// other than at the places XMLDSig and XAdES give signed data in it — the
/// signature's own `ds:Object` (and, when the signature is the document element, an
/// enveloping signature, any element directly in it), a `ds:Manifest`, the
/// `ds:SignatureProperty` of a `ds:SignatureProperties`, the `xades:SignedProperties`,
/// or the `ds:KeyInfo` itself. Anything deeper is where a wrapping attack hides the
/// original.
fn hidden_in_signature(doc: &Document, sig: NodeId, target: NodeId) -> Option<String> {
    let mut chain = vec![target];
    let mut at = target;
    while let Some(p) = doc.parent(at) {
        if element_named(doc, p, DS_NS, "Signature") {
            if p != sig {
                return Some(format!(
                    "the signed element {} is inside another signature",
                    path_of(doc, target)
                ));
            }
            chain.reverse();
            let is = |n: NodeId, ns: &str, local: &str| element_named(doc, n, ns, local);
            let qp = |n: NodeId| {
                XADES_NAMESPACES
                    .iter()
                    .any(|ns| is(n, ns, "QualifyingProperties"))
            };
            let sp = |n: NodeId| {
                XADES_NAMESPACES
                    .iter()
                    .any(|ns| is(n, ns, "SignedProperties"))
            };
            let enveloping = doc.root() == sig;
            let allowed = match chain.as_slice() {
                [k] => is(*k, DS_NS, "KeyInfo") || is(*k, DS_NS, "Object"),
                [o, t] => {
                    is(*o, DS_NS, "Object")
                        && (is(*t, DS_NS, "Manifest")
                            || is(*t, DS_NS, "SignatureProperties")
                            || (enveloping && !is_xades_element(doc, *t)))
                }
                [o, m, t] => {
                    is(*o, DS_NS, "Object")
                        && ((is(*m, DS_NS, "SignatureProperties")
                            && is(*t, DS_NS, "SignatureProperty"))
                            || (qp(*m) && sp(*t)))
                }
                _ => false,
            };
            return (!allowed).then(|| {
                format!(
                    "the signed element {} is wrapped inside the signature (signature \
                     wrapping)",
                    path_of(doc, target)
                )
            });
        }
        chain.push(p);
        at = p;
    }
    None
}

/// The reference elements of the SignedInfo and of the Manifests it signs.
fn all_references(doc: &Document, sig: NodeId) -> Vec<(NodeId, bool)> {
    let Some(si) = child(doc, sig, DS_NS, "SignedInfo") else {
        return Vec::new();
    };
    let mut out: Vec<(NodeId, bool)> = children_named(doc, si, DS_NS, "Reference")
        .map(|r| (r, false))
        .collect();
    let manifests: Vec<NodeId> = out
        .iter()
        .filter(|(r, _)| {
            doc.attribute(*r, None, "Type") == Some("http://www.w3.org/2000/09/xmldsig#Manifest")
        })
        .filter_map(|(r, _)| {
            fragment_id(doc.attribute(*r, None, "URI")?).and_then(|id| doc.find_by_id(id).ok()?)
        })
        .collect();
    for m in manifests {
        out.extend(children_named(doc, m, DS_NS, "Reference").map(|r| (r, true)));
    }
    out
}

/// Decimal digits of a big-endian unsigned integer.
fn decimal(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = vec![0];
    for b in bytes {
        let mut carry = u32::from(*b);
        for d in &mut digits {
            let v = u32::from(*d) * 256 + carry;
            *d = u8::try_from(v % 10).unwrap_or(0);
            carry = v / 10;
        }
        while carry > 0 {
            digits.push(u8::try_from(carry % 10).unwrap_or(0));
            carry /= 10;
        }
    }
    digits.iter().rev().map(|d| char::from(b'0' + d)).collect()
}

/// The signing certificate the signed properties name, among `pool`.
fn signing_certificate(
    doc: &Document,
    ssp: Option<NodeId>,
    ns: &str,
    pool: &[ChainCert],
    key_info: Option<&ChainCert>,
) -> SigningCertificate {
    let property = ssp.and_then(|ssp| {
        child(doc, ssp, ns, "SigningCertificateV2")
            .map(|p| (p, true))
            .or_else(|| child(doc, ssp, ns, "SigningCertificate").map(|p| (p, false)))
    });
    let Some((property, v2)) = property else {
        return SigningCertificate::Absent(key_info.cloned());
    };
    let mut contradicted = None;
    for cert in children_named(doc, property, ns, "Cert") {
        let Some(cd) = child(doc, cert, ns, "CertDigest") else {
            continue;
        };
        let Some(hash) = child(doc, cd, DS_NS, "DigestMethod")
            .and_then(|m| doc.attribute(m, None, "Algorithm"))
            .and_then(hash_from_uri)
        else {
            continue;
        };
        let Some(value) =
            child(doc, cd, DS_NS, "DigestValue").and_then(|v| decode_b64(doc, v).ok())
        else {
            continue;
        };
        let Some(found) = pool.iter().find(|c| hash.digest(c.der()) == value) else {
            continue;
        };
        let serial = found.cert().tbs_certificate().serial_number();
        let consistent = if v2 {
            // IssuerSerialV2 is the DER of ESS IssuerSerial: the issuer's name inside
            // GeneralNames, then the serial number's INTEGER.
            let issuer = der::Encode::to_der(found.cert().tbs_certificate().issuer());
            match child(doc, cert, ns, "IssuerSerialV2").map(|i| decode_b64(doc, i)) {
                None => true,
                Some(Ok(der)) => {
                    der::Encode::to_der(serial).is_ok_and(|s| der.ends_with(&s))
                        && issuer.is_ok_and(|name| {
                            !name.is_empty() && der.windows(name.len()).any(|w| w == name)
                        })
                }
                Some(Err(_)) => false,
            }
        } else {
            match child(doc, cert, ns, "IssuerSerial")
                .and_then(|i| child(doc, i, DS_NS, "X509SerialNumber"))
            {
                None => true,
                Some(n) => doc.text_content(n).trim() == decimal(serial.as_bytes()),
            }
        };
        if consistent {
            return SigningCertificate::Bound {
                cert: found.clone(),
                v2,
            };
        }
        contradicted = Some(found.subject());
    }
    SigningCertificate::Unmatched(match contradicted {
        Some(subject) => format!(
            "the issuer and serial number the signed properties give are not those of {subject}, \
             whose digest they name"
        ),
        None => format!(
            "the {} property names no certificate the signature carries",
            if v2 {
                "SigningCertificateV2"
            } else {
                "SigningCertificate"
            }
        ),
    })
}

/// The canonicalization a time-stamp property names (inclusive C14N 1.0 when none).
fn stamp_method(doc: &Document, stamp: NodeId) -> Result<C14nMethod, String> {
    match child(doc, stamp, DS_NS, "CanonicalizationMethod") {
        None => Ok(C14nMethod::Inclusive10 { comments: false }),
        Some(cm) => {
            let uri = doc.attribute(cm, None, "Algorithm").unwrap_or("");
            crate::references::transform_method(doc, cm, uri)
                .ok_or_else(|| format!("canonicalization method {uri} is not supported"))
        }
    }
}

fn stamp_token(doc: &Document, stamp: NodeId) -> Result<TimestampToken, String> {
    let enc = children_named(doc, stamp, XADES_NS, "EncapsulatedTimeStamp")
        .next()
        .ok_or_else(|| "no EncapsulatedTimeStamp".to_string())?;
    let der = decode_b64(doc, enc).map_err(|e| e.to_string())?;
    TimestampToken::from_ber(&der).map_err(|e| e.to_string())
}

fn inspect_one(
    doc: &Document,
    sig: NodeId,
    index: usize,
    resolver: &dyn DetachedResolver,
) -> Result<InspectedSignature, XadesError> {
    let label = doc
        .attribute(sig, None, "Id")
        .map_or_else(|| format!("signature {}", index + 1), str::to_owned);
    let qps: Vec<NodeId> = children_named(doc, sig, DS_NS, "Object")
        .flat_map(|o| {
            element_children(doc, o)
                .filter(|c| {
                    XADES_NAMESPACES
                        .iter()
                        .any(|ns| element_named(doc, *c, ns, "QualifyingProperties"))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let qp = qps.first().copied();
    let ns = qp.and_then(|q| match doc.kind(q) {
        Some(NodeKind::Element {
            namespace: Some(ns),
            ..
        }) => Some(ns.to_owned()),
        _ => None,
    });
    let located = Located {
        sig,
        qp: qp.unwrap_or(sig),
    };
    let mut structure = Vec::new();
    if qps.len() > 1 {
        // Objects are not signed: a second one could stand in for the signed one.
        structure.push(format!(
            "{} QualifyingProperties in the signature (XAdES allows one)",
            qps.len()
        ));
    }
    let key_info = located.key_info_certs(doc).unwrap_or_else(|e| {
        structure.push(format!(
            "ds:KeyInfo holds a certificate that cannot be read: {e}"
        ));
        Vec::new()
    });
    let pool = located.cert_pool(doc).unwrap_or_else(|_| key_info.clone());
    let present = located.present(doc).unwrap_or_default();
    let xns = ns.as_deref().unwrap_or(XADES_NS);
    let sp = qp.and_then(|q| child(doc, q, xns, "SignedProperties"));
    let ssp = sp.and_then(|sp| child(doc, sp, xns, "SignedSignatureProperties"));
    // Without a signed binding, the KeyInfo certificate that issued none of the others
    // (the end entity; producers also list its CAs).
    let key_info_leaf = key_info
        .iter()
        .find(|c| {
            !key_info.iter().any(|o| {
                o.der() != c.der()
                    && o.cert().tbs_certificate().issuer() == c.cert().tbs_certificate().subject()
            })
        })
        .or(key_info.first());
    let signing_certificate = if qp.is_some() {
        signing_certificate(doc, ssp, xns, &pool, key_info_leaf)
    } else {
        SigningCertificate::Absent(key_info_leaf.cloned())
    };
    let signing_time = ssp
        .and_then(|s| child(doc, s, xns, "SigningTime"))
        .map(|t| doc.text_content(t).trim().to_owned());

    // The form: each same-document reference names exactly one element, which is not
    // hidden in a signature; the SignedProperties are signed as such.
    let mut not_baseline = Vec::new();
    let mut missing_target = None;
    let mut sp_referenced = false;
    for (r, in_manifest) in all_references(doc, sig) {
        let uri = doc.attribute(r, None, "URI").unwrap_or("");
        let Some(id) = fragment_id(uri) else {
            continue;
        };
        match doc.find_by_id(id) {
            Err(_) => structure.push(format!(
                "reference URI=\"{uri}\": the Id `{id}` is on more than one element, so what \
                 is signed is ambiguous (signature wrapping)"
            )),
            Ok(None) if !in_manifest => {
                missing_target.get_or_insert(format!(
                    "reference URI=\"{uri}\": no element with that Id in the document (removed \
                     after signing?)"
                ));
            }
            Ok(None) => {}
            Ok(Some(target)) => {
                if let Some(why) = hidden_in_signature(doc, sig, target) {
                    structure.push(why);
                }
                if Some(target) == sp && !in_manifest {
                    sp_referenced = true;
                    match doc.attribute(r, None, "Type") {
                        Some(t)
                            if t.starts_with("http://uri.etsi.org/01903")
                                && t.ends_with("#SignedProperties") => {}
                        None => not_baseline
                            .push("the reference to the SignedProperties has no Type".to_string()),
                        Some(t) => structure
                            .push(format!("the SignedProperties are referenced with Type {t}")),
                    }
                }
            }
        }
    }
    if let Some(why) = missing_target {
        structure.push(why);
    }
    if sp.is_some() && !sp_referenced {
        structure.push("the SignedProperties are not signed (no reference to them)".into());
    }
    if qp.is_some() && sp.is_none() {
        not_baseline.push("no SignedProperties".into());
    }

    let mut covered: Vec<Covered> = Vec::new();
    let integrity = if structure.is_empty() {
        match check(doc, sig, signing_certificate.cert(), resolver, &mut covered) {
            Ok(()) => Integrity::Intact,
            Err(Problem::Failed(f)) => Integrity::Broken(f),
            Err(Problem::Input(XadesError::Options(m))) => Integrity::DataNotFound(m),
            Err(Problem::Input(e)) => Integrity::Broken(CheckFailure::Malformed(e.to_string())),
        }
    } else {
        Integrity::Broken(CheckFailure::Malformed(structure.join("; ")))
    };
    let references = covered
        .into_iter()
        .map(|c| {
            let uri = doc
                .attribute(c.reference, None, "URI")
                .unwrap_or("")
                .to_owned();
            let enveloped = child(doc, c.reference, DS_NS, "Transforms").is_some_and(|ts| {
                children_named(doc, ts, DS_NS, "Transform")
                    .any(|t| doc.attribute(t, None, "Algorithm") == Some(crate::uris::ENVELOPED))
            });
            let covers = match fragment_id(&uri) {
                _ if same_document(&uri) == Some(SameDocument::Whole) => {
                    if enveloped {
                        "the whole document except this signature".to_string()
                    } else {
                        "the whole document".to_string()
                    }
                }
                Some(id) => match doc.find_by_id(id) {
                    Ok(Some(t)) => format!("element {} Id=\"{id}\"", path_of(doc, t)),
                    _ => format!("element with Id \"{id}\""),
                },
                None => format!("detached data \"{uri}\""),
            };
            SignedReference {
                uri,
                reference_type: doc.attribute(c.reference, None, "Type").map(str::to_owned),
                in_manifest: c.manifest.is_some(),
                covers,
                content: c.octets,
            }
        })
        .collect();

    let mut signature_timestamps = Vec::new();
    let mut archive_timestamps = Vec::new();
    // The time-stamps only matter for an intact signature (their inputs can be large).
    let usp = located
        .usp(doc)
        .filter(|_| matches!(integrity, Integrity::Intact));
    if let Some(usp) = usp {
        for p in element_children(doc, usp) {
            if element_named(doc, p, XADES_NS, "SignatureTimeStamp") {
                let covered = stamp_method(doc, p).and_then(|m| {
                    let value = located.signature_value(doc).map_err(|e| e.to_string())?;
                    canonical(doc, value, &m).map_err(|e| e.to_string())
                });
                signature_timestamps.push(StampInput {
                    token: stamp_token(doc, p),
                    covered,
                });
            } else if element_named(doc, p, XADES141_NS, "ArchiveTimeStamp")
                || element_named(doc, p, XADES_NS, "ArchiveTimeStamp")
            {
                let covered = stamp_method(doc, p).and_then(|m| {
                    archive_input_before(doc, located, resolver, &m, Some(p))
                        .map_err(|e| e.to_string())
                });
                archive_timestamps.push(StampInput {
                    token: stamp_token(doc, p),
                    covered,
                });
            }
        }
    }
    let has_long_term_values = !located
        .properties(doc, XADES_NS, "CertificateValues")
        .is_empty()
        && !located
            .properties(doc, XADES_NS, "RevocationValues")
            .is_empty();
    Ok(InspectedSignature {
        label,
        xades_namespace: ns,
        structure,
        not_baseline,
        integrity,
        signing_certificate,
        certificates: pool,
        ocsps: present.ocsps,
        crls: present.crls,
        has_long_term_values,
        signing_time,
        references,
        signature_timestamps,
        archive_timestamps,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use base64ct::Encoding;
    use der::Encode;

    /// SignedSignatureProperties naming `cert` by its SHA-256 and by an
    /// IssuerSerialV2 with `issuer` (DER of a Name).
    fn properties(cert: &ChainCert, issuer: &[u8]) -> String {
        let hash = hash_from_uri("http://www.w3.org/2001/04/xmlenc#sha256").unwrap();
        let digest = base64ct::Base64::encode_string(&hash.digest(cert.der()));
        let directory = der::Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber(4),
        };
        let names = der::Any::new(directory, issuer.to_vec())
            .unwrap()
            .to_der()
            .unwrap();
        let names = der::Any::new(der::Tag::Sequence, names)
            .unwrap()
            .to_der()
            .unwrap();
        let serial = cert
            .cert()
            .tbs_certificate()
            .serial_number()
            .to_der()
            .unwrap();
        let issuer_serial = der::Any::new(der::Tag::Sequence, [names, serial].concat())
            .unwrap()
            .to_der()
            .unwrap();
        format!(
            r#"<x:SignedSignatureProperties xmlns:x="http://uri.etsi.org/01903/v1.3.2#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><x:SigningCertificateV2><x:Cert><x:CertDigest><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>{digest}</ds:DigestValue></x:CertDigest><x:IssuerSerialV2>{}</x:IssuerSerialV2></x:Cert></x:SigningCertificateV2></x:SignedSignatureProperties>"#,
            base64ct::Base64::encode_string(&issuer_serial)
        )
    }

    #[test]
    fn issuer_serial_v2_must_name_the_issuer_too() {
        let cert = shomei_test_support::ocsp_responder::fixture_cert("signer-ec");
        let tbs = cert.cert().tbs_certificate();
        let ns = "http://uri.etsi.org/01903/v1.3.2#";
        let pool = [cert.clone()];
        let bound = |issuer: &[u8]| {
            let doc = Document::parse(properties(&cert, issuer).as_bytes()).unwrap();
            signing_certificate(&doc, Some(doc.root()), ns, &pool, None)
        };
        assert!(matches!(
            bound(&tbs.issuer().to_der().unwrap()),
            SigningCertificate::Bound { v2: true, .. }
        ));
        // The right digest and serial number, another issuer: not this certificate.
        assert!(matches!(
            bound(&tbs.subject().to_der().unwrap()),
            SigningCertificate::Unmatched(_)
        ));
    }

    #[test]
    fn serial_numbers_print_in_decimal() {
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        assert_eq!(
            decimal(&[0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
            "18446744073709551616"
        );
    }
}
