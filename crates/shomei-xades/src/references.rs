//! Shared reading of XMLDSig structures: element lookups, base64 values, and the
//! processing of a `ds:Reference` (dereferencing, transforms, canonicalization) that
//! both the reference check before extension and the archive time-stamp input use.

use crate::ltv::DetachedResolver;
use crate::uris::{DS_NS, ENVELOPED};
use crate::XadesError;
use base64ct::{Base64, Encoding};
use shomei_core::DigestAlgorithm;
use shomei_xml::{
    canonicalize_excluding, canonicalize_excluding_all, C14nMethod, Document, NodeId, NodeKind,
};

/// The XPath filter transform.
pub(crate) const XPATH: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";
/// The XPath Filter 2.0 transform.
pub(crate) const XPATH_FILTER2: &str = "http://www.w3.org/2002/06/xmldsig-filter2";
/// The base64 decoding transform.
pub(crate) const BASE64: &str = "http://www.w3.org/2000/09/xmldsig#base64";

/// The signatures an XPath transform removes. Only the filters producers use to leave
/// signatures out are understood: XPath 1.0 `not(ancestor-or-self::P:Signature)` and
/// Filter 2.0 `subtract` of `//P:Signature`, `/descendant::P:Signature` or
/// `/descendant::*[name()='P:Signature']`; anything else is refused, never guessed.
pub(crate) fn signature_filter(
    doc: &Document,
    t: NodeId,
    alg: &str,
) -> Result<Vec<NodeId>, XadesError> {
    let all = || doc.elements_by_name(Some(DS_NS), "Signature");
    let mut out = Vec::new();
    let xpaths: Vec<NodeId> = element_children(doc, t).collect();
    if xpaths.len() > MAX_XPATHS {
        return Err(XadesError::Transform(format!(
            "an XPath transform with {} expressions (at most {MAX_XPATHS})",
            xpaths.len()
        )));
    }
    for x in &xpaths {
        let expr: String = doc
            .text_content(*x)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let expr = expr.replace('"', "'");
        // The prefix must name the XMLDSig namespace where the expression is written:
        // otherwise the signer left out other elements than the signatures.
        let dsig = |p: &&str| doc.namespace_of_prefix(*x, p) == Some(DS_NS);
        let removed: Option<Vec<NodeId>> = if alg == XPATH {
            expr.strip_prefix("not(ancestor-or-self::")
                .and_then(|r| r.strip_suffix(":Signature)"))
                .filter(dsig)
                .map(|_| all())
        } else if doc.attribute(*x, None, "Filter") == Some("subtract") {
            let by_namespace = expr
                .strip_prefix("//")
                .or_else(|| expr.strip_prefix("/descendant::"))
                .and_then(|r| r.strip_suffix(":Signature"))
                .filter(dsig)
                .map(|_| all());
            // name() compares the qualified name as written, whatever its namespace.
            let by_name = || {
                expr.strip_prefix("/descendant::*[name()='")
                    .and_then(|r| r.strip_suffix(":Signature']"))
                    .map(|p| {
                        doc.descendants(doc.root())
                            .into_iter()
                            .filter(|n| {
                                matches!(doc.kind(*n), Some(NodeKind::Element {
                                    prefix: Some(q), local_name: "Signature", ..
                                }) if q == p)
                            })
                            .collect()
                    })
            };
            by_namespace.or_else(by_name)
        } else {
            None
        };
        let Some(removed) = removed else {
            return Err(XadesError::Transform(format!(
                "XPath transform `{expr}` (only filters that leave out the signatures are \
                 understood)"
            )));
        };
        for sig in removed {
            if !out.contains(&sig) {
                out.push(sig);
            }
        }
    }
    if xpaths.is_empty() {
        return Err(XadesError::Transform(
            "an XPath transform without XPath".into(),
        ));
    }
    Ok(out)
}

/// What a same-document `URI` names (XMLDSig 4.4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SameDocument<'u> {
    /// `""` or `#xpointer(/)`: the whole document.
    Whole,
    /// `#id`, `#xpointer(id('id'))` or `#xpointer(id("id"))`: the element with that Id.
    Id(&'u str),
}

/// The same-document target of a `URI`; `None` for a detached one.
pub(crate) fn same_document(uri: &str) -> Option<SameDocument<'_>> {
    if uri.is_empty() {
        return Some(SameDocument::Whole);
    }
    let frag = uri.strip_prefix('#')?;
    if frag == "xpointer(/)" {
        return Some(SameDocument::Whole);
    }
    let id = ["'", "\""]
        .iter()
        .find_map(|q| {
            frag.strip_prefix(&format!("xpointer(id({q}"))
                .and_then(|r| r.strip_suffix(&format!("{q}))")))
        })
        .unwrap_or(frag);
    Some(SameDocument::Id(id))
}

/// Most XPath expressions read from one transform.
const MAX_XPATHS: usize = 8;

