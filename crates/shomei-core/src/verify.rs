//! Checking a signature value against the signing certificate before it is embedded.
//!
//! A remote device that returns garbage, signs with another key, or signs another
//! digest must never produce a document that looks signed.

use crate::alg::{DigestAlgorithm, KeyKind, SignatureAlgorithm};
use crate::chain::ChainCert;
use crate::digest::Digest;
use aws_lc_rs::{digest as lc_digest, signature as lc};

/// Why a signature value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The algorithm does not fit the certificate's key.
    #[error("{alg} cannot be verified with a {key} key")]
    AlgorithmMismatch {
        /// Requested algorithm.
        alg: SignatureAlgorithm,
        /// The certificate's key.
        key: KeyKind,
    },
    /// The certificate's key could not be read.
    #[error("certificate key: {0}")]
    Key(String),
    /// The value does not verify.
    #[error("the signature value does not verify against the signing certificate's public key")]
    Invalid,
}

fn lc_digest_alg(d: DigestAlgorithm) -> &'static lc_digest::Algorithm {
    match d {
        DigestAlgorithm::Sha256 => &lc_digest::SHA256,
        DigestAlgorithm::Sha384 => &lc_digest::SHA384,
        DigestAlgorithm::Sha512 => &lc_digest::SHA512,
    }
}

/// Verifies `signature` (CMS encoding: ECDSA as DER) over the already computed `digest`.
pub fn verify_digest_signature(
    cert: &ChainCert,
    alg: SignatureAlgorithm,
    digest: &Digest,
    signature: &[u8],
) -> Result<(), VerifyError> {
    use DigestAlgorithm::*;
    let key = cert
        .key_kind()
        .map_err(|e| VerifyError::Key(e.to_string()))?;
    if !alg.fits_key(key) || digest.algorithm() != alg.digest() {
        return Err(VerifyError::AlgorithmMismatch { alg, key });
    }
    let params: &'static dyn lc::VerificationAlgorithm = match (alg, key) {
        (SignatureAlgorithm::RsaPkcs1v15(Sha256), _) => &lc::RSA_PKCS1_2048_8192_SHA256,
        (SignatureAlgorithm::RsaPkcs1v15(Sha384), _) => &lc::RSA_PKCS1_2048_8192_SHA384,
        (SignatureAlgorithm::RsaPkcs1v15(Sha512), _) => &lc::RSA_PKCS1_2048_8192_SHA512,
        (SignatureAlgorithm::RsaPss(Sha256), _) => &lc::RSA_PSS_2048_8192_SHA256,
        (SignatureAlgorithm::RsaPss(Sha384), _) => &lc::RSA_PSS_2048_8192_SHA384,
        (SignatureAlgorithm::RsaPss(Sha512), _) => &lc::RSA_PSS_2048_8192_SHA512,
        (SignatureAlgorithm::Ecdsa(Sha256), KeyKind::EcP256) => &lc::ECDSA_P256_SHA256_ASN1,
        (SignatureAlgorithm::Ecdsa(Sha384), KeyKind::EcP256) => &lc::ECDSA_P256_SHA384_ASN1,
        (SignatureAlgorithm::Ecdsa(Sha512), KeyKind::EcP256) => &lc::ECDSA_P256_SHA512_ASN1,
        (SignatureAlgorithm::Ecdsa(Sha256), KeyKind::EcP384) => &lc::ECDSA_P384_SHA256_ASN1,
        (SignatureAlgorithm::Ecdsa(Sha384), KeyKind::EcP384) => &lc::ECDSA_P384_SHA384_ASN1,
        (SignatureAlgorithm::Ecdsa(Sha512), KeyKind::EcP384) => &lc::ECDSA_P384_SHA512_ASN1,
        _ => return Err(VerifyError::AlgorithmMismatch { alg, key }),
    };
    let lc_d =
        lc_digest::Digest::import_less_safe(digest.as_bytes(), lc_digest_alg(digest.algorithm()))
            .map_err(|_| VerifyError::Invalid)?;
    lc::UnparsedPublicKey::new(params, cert.public_key_bits())
        .verify_digest(&lc_d, signature)
        .map_err(|_| VerifyError::Invalid)
}

/// The signature scheme named by an `AlgorithmIdentifier` (X.509, CMS, OCSP, CRL).
/// RSASSA-PSS parameters must name SHA-256/384/512 with MGF1 over the same hash.
pub fn algorithm_from_identifier(
    id: &spki::AlgorithmIdentifierOwned,
) -> Result<SignatureAlgorithm, VerifyError> {
    use crate::alg::oid;
    let d = match id.oid {
        o if o == oid::SHA256_WITH_RSA => {
            return Ok(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256))
        }
        o if o == oid::SHA384_WITH_RSA => {
            return Ok(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha384))
        }
        o if o == oid::SHA512_WITH_RSA => {
            return Ok(SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha512))
        }
        o if o == oid::ECDSA_WITH_SHA256 => {
            return Ok(SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256))
        }
        o if o == oid::ECDSA_WITH_SHA384 => {
            return Ok(SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384))
        }
        o if o == oid::ECDSA_WITH_SHA512 => {
            return Ok(SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha512))
        }
        o if o == oid::RSASSA_PSS => DigestAlgorithm::ALL
            .into_iter()
            .find(|d| {
                let expected = SignatureAlgorithm::RsaPss(*d).algorithm_identifier();
                expected.parameters.as_ref().map(der::Encode::to_der)
                    == id.parameters.as_ref().map(der::Encode::to_der)
            })
            .ok_or_else(|| VerifyError::Key("unsupported RSASSA-PSS parameters".into()))?,
        other => {
            return Err(VerifyError::Key(format!(
                "unsupported signature algorithm {other}"
            )))
        }
    };
    Ok(SignatureAlgorithm::RsaPss(d))
}

/// Verifies `signature` over `message` (not a digest) with the algorithm an
/// `AlgorithmIdentifier` names — for time-stamp tokens, OCSP responses and CRLs.
pub fn verify_message(
    cert: &ChainCert,
    id: &spki::AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let alg = algorithm_from_identifier(id)?;
    let digest = Digest::compute(alg.digest(), message);
    verify_digest_signature(cert, alg, &digest, signature)
}
