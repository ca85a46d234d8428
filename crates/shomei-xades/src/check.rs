//! Is an existing XML signature intact? Extension asks before it time-stamps or archives
//! a signature (XMLDSig core validation, 3.2): every `ds:Reference` of the SignedInfo —
//! and of every `ds:Manifest` the SignedInfo signs — must digest to its DigestValue,
//! and the SignatureValue must verify over the canonical SignedInfo with the signer's
//! certificate.

use crate::ltv::DetachedResolver;
use crate::references::{
    child, children_named, decode_b64, element_named, reference_octets, same_document,
    transform_method, SameDocument,
};
use crate::uris::DS_NS;
use crate::XadesError;
use shomei_core::chain::ChainCert;
use shomei_core::check::{verify_existing, CheckHash, CheckScheme};
use shomei_core::DigestAlgorithm;
use shomei_xml::{canonicalize_excluding, C14nMethod, Document, NodeId};

/// The Ed25519 signature method (RFC 9231).
const ED25519: &str = "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519";

/// `Type` of a Reference to a `ds:Manifest`.
const MANIFEST_TYPE: &str = "http://www.w3.org/2000/09/xmldsig#Manifest";

/// Why a signature is not intact, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckFailure {
    /// A reference's data does not digest to its DigestValue (EN 319 102-1
    /// HASH_FAILURE): the signed data was changed.
    #[error("{0}: the digest does not match (the signed data was changed)")]
    Reference(String),
    /// The SignatureValue does not verify (SIG_CRYPTO_FAILURE).
    #[error("the signature value does not verify with the signer's certificate")]
    SignatureValue,
    /// Something needed for the check is not supported or missing.
    #[error("cannot be checked: {0}")]
    Unchecked(String),
    /// A reference uses a transform outside the allow-list (SIG_CONSTRAINTS_FAILURE).
    #[error("{0}")]
    Disallowed(String),
    /// The signature is malformed (a value that is not base64, a missing element, an
    /// algorithm URI that names no algorithm): it cannot be valid (FORMAT_FAILURE).
    #[error("malformed: {0}")]
    Malformed(String),
}

/// Algorithm URIs that name real algorithms this crate does not check (older or
/// rarer digests and signature schemes): a signature using one is not checkable here,
/// which is not the same as malformed.
fn known_unsupported(uri: &str) -> bool {
    const KNOWN: [&str; 12] = [
        "http://www.w3.org/2001/04/xmldsig-more#sha224",
        "http://www.w3.org/2007/05/xmldsig-more#sha3-224",
        "http://www.w3.org/2007/05/xmldsig-more#sha3-256",
        "http://www.w3.org/2007/05/xmldsig-more#sha3-384",
        "http://www.w3.org/2007/05/xmldsig-more#sha3-512",
        "http://www.w3.org/2001/04/xmlenc#ripemd160",
        "http://www.w3.org/2001/04/xmldsig-more#md5",
        "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
        "http://www.w3.org/2009/xmldsig11#dsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha224",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha224",
        "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519",
    ];
    KNOWN.contains(&uri) || uri.contains("sha3") || uri.contains("eddsa") || uri.contains("mgf1")
}

/// An algorithm this crate cannot use: unsupported if it is a real one, else malformed.
fn unusable_algorithm(what: String, uri: &str) -> Problem {
    if known_unsupported(uri) || uri.contains("xmldsig-more#rsa-") {
        broken_unchecked(what)
    } else {
        Problem::Failed(CheckFailure::Malformed(format!(
            "{what}: not an algorithm URI this or any other validator knows"
        )))
    }
}

fn malformed(message: impl Into<String>) -> Problem {
    Problem::Failed(CheckFailure::Malformed(message.into()))
}

/// The verdict on one signature: intact, or what failed.
pub type Verdict = Result<(), CheckFailure>;

/// The hash a `DigestMethod` or signature URI names, SHA-1 included (old signatures).
pub(crate) fn hash_from_uri(uri: &str) -> Option<CheckHash> {
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#sha1" => CheckHash::Sha1,
        "http://www.w3.org/2001/04/xmlenc#sha256" => CheckHash::Sha2(DigestAlgorithm::Sha256),
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => CheckHash::Sha2(DigestAlgorithm::Sha384),
        "http://www.w3.org/2001/04/xmlenc#sha512" => CheckHash::Sha2(DigestAlgorithm::Sha512),
        _ => return None,
    })
}