pub(crate) fn element_named(doc: &Document, id: NodeId, ns: &str, local: &str) -> bool {
    matches!(doc.kind(id), Some(NodeKind::Element { namespace: Some(n), local_name, .. })
        if n == ns && local_name == local)
}

pub(crate) fn children_named<'d>(
    doc: &'d Document,
    parent: NodeId,
    ns: &'d str,
    local: &'d str,
) -> impl Iterator<Item = NodeId> + 'd {
    doc.children(parent)
        .filter(move |c| element_named(doc, *c, ns, local))
}

pub(crate) fn child(doc: &Document, parent: NodeId, ns: &str, local: &str) -> Option<NodeId> {
    children_named(doc, parent, ns, local).next()
}

pub(crate) fn element_children(
    doc: &Document,
    parent: NodeId,
) -> impl Iterator<Item = NodeId> + '_ {
    doc.children(parent)
        .filter(move |c| matches!(doc.kind(*c), Some(NodeKind::Element { .. })))
}

pub(crate) fn descendants_named<'d>(
    doc: &'d Document,
    top: NodeId,
    ns: &'d str,
    local: &'d str,
) -> impl Iterator<Item = NodeId> + 'd {
    doc.descendants(top)
        .into_iter()
        .filter(move |c| element_named(doc, *c, ns, local))
}

pub(crate) fn decode_b64(doc: &Document, id: NodeId) -> Result<Vec<u8>, XadesError> {
    let text: String = doc
        .text_content(id)
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    Base64::decode_vec(&text).map_err(|_| {
        let name = match doc.kind(id) {
            Some(NodeKind::Element { local_name, .. }) => local_name,
            _ => "an element",
        };
        XadesError::Unsupported(format!("malformed base64 in {name} of the signature"))
    })
}

pub(crate) fn digest_from_uri(uri: &str) -> Option<DigestAlgorithm> {
    [
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|d| crate::uris::digest_uri(*d) == uri)
}

pub(crate) fn canonical(
    doc: &Document,
    node: NodeId,
    method: &C14nMethod,
) -> Result<Vec<u8>, XadesError> {
    let mut out = Vec::new();
    canonicalize_excluding(doc, Some(node), None, method, &mut out)?;
    Ok(out)
}

/// The same method without comments: a same-document URI selects a node-set without
/// comments (XMLDSig 4.4.3.3), whatever the later canonicalization.
pub(crate) fn without_comments(method: C14nMethod) -> C14nMethod {
    match method {
        C14nMethod::Inclusive10 { .. } => C14nMethod::Inclusive10 { comments: false },
        C14nMethod::Inclusive11 { .. } => C14nMethod::Inclusive11 { comments: false },
        C14nMethod::Exclusive {
            inclusive_prefixes, ..
        } => C14nMethod::Exclusive {
            comments: false,
            inclusive_prefixes,
        },
        other => other,
    }
}

/// What a Reference yields while its transforms are applied.
pub(crate) enum RefData {
    /// A node-set: the whole document or a subtree, possibly minus a signature.
    Nodes {
        subtree: Option<NodeId>,
        exclude: Vec<NodeId>,
    },
    Octets(Vec<u8>),
}

