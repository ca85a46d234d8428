//! Certificate paths (RFC 5280 6, the parts a signature validator needs): from a
//! signing or time-stamping certificate through the certificates at hand to a trust
//! anchor. Each link's issuer name matches and its signature verifies; every issuer is
//! a CA (basic constraints, path length) allowed to sign certificates (key usage); the
//! signer may sign documents (key usage, extended key usage: [`may_sign`]).
//! Name constraints (directory names, e-mail addresses, DNS names) of every CA on the
//! path bind the certificates below it. Validity is checked separately, at the time the
//! caller has a proof for ([`check_validity`]). Not handled yet: certificate policies.

use shomei_core::chain::ChainCert;
use shomei_revocation::{check_issued_by, validity};
use std::time::SystemTime;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, NameConstraints, SubjectAltName,
};

/// Longest path followed (leaf and anchor included).
pub const MAX_DEPTH: usize = 8;

/// Why no path was accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathFailure {
    /// No issuer leads to a trust anchor.
    #[error("no certificate path to a trust anchor: {0}")]
    NoChain(String),
    /// A path exists, but a certificate on it may not act as it does.
    #[error("{0}")]
    Constraints(String),
}

/// Why a certificate of a path is not valid at the time asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutOfValidity {
    /// The certificate at this position (0 = the leaf) expired before the time.
    Expired(usize, SystemTime),
    /// The certificate at this position was not yet valid at the time.
    NotYetValid(usize, SystemTime),
}

fn basic_constraints(cert: &ChainCert) -> Option<BasicConstraints> {
    cert.cert()
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .ok()
        .flatten()
        .map(|(_, bc)| bc)
}

fn key_usage(cert: &ChainCert) -> Option<KeyUsage> {
    cert.cert()
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .ok()
        .flatten()
        .map(|(_, ku)| ku)
}

/// May `cert` issue certificates, with `below` CA certificates under it on the path?
fn may_issue(cert: &ChainCert, below: usize) -> Result<(), String> {
    let Some(bc) = basic_constraints(cert).filter(|bc| bc.ca) else {
        return Err(format!(
            "{} is not a CA (basic constraints)",
            cert.subject()
        ));
    };
    if let Some(limit) = bc.path_len_constraint {
        if below > usize::from(limit) {
            return Err(format!(
                "{} allows {limit} CA certificates below it, the path has {below}",
                cert.subject()
            ));
        }
    }
    if key_usage(cert).is_some_and(|ku| !ku.key_cert_sign()) {
        return Err(format!(
            "{} may not sign certificates (key usage)",
            cert.subject()
        ));
    }
    Ok(())
}

/// Extended key usages that are for other things than signing documents: TLS
/// servers, time-stamping, OCSP responses.
const NOT_FOR_DOCUMENTS: [const_oid::ObjectIdentifier; 3] = [
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1"),
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8"),
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9"),
];

/// May the leaf make signatures? Key usage digitalSignature or nonRepudiation, when the
/// certificate restricts it; an extended key usage, when present, that is not only for
/// TLS servers, time-stamping or OCSP responses (any other purpose — documentSigning,
/// emailProtection, clientAuth as national eIDs have, anyExtendedKeyUsage — is taken).
pub fn may_sign(leaf: &ChainCert) -> Result<(), PathFailure> {
    if let Some(ku) = key_usage(leaf) {
        if !ku.digital_signature() && !ku.non_repudiation() {
            return Err(PathFailure::Constraints(format!(
                "{} may not make signatures (key usage has neither digitalSignature nor \
                 nonRepudiation)",
                leaf.subject()
            )));
        }
    }
    let eku = leaf
        .cert()
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .ok()
        .flatten()
        .map(|(_, eku)| eku.0);
    if let Some(purposes) = eku.filter(|p| !p.is_empty()) {
        let other = |o: &const_oid::ObjectIdentifier| NOT_FOR_DOCUMENTS.contains(o);
        if purposes.iter().all(other) {
            let names: Vec<String> = purposes.iter().map(ToString::to_string).collect();
            return Err(PathFailure::Constraints(format!(
                "{} may not sign documents (extended key usage {} only)",
                leaf.subject(),
                names.join(", ")
            )));
        }
    }
    Ok(())
}

/// A path from `leaf` to one of `anchors` through `pool`: leaf first, anchor last (a
/// leaf that is itself an anchor is a path of one).
///
/// # Errors
/// [`PathFailure::NoChain`] when no issuer leads to an anchor within [`MAX_DEPTH`];
/// [`PathFailure::Constraints`] when the only paths found break a CA constraint.
pub fn build(
    leaf: &ChainCert,
    anchors: &[ChainCert],
    pool: &[ChainCert],
) -> Result<Vec<ChainCert>, PathFailure> {
    build_with(leaf, anchors, pool, &|child, issuer| {
        check_issued_by(child, issuer).is_ok()
    })
}