/// The scheme a `SignatureMethod` URI names (XMLDSig, RFC 6931).
fn scheme_from_uri(uri: &str) -> Option<CheckScheme> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    let more = "http://www.w3.org/2001/04/xmldsig-more#";
    let pss = "http://www.w3.org/2007/05/xmldsig-more#";
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => CheckScheme::RsaPkcs1(CheckHash::Sha1),
        u if u == format!("{more}rsa-sha256") => CheckScheme::RsaPkcs1(CheckHash::Sha2(Sha256)),
        u if u == format!("{more}rsa-sha384") => CheckScheme::RsaPkcs1(CheckHash::Sha2(Sha384)),
        u if u == format!("{more}rsa-sha512") => CheckScheme::RsaPkcs1(CheckHash::Sha2(Sha512)),
        u if u == format!("{more}ecdsa-sha1") => CheckScheme::Ecdsa(CheckHash::Sha1),
        u if u == format!("{more}ecdsa-sha256") => CheckScheme::Ecdsa(CheckHash::Sha2(Sha256)),
        u if u == format!("{more}ecdsa-sha384") => CheckScheme::Ecdsa(CheckHash::Sha2(Sha384)),
        u if u == format!("{more}ecdsa-sha512") => CheckScheme::Ecdsa(CheckHash::Sha2(Sha512)),
        u if u == format!("{pss}sha256-rsa-MGF1") => CheckScheme::RsaPss(Sha256),
        u if u == format!("{pss}sha384-rsa-MGF1") => CheckScheme::RsaPss(Sha384),
        u if u == format!("{pss}sha512-rsa-MGF1") => CheckScheme::RsaPss(Sha512),
        _ => return None,
    })
}

fn unchecked(e: impl std::fmt::Display) -> CheckFailure {
    CheckFailure::Unchecked(e.to_string())
}

/// Inside the check: either the input is at fault (a missing detached file, a
/// malformed document) or the signature does not check out.
pub(crate) enum Problem {
    Input(XadesError),
    Failed(CheckFailure),
}

impl From<XadesError> for Problem {
    fn from(e: XadesError) -> Self {
        Problem::Input(e)
    }
}

impl From<shomei_xml::XmlError> for Problem {
    fn from(e: shomei_xml::XmlError) -> Self {
        Problem::Input(e.into())
    }
}

/// One Reference that digests to its DigestValue: where it is and the data it signs
/// (after its transforms: what was digested).
pub(crate) struct Covered {
    /// The `ds:Reference` element.
    pub(crate) reference: NodeId,
    /// The Manifest it is in, if any.
    pub(crate) manifest: Option<NodeId>,
    /// The octets digested.
    pub(crate) octets: Vec<u8>,
}

