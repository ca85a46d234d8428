//! Which [`SignatureAlgorithm`]s a credential offers, from the OIDs of its
//! `key.algo`, and which `signAlgo` OID to send for each.

use shomei_core::alg::oid;
use shomei_core::{DigestAlgorithm, KeyKind, SignatureAlgorithm};

/// One algorithm the credential signs with, and the `signAlgo` that asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Offer {
    pub(crate) algorithm: SignatureAlgorithm,
    /// Dotted OID sent as `signAlgo`.
    pub(crate) sign_algo: String,
}

/// Maps the credential's `key.algo` OIDs to algorithms that fit `kind`.
///
/// - `sha{256,384,512}WithRSAEncryption` and `ecdsa-with-SHA{256,384,512}` name one
///   algorithm each and are sent as they are;
/// - `rsaEncryption` offers PKCS#1 v1.5 with each digest, `id-RSASSA-PSS` offers
///   PSS with each digest (the parameters travel in `signAlgoParams`);
/// - `id-ecPublicKey` offers ECDSA with the digests that are at least as strong as
///   the curve (P-256: SHA-256/384/512, P-384: SHA-384/512).
///
/// A specific OID wins over a generic one for the same algorithm, because services
/// that list both expect the specific one. The result follows
/// [`KeyKind::signature_algorithms`]' order.
pub(crate) fn offers(key_algos: &[String], kind: KeyKind) -> Vec<Offer> {
    let listed = |o: &str| key_algos.iter().any(|a| a.trim() == o);
    let mut out: Vec<Offer> = Vec::new();
    for algorithm in kind.signature_algorithms() {
        let specific = algorithm.oid().to_string();
        let sign_algo = match algorithm {
            SignatureAlgorithm::RsaPkcs1v15(_) if listed(&specific) => Some(specific),
            SignatureAlgorithm::RsaPkcs1v15(_) => {
                let generic = oid::RSA_ENCRYPTION.to_string();
                listed(&generic).then_some(generic)
            }
            SignatureAlgorithm::RsaPss(_) => listed(&specific).then_some(specific),
            SignatureAlgorithm::Ecdsa(_) if listed(&specific) => Some(specific),
            SignatureAlgorithm::Ecdsa(d) => {
                let generic = oid::EC_PUBLIC_KEY.to_string();
                (listed(&generic) && strong_enough(d, kind)).then_some(generic)
            }
            _ => None,
        };
        if let Some(sign_algo) = sign_algo {
            out.push(Offer {
                algorithm,
                sign_algo,
            });
        }
    }
    out
}

/// Whether `digest` is at least as strong as the curve (NIST SP 800-57 pairing).
fn strong_enough(digest: DigestAlgorithm, kind: KeyKind) -> bool {
    match kind {
        KeyKind::EcP384 => digest != DigestAlgorithm::Sha256,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DigestAlgorithm::*;

    fn algs(list: &[&str], kind: KeyKind) -> Vec<SignatureAlgorithm> {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        offers(&list, kind)
            .into_iter()
            .map(|o| o.algorithm)
            .collect()
    }

    #[test]
    fn rsa_generic_and_specific() {
        let rsa = KeyKind::Rsa { bits: 2048 };
        assert_eq!(
            algs(&["1.2.840.113549.1.1.1"], rsa),
            vec![
                SignatureAlgorithm::RsaPkcs1v15(Sha256),
                SignatureAlgorithm::RsaPkcs1v15(Sha384),
                SignatureAlgorithm::RsaPkcs1v15(Sha512)
            ]
        );
        let both = offers(
            &[
                "1.2.840.113549.1.1.1".to_string(),
                "1.2.840.113549.1.1.11".to_string(),
                "1.2.840.113549.1.1.10".to_string(),
            ],
            rsa,
        );
        assert_eq!(both.len(), 6);
        assert_eq!(both[0].sign_algo, "1.2.840.113549.1.1.11");
        assert_eq!(both[1].sign_algo, "1.2.840.113549.1.1.1");
        assert_eq!(both[3].sign_algo, "1.2.840.113549.1.1.10");
    }

    #[test]
    fn ec_by_curve_and_key_fit() {
        assert_eq!(algs(&["1.2.840.10045.2.1"], KeyKind::EcP256).len(), 3);
        assert_eq!(
            algs(&["1.2.840.10045.2.1"], KeyKind::EcP384),
            vec![
                SignatureAlgorithm::Ecdsa(Sha384),
                SignatureAlgorithm::Ecdsa(Sha512)
            ]
        );
        assert_eq!(
            algs(&["1.2.840.10045.4.3.2"], KeyKind::EcP384),
            vec![SignatureAlgorithm::Ecdsa(Sha256)]
        );
        // RSA OIDs on an EC certificate offer nothing.
        assert!(algs(&["1.2.840.113549.1.1.11"], KeyKind::EcP256).is_empty());
    }
}