/// [`build`] with `issued_by(child, issuer)` telling whether `issuer`'s key verifies
/// `child`'s signature (a validation checks the same links for several paths and can
/// remember them).
///
/// # Errors
/// As [`build`].
pub fn build_with(
    leaf: &ChainCert,
    anchors: &[ChainCert],
    pool: &[ChainCert],
    issued_by: &dyn Fn(&ChainCert, &ChainCert) -> bool,
) -> Result<Vec<ChainCert>, PathFailure> {
    let mut path = vec![leaf.clone()];
    let mut constraint = None;
    if extend(&mut path, anchors, pool, &mut constraint, issued_by) {
        check_name_constraints(&path).map_err(PathFailure::Constraints)?;
        return Ok(path);
    }
    Err(match constraint {
        Some(c) => PathFailure::Constraints(c),
        None => PathFailure::NoChain(format!(
            "no issuer of {} among {} trust anchors and {} certificates at hand",
            leaf.subject(),
            anchors.len(),
            pool.len()
        )),
    })
}

/// Depth-first: tries every issuer of the path's last certificate, anchors first.
fn extend(
    path: &mut Vec<ChainCert>,
    anchors: &[ChainCert],
    pool: &[ChainCert],
    constraint: &mut Option<String>,
    issued_by: &dyn Fn(&ChainCert, &ChainCert) -> bool,
) -> bool {
    let Some(current) = path.last().cloned() else {
        return false;
    };
    if anchors.iter().any(|a| a.der() == current.der()) {
        return true;
    }
    if path.len() >= MAX_DEPTH {
        return false;
    }
    // CA certificates already below the next issuer (the leaf is not one).
    let below = path.len().saturating_sub(1);
    for (is_anchor, candidate) in anchors
        .iter()
        .map(|a| (true, a))
        .chain(pool.iter().map(|c| (false, c)))
    {
        if path.iter().any(|p| p.der() == candidate.der()) {
            continue;
        }
        // Names first (cheap); the signature only for a candidate that names match.
        if current.cert().tbs_certificate().issuer() != candidate.cert().tbs_certificate().subject()
        {
            continue;
        }
        if !issued_by(&current, candidate) {
            continue;
        }
        if let Err(why) = may_issue(candidate, below) {
            *constraint = Some(why);
            continue;
        }
        path.push(candidate.clone());
        if is_anchor || extend(path, anchors, pool, constraint, issued_by) {
            return true;
        }
        path.pop();
    }
    false
}

/// The names a certificate carries that name constraints apply to: its subject, and the
/// e-mail addresses and DNS names of its subjectAltName.
fn constrained_names(cert: &ChainCert) -> Vec<GeneralName> {
    let tbs = cert.cert().tbs_certificate();
    let mut names = Vec::new();
    if !tbs.subject().as_ref().is_empty() {
        names.push(GeneralName::DirectoryName(tbs.subject().clone()));
    }
    if let Ok(Some((_, san))) = tbs.get_extension::<SubjectAltName>() {
        names.extend(san.0.into_iter().filter(|n| {
            matches!(
                n,
                GeneralName::Rfc822Name(_)
                    | GeneralName::DnsName(_)
                    | GeneralName::DirectoryName(_)
            )
        }));
    }
    names
}

/// Does `name` fall within the subtree `base` (RFC 5280 4.2.1.10)? `None`: the two
/// are not of the same type, the constraint does not speak about this name.
fn within(name: &GeneralName, base: &GeneralName) -> Option<bool> {
    match (name, base) {
        (GeneralName::DirectoryName(n), GeneralName::DirectoryName(b)) => {
            let (n, b) = (n.as_ref(), b.as_ref());
            Some(b.len() <= n.len() && n.iter().zip(b.iter()).all(|(x, y)| x == y))
        }
        (GeneralName::Rfc822Name(n), GeneralName::Rfc822Name(b)) => {
            let (n, b) = (
                n.as_str().to_ascii_lowercase(),
                b.as_str().to_ascii_lowercase(),
            );
            let host = n.rsplit_once('@').map_or(n.as_str(), |(_, h)| h);
            Some(if b.contains('@') {
                n == b
            } else if b.starts_with('.') {
                host.ends_with(&b)
            } else {
                host == b
            })
        }
        (GeneralName::DnsName(n), GeneralName::DnsName(b)) => {
            let (n, b) = (
                n.as_str().to_ascii_lowercase(),
                b.as_str().to_ascii_lowercase(),
            );
            let b = b.trim_start_matches('.');
            Some(b.is_empty() || n == b || n.ends_with(&format!(".{b}")))
        }
        _ => None,
    }
}