pub(crate) fn transform_method(doc: &Document, t: NodeId, uri: &str) -> Option<C14nMethod> {
    let method = C14nMethod::from_uri(uri)?;
    Some(match method {
        C14nMethod::Exclusive { comments, .. } => {
            let prefixes = doc
                .children(t)
                .find(|c| {
                    matches!(doc.kind(*c), Some(NodeKind::Element { local_name, .. })
                        if local_name == "InclusiveNamespaces")
                })
                .and_then(|c| doc.attribute(c, None, "PrefixList"))
                .map(|l| l.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            C14nMethod::Exclusive {
                comments,
                inclusive_prefixes: prefixes,
            }
        }
        other => other,
    })
}

/// The octets of one Reference after its transforms, as the archive time-stamp covers
/// them (EN 319 132-1 5.5.2.2): a final node-set is canonicalized with `method`.
pub(crate) fn reference_octets(
    doc: &Document,
    sig: NodeId,
    reference: NodeId,
    resolver: &dyn DetachedResolver,
    method: &C14nMethod,
) -> Result<Vec<u8>, XadesError> {
    let uri = doc.attribute(reference, None, "URI").unwrap_or("");
    let mut data = match same_document(uri) {
        Some(SameDocument::Whole) => RefData::Nodes {
            subtree: None,
            exclude: Vec::new(),
        },
        Some(SameDocument::Id(id)) => {
            let node = doc.find_by_id(id)?.ok_or_else(|| {
                XadesError::Reference(format!("reference {uri}: no element with that Id"))
            })?;
            RefData::Nodes {
                subtree: Some(node),
                exclude: Vec::new(),
            }
        }
        None => RefData::Octets(resolver.resolve(uri)?),
    };
    let transforms: Vec<NodeId> = child(doc, reference, DS_NS, "Transforms")
        .map(|ts| children_named(doc, ts, DS_NS, "Transform").collect())
        .unwrap_or_default();
    for t in transforms {
        let alg = doc.attribute(t, None, "Algorithm").unwrap_or("");
        data = match (alg, data) {
            (
                ENVELOPED,
                RefData::Nodes {
                    subtree,
                    mut exclude,
                },
            ) => {
                exclude.push(sig);
                RefData::Nodes { subtree, exclude }
            }
            (XPATH | XPATH_FILTER2, RefData::Nodes { subtree, exclude }) => {
                let mut exclude = exclude;
                for sig in signature_filter(doc, t, alg)? {
                    if !exclude.contains(&sig) {
                        exclude.push(sig);
                    }
                }
                RefData::Nodes { subtree, exclude }
            }
            (BASE64, data) => {
                let text = match data {
                    RefData::Nodes { subtree, .. } => {
                        doc.text_content(subtree.unwrap_or_else(|| doc.root()))
                    }
                    RefData::Octets(o) => String::from_utf8_lossy(&o).into_owned(),
                };
                let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                RefData::Octets(Base64::decode_vec(&compact).map_err(|_| {
                    XadesError::Reference(format!("reference {uri}: malformed base64 data"))
                })?)
            }
            (alg, data) => {
                let Some(m) = transform_method(doc, t, alg) else {
                    return Err(XadesError::Transform(format!("transform {alg}")));
                };
                let mut out = Vec::new();
                match data {
                    RefData::Nodes { subtree, exclude } => canonicalize_excluding_all(
                        doc,
                        subtree,
                        &exclude,
                        &without_comments(m),
                        &mut out,
                    )?,
                    RefData::Octets(bytes) => {
                        let parsed = Document::parse(&bytes)?;
                        canonicalize_excluding(&parsed, None, None, &m, &mut out)?
                    }
                }
                RefData::Octets(out)
            }
        };
    }
    Ok(match data {
        RefData::Octets(o) => o,
        RefData::Nodes { subtree, exclude } => {
            let mut out = Vec::new();
            let m = without_comments(method.clone());
            canonicalize_excluding_all(doc, subtree, &exclude, &m, &mut out)?;
            out
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{signature_filter, XPATH, XPATH_FILTER2};
    use crate::uris::DS_NS;
    use shomei_xml::Document;

    /// The signatures `signature_filter` removes for the transform in `doc`, by Id.
    fn removed(doc: &[u8], alg: &str) -> Result<Vec<String>, String> {
        let doc = Document::parse(doc).map_err(|e| e.to_string())?;
        let t = doc
            .elements_by_name(Some(DS_NS), "Transform")
            .into_iter()
            .next()
            .ok_or("no transform")?;
        signature_filter(&doc, t, alg)
            .map(|ids| {
                ids.iter()
                    .map(|n| doc.attribute(*n, None, "Id").unwrap_or("?").to_owned())
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    fn doc(xpath: &str, filter: &str) -> Vec<u8> {
        format!(
            "<r xmlns:ds=\"{DS_NS}\" xmlns:o=\"urn:other\"><ds:Signature Id=\"a\">\
             <ds:Transform><ds:XPath {filter} xmlns:d2=\"{DS_NS}\">{xpath}</ds:XPath>\
             </ds:Transform></ds:Signature><o:Signature Id=\"b\"/>\
             <d2:Signature xmlns:d2=\"{DS_NS}\" Id=\"c\"/></r>"
        )
        .into_bytes()
    }

    #[test]
    fn only_filters_that_remove_exactly_the_signatures_are_understood() {
        let all = Ok(vec!["a".to_string(), "c".to_string()]);
        assert_eq!(
            removed(&doc("not(ancestor-or-self::ds:Signature)", ""), XPATH),
            all
        );
        assert_eq!(
            removed(&doc("not(ancestor-or-self::d2:Signature)", ""), XPATH),
            all
        );
        // A prefix bound to another namespace leaves out other elements.
        assert!(removed(&doc("not(ancestor-or-self::o:Signature)", ""), XPATH).is_err());
        let subtract = "Filter=\"subtract\"";
        assert_eq!(
            removed(&doc("//ds:Signature", subtract), XPATH_FILTER2),
            all
        );
        assert_eq!(
            removed(&doc("/descendant::ds:Signature", subtract), XPATH_FILTER2),
            all
        );
        // Only some signatures (those under /r/x) would be left out by the signer.
        assert!(removed(&doc("/r/x//ds:Signature", subtract), XPATH_FILTER2).is_err());
        assert!(removed(
            &doc("//ds:Signature", "Filter=\"intersect\""),
            XPATH_FILTER2
        )
        .is_err());
        // name() matches the qualified name as written: o:Signature, not d2:Signature.
        assert_eq!(
            removed(
                &doc("/descendant::*[name()='o:Signature']", subtract),
                XPATH_FILTER2
            ),
            Ok(vec!["b".to_string()])
        );
    }
}