/// Checks every Reference child of `parent` (a SignedInfo or a Manifest); `place`
/// names where they are for the message. Returns the Manifests they sign; each
/// reference that checks out is added to `covered`.
fn check_references(
    doc: &Document,
    sig: NodeId,
    parent: NodeId,
    place: &str,
    resolver: &dyn DetachedResolver,
    covered: &mut Vec<Covered>,
) -> Result<Vec<NodeId>, Problem> {
    let in_manifest = element_named(doc, parent, DS_NS, "Manifest").then_some(parent);
    let mut manifests = Vec::new();
    // A node-set that is not turned into octets by a transform is canonicalized with
    // Canonical XML 1.0 without comments (XMLDSig 4.4.3.2).
    let default = C14nMethod::Inclusive10 { comments: false };
    for r in children_named(doc, parent, DS_NS, "Reference") {
        let uri = doc.attribute(r, None, "URI").unwrap_or("");
        let label = format!("reference URI=\"{uri}\"{place}");
        let method = child(doc, r, DS_NS, "DigestMethod")
            .and_then(|m| doc.attribute(m, None, "Algorithm"))
            .unwrap_or("");
        let hash = hash_from_uri(method).ok_or_else(|| {
            unusable_algorithm(format!("{label}: digest method {method}"), method)
        })?;
        let expected = child(doc, r, DS_NS, "DigestValue")
            .map(|v| decode_b64(doc, v))
            .transpose()
            .map_err(|e| malformed(format!("{label}: {e}")))?
            .ok_or_else(|| malformed(format!("{label}: no DigestValue")))?;
        let octets = match reference_octets(doc, sig, r, resolver, &default) {
            Ok(o) => o,
            // A detached file that is missing or refused is the user's to fix.
            Err(e @ XadesError::Options(_)) => return Err(Problem::Input(e)),
            Err(e @ XadesError::Transform(_)) => {
                return Err(Problem::Failed(CheckFailure::Disallowed(format!(
                    "{label}: {e}"
                ))))
            }
            Err(e @ (XadesError::Reference(_) | XadesError::Xml(_))) => {
                return Err(malformed(format!("{label}: {e}")))
            }
            Err(e) => return Err(broken_unchecked(format!("{label}: {e}"))),
        };
        if hash.digest(&octets) != expected {
            return Err(Problem::Failed(CheckFailure::Reference(label)));
        }
        // Bounded: a hostile signature repeating a large reference must not hold the
        // document's size many times over.
        let held: usize = covered.iter().map(|c| c.octets.len()).sum();
        if covered.len() >= MAX_REFERENCES || held.saturating_add(octets.len()) > MAX_COVERED {
            return Err(malformed(format!(
                "more than {MAX_REFERENCES} references or {} MiB of referenced data",
                MAX_COVERED >> 20
            )));
        }
        covered.push(Covered {
            reference: r,
            manifest: in_manifest,
            octets,
        });
        if doc.attribute(r, None, "Type") == Some(MANIFEST_TYPE) {
            if let Some(SameDocument::Id(id)) = same_document(uri) {
                if let Some(m) = doc.find_by_id(id)? {
                    if !manifests.contains(&m) {
                        manifests.push(m);
                    }
                }
            }
        }
    }
    Ok(manifests)
}

/// Most references checked for one signature (its SignedInfo and Manifests).
const MAX_REFERENCES: usize = 256;
/// Most referenced data held for one signature.
const MAX_COVERED: usize = 512 << 20;

fn broken_unchecked(message: String) -> Problem {
    Problem::Failed(CheckFailure::Unchecked(message))
}

/// Checks the `ds:Signature` `sig` of `doc` against its signer's certificate `signer`:
/// every reference (manifests included) and the signature value. The inner result is
/// the verdict; an `Err` is the input's fault (a missing detached file, a malformed
/// document).
pub(crate) fn check_signature(
    doc: &Document,
    sig: NodeId,
    signer: &ChainCert,
    resolver: &dyn DetachedResolver,
) -> Result<Result<(), CheckFailure>, XadesError> {
    match check(doc, sig, Some(signer), resolver, &mut Vec::new()) {
        Ok(()) => Ok(Ok(())),
        Err(Problem::Failed(f)) => Ok(Err(f)),
        Err(Problem::Input(e)) => Err(e),
    }
}