/// The name constraints of each CA of `path` (leaf first) hold for the certificates
/// below it: every name of a type a permitted subtree speaks about is in one of them,
/// and no name is in an excluded subtree.
fn check_name_constraints(path: &[ChainCert]) -> Result<(), String> {
    for (i, ca) in path.iter().enumerate().skip(1) {
        let nc = match ca
            .cert()
            .tbs_certificate()
            .get_extension::<NameConstraints>()
        {
            Ok(Some((_, nc))) => nc,
            Ok(None) => continue,
            // Constraints that cannot be read cannot be shown to hold.
            Err(e) => {
                return Err(format!(
                    "the name constraints of {} cannot be read: {e}",
                    ca.subject()
                ))
            }
        };
        for below in path.iter().take(i) {
            for name in constrained_names(below) {
                if let Some(excluded) = &nc.excluded_subtrees {
                    if excluded
                        .iter()
                        .any(|t| within(&name, &t.base) == Some(true))
                    {
                        return Err(format!(
                            "{} has a name {} excludes (name constraints)",
                            below.subject(),
                            ca.subject()
                        ));
                    }
                }
                if let Some(permitted) = &nc.permitted_subtrees {
                    let verdicts: Vec<bool> = permitted
                        .iter()
                        .filter_map(|t| within(&name, &t.base))
                        .collect();
                    if !verdicts.is_empty() && !verdicts.contains(&true) {
                        return Err(format!(
                            "{} has a name outside the subtrees {} permits (name constraints)",
                            below.subject(),
                            ca.subject()
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Most (certificate, issuer) verdicts remembered by the process.
const VERIFIED_CACHE: usize = 4096;

/// Verdicts on certificate signatures, by SHA-256 of the certificate and of the
/// issuer's certificate: a validation service sees the same CA certificates in every
/// document, and a signature verdict depends on those bytes only.
type VerifiedCache = std::collections::HashMap<([u8; 32], [u8; 32]), bool>;

fn verified_cache() -> &'static std::sync::Mutex<VerifiedCache> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<VerifiedCache>> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = shomei_core::Digest::compute(shomei_core::DigestAlgorithm::Sha256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_bytes().get(..32).unwrap_or(&[0u8; 32]));
    out
}

/// Whether `issuer`'s key verifies `child`'s signature, remembered for the process
/// (bounded: the memory is cleared when it holds [`VERIFIED_CACHE`] verdicts).
pub fn issued_by_cached(child: &ChainCert, issuer: &ChainCert) -> bool {
    let key = (sha256(child.der()), sha256(issuer.der()));
    if let Some(ok) = verified_cache()
        .lock()
        .ok()
        .and_then(|c| c.get(&key).copied())
    {
        return ok;
    }
    let ok = check_issued_by(child, issuer).is_ok();
    if let Ok(mut cache) = verified_cache().lock() {
        if cache.len() >= VERIFIED_CACHE {
            cache.clear();
        }
        cache.insert(key, ok);
    }
    ok
}

/// Forgets every remembered certificate-signature verdict (for measurements of a
/// validation that verifies everything itself).
pub fn clear_verified_cache() {
    if let Ok(mut cache) = verified_cache().lock() {
        cache.clear();
    }
}

/// The first certificate of `path` not valid at `at`.
pub fn check_validity(path: &[ChainCert], at: SystemTime) -> Result<(), OutOfValidity> {
    for (i, cert) in path.iter().enumerate() {
        let (not_before, not_after) = validity(cert);
        if at < not_before {
            return Err(OutOfValidity::NotYetValid(i, not_before));
        }
        if at > not_after {
            return Err(OutOfValidity::Expired(i, not_after));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{within, GeneralName};
    use std::str::FromStr;
    use x509_cert::name::Name;

    fn dir(s: &str) -> GeneralName {
        GeneralName::DirectoryName(Name::from_str(s).unwrap_or_default())
    }

    #[test]
    fn names_parse() {
        assert!(!Name::from_str("CN=Alice,O=Good,C=JP")
            .unwrap_or_default()
            .as_ref()
            .is_empty());
    }

    #[test]
    fn a_directory_subtree_is_a_prefix_of_rdns() {
        // Printed most significant last: "CN=a,O=Good,C=JP" is C, then O, then CN.
        let base = dir("O=Good,C=JP");
        assert_eq!(within(&dir("CN=Alice,O=Good,C=JP"), &base), Some(true));
        assert_eq!(within(&dir("CN=Mallory,O=Other,C=JP"), &base), Some(false));
        assert_eq!(within(&dir("C=JP"), &base), Some(false));
        let ia5 = der::asn1::Ia5String::new("a@good.example").ok();
        let email = ia5.map(GeneralName::Rfc822Name);
        assert_eq!(email.and_then(|e| within(&e, &base)), None);
    }
}
