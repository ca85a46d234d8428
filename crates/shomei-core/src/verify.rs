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