/// The whole check: the references (each one that checks out goes to `covered`),
/// then the signature value with `signer` (`None`: no certificate to check it with).
pub(crate) fn check(
    doc: &Document,
    sig: NodeId,
    signer: Option<&ChainCert>,
    resolver: &dyn DetachedResolver,
    covered: &mut Vec<Covered>,
) -> Result<(), Problem> {
    let signed_info =
        child(doc, sig, DS_NS, "SignedInfo").ok_or_else(|| malformed("no SignedInfo"))?;
    let manifests = check_references(doc, sig, signed_info, "", resolver, covered)?;
    for m in manifests {
        let name = doc.attribute(m, None, "Id").unwrap_or_default();
        let place = format!(" in ds:Manifest `{name}`");
        check_references(doc, sig, m, &place, resolver, covered)?;
    }
    let Some(signer) = signer else {
        return Err(Problem::Failed(CheckFailure::Unchecked(
            "the signing certificate is not in the signature".into(),
        )));
    };
    let cm = child(doc, signed_info, DS_NS, "CanonicalizationMethod")
        .ok_or_else(|| malformed("no CanonicalizationMethod"))?;
    let cm_uri = doc.attribute(cm, None, "Algorithm").unwrap_or("");
    let method = transform_method(doc, cm, cm_uri)
        .ok_or_else(|| broken_unchecked(format!("canonicalization method {cm_uri}")))?;
    let mut canonical = Vec::new();
    canonicalize_excluding(doc, Some(signed_info), None, &method, &mut canonical)?;
    let sm_uri = child(doc, signed_info, DS_NS, "SignatureMethod")
        .and_then(|m| doc.attribute(m, None, "Algorithm"))
        .unwrap_or("");
    let value = child(doc, sig, DS_NS, "SignatureValue")
        .map(|v| decode_b64(doc, v))
        .transpose()
        .map_err(|e| malformed(e.to_string()))?
        .ok_or_else(|| malformed("no SignatureValue"))?;
    if sm_uri == ED25519 {
        return shomei_core::check::verify_existing_ed25519(signer, &canonical, &value).map_err(
            |e| {
                Problem::Failed(match e {
                    shomei_core::verify::VerifyError::Invalid => CheckFailure::SignatureValue,
                    other => unchecked(other),
                })
            },
        );
    }
    let scheme = scheme_from_uri(sm_uri)
        .ok_or_else(|| unusable_algorithm(format!("signature method {sm_uri}"), sm_uri))?;
    // XMLDSig carries ECDSA as r||s; the check takes DER.
    let value = match scheme {
        CheckScheme::Ecdsa(_) => shomei_core::ecdsa::fixed_to_der(&value)
            .ok_or(Problem::Failed(CheckFailure::SignatureValue))?,
        _ => value,
    };
    verify_existing(signer, scheme, &canonical, &value).map_err(|e| {
        Problem::Failed(match e {
            shomei_core::verify::VerifyError::Invalid => CheckFailure::SignatureValue,
            other => unchecked(other),
        })
    })
}

/// What an enveloped signature inserted as the last child of the document element
/// would break: every existing `ds:Signature` with a Reference (in its SignedInfo or a
/// Manifest) whose data includes that place — the whole document (`URI=""`,
/// `#xpointer(/)`) or the document element by Id — unless its transforms leave out
/// every `ds:Signature` (an XPath or Filter 2.0 filter), since only a `ds:Signature`
/// element is inserted. Each entry names the signature and the reference.
pub(crate) fn enveloped_conflicts(doc: &Document) -> Vec<String> {
    use crate::references::{signature_filter, XPATH, XPATH_FILTER2};
    let root = doc.root();
    let mut out = Vec::new();
    for (n, sig) in doc
        .elements_by_name(Some(DS_NS), "Signature")
        .into_iter()
        .enumerate()
    {
        let name = doc
            .attribute(sig, None, "Id")
            .map_or_else(|| format!("number {}", n + 1), |id| format!("`{id}`"));
        if sig == root {
            out.push(format!(
                "the document element is itself the signature {name}: an enveloped \
                 signature cannot be put inside it"
            ));
            continue;
        }
        let references = doc.descendants(sig).into_iter().filter(|r| {
            matches!(doc.kind(*r), Some(shomei_xml::NodeKind::Element { namespace: Some(ns), local_name: "Reference", .. }) if ns == DS_NS)
        });
        for r in references {
            let uri = doc.attribute(r, None, "URI").unwrap_or("");
            let target = match same_document(uri) {
                Some(SameDocument::Whole) => Some(root),
                Some(SameDocument::Id(id)) => doc.find_by_id(id).ok().flatten(),
                None => None,
            };
            if target != Some(root) {
                continue;
            }
            let transforms: Vec<NodeId> = child(doc, r, DS_NS, "Transforms")
                .map(|ts| children_named(doc, ts, DS_NS, "Transform").collect())
                .unwrap_or_default();
            let leaves_out_signatures = transforms.iter().any(|t| {
                let alg = doc.attribute(*t, None, "Algorithm").unwrap_or("");
                (alg == XPATH || alg == XPATH_FILTER2) && signature_filter(doc, *t, alg).is_ok()
            });
            if !leaves_out_signatures {
                out.push(format!(
                    "signature {name} signs the whole document (reference URI=\"{uri}\"), \
                     so a signature inserted into it would break that one"
                ));
                break;
            }
        }
    }
    out
}
