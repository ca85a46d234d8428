//! Turning the contents of a PKCS#12 (`.p12` / `.pfx`) file into an identity.
//!
//! The key is matched to its certificate by public key, not by the optional
//! `localKeyId` / `friendlyName` bag attributes, which tools fill inconsistently.

use crate::error::{KeyError, Pkcs12Error};
use crate::key::PrivateKey;
use crate::pfx;
use shomei_core::chain::{ChainCert, ChainError};
use shomei_core::{CertificateChain, KeyKind};

/// The key, its kind, and its chain (signing certificate first, then the issuers
/// found in the file, in order up to a self-signed one).
pub(crate) struct Pkcs12Identity {
    pub(crate) key: PrivateKey,
    pub(crate) kind: KeyKind,
    pub(crate) chain: CertificateChain,
}

pub(crate) fn open(p12: &[u8], password: &str) -> Result<Pkcs12Identity, KeyError> {
    let contents = pfx::read(p12, password)?;
    let pkcs8 = match contents.keys.as_slice() {
        [] => return Err(Pkcs12Error::NoPrivateKey.into()),
        [only] => only,
        more => {
            return Err(Pkcs12Error::MultipleKeys { count: more.len() }.into());
        }
    };
    let key = PrivateKey::from_pkcs8(pkcs8)?;

    let certs = contents
        .certs
        .iter()
        .enumerate()
        .map(|(index, der)| {
            ChainCert::from_der(der)
                .map_err(|source| KeyError::Certificate(ChainError::Der { index, source }))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut leaf = None;
    for (i, cert) in certs.iter().enumerate() {
        match key.check_matches(cert) {
            Ok(kind) => {
                leaf = Some((i, kind));
                break;
            }
            // Other certificates (issuers, unrelated ones) are expected here.
            Err(KeyError::KeyCertMismatch { .. } | KeyError::Certificate(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let (leaf_index, kind) = leaf.ok_or(Pkcs12Error::NoMatchingCertificate)?;
    let chain = CertificateChain::new(order_chain(certs, leaf_index))?;
    Ok(Pkcs12Identity { key, kind, chain })
}

/// Puts the leaf first and follows issuer names through the remaining
/// certificates. Certificates that are not on the path are left out.
fn order_chain(mut pool: Vec<ChainCert>, leaf_index: usize) -> Vec<ChainCert> {
    if leaf_index >= pool.len() {
        return Vec::new();
    }
    let mut chain = vec![pool.remove(leaf_index)];
    // Each step moves one certificate out of the pool, so this ends.
    while let Some(current) = chain.last() {
        let tbs = current.cert().tbs_certificate();
        if tbs.issuer() == tbs.subject() {
            break;
        }
        let next = pool
            .iter()
            .position(|c| c.cert().tbs_certificate().subject() == tbs.issuer());
        match next {
            Some(i) => chain.push(pool.remove(i)),
            None => break,
        }
    }
    chain
}
