//! Checking signatures that others made, before shomei adds anything to them.
//!
//! Extension must never time-stamp or archive a signature that is already broken, and
//! the signatures found in real files use more than shomei ever signs with: SHA-1 (in
//! old message digests, XMLDSig references and `rsa-sha1`), `rsaEncryption` named as
//! the signature algorithm, RSA keys shorter than 2048 bits. Those are accepted here
//! **only to check** an existing signature; [`crate::DigestAlgorithm`] (what shomei
//! signs with) stays SHA-2 only.

use crate::alg::{oid, DigestAlgorithm, KeyKind};
use crate::chain::ChainCert;
use crate::verify::VerifyError;
use aws_lc_rs::{digest as lc_digest, signature as lc};
use const_oid::ObjectIdentifier;

/// id-sha1 (RFC 3279).
pub const SHA1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
/// sha1WithRSAEncryption (RFC 8017).
const SHA1_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
/// ecdsa-with-SHA1 (RFC 3279).
const ECDSA_WITH_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
/// ecdsa-plain-SHA1/256/384/512 (BSI TR-03111 5.2.1): the value is `r‖s`.
const ECDSA_PLAIN_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.1");
const ECDSA_PLAIN_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.3");
const ECDSA_PLAIN_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.4");
const ECDSA_PLAIN_SHA512: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("0.4.0.127.0.7.1.1.4.1.5");

/// A hash function found in an existing signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CheckHash {
    /// SHA-1: checked in old signatures, never used to sign.
    Sha1,
    /// SHA-256, SHA-384 or SHA-512.
    Sha2(DigestAlgorithm),
}

impl CheckHash {
    /// The hash an `AlgorithmIdentifier` OID names.
    pub fn from_oid(id: &ObjectIdentifier) -> Option<Self> {
        if *id == SHA1_OID {
            return Some(Self::Sha1);
        }
        DigestAlgorithm::from_oid(id).map(Self::Sha2)
    }

    fn lc(self) -> &'static lc_digest::Algorithm {
        match self {
            Self::Sha1 => &lc_digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha2(DigestAlgorithm::Sha256) => &lc_digest::SHA256,
            Self::Sha2(DigestAlgorithm::Sha384) => &lc_digest::SHA384,
            Self::Sha2(DigestAlgorithm::Sha512) => &lc_digest::SHA512,
        }
    }

    /// The hash of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        lc_digest::digest(self.lc(), data).as_ref().to_vec()
    }

    /// A streaming hasher.
    pub fn hasher(self) -> CheckHasher {
        CheckHasher(lc_digest::Context::new(self.lc()))
    }

    /// The usual name (`SHA-1`, `SHA-256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha2(d) => d.name(),
        }
    }
}

/// Streaming form of [`CheckHash::digest`].
#[derive(Clone)]
pub struct CheckHasher(lc_digest::Context);

impl std::fmt::Debug for CheckHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckHasher")
    }
}

impl CheckHasher {
    /// Adds data.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The hash of everything added.
    pub fn finish(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

/// The signature scheme of an existing signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckScheme {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1(CheckHash),
    /// RSASSA-PSS, MGF1 with the same hash, salt as long as the hash.
    RsaPss(DigestAlgorithm),
    /// ECDSA (value as DER at [`verify_existing`]).
    Ecdsa(CheckHash),
    /// ECDSA with the value as plain `r‖s` (BSI TR-03111 `ecdsa-plain-*`).
    EcdsaPlain(CheckHash),
}

impl CheckScheme {
    /// The scheme a CMS SignerInfo names: its `signatureAlgorithm`, with the
    /// `digestAlgorithm` for the identifiers that name only the key type
    /// (`rsaEncryption`, `id-ecPublicKey`, as many producers write).
    pub fn from_cms(
        signature_algorithm: &spki::AlgorithmIdentifierOwned,
        digest_algorithm: &ObjectIdentifier,
    ) -> Result<Self, VerifyError> {
        let digest = CheckHash::from_oid(digest_algorithm);
        let unsupported = || {
            VerifyError::Key(format!(
                "signature algorithm {} with digest {digest_algorithm} cannot be checked",
                signature_algorithm.oid
            ))
        };
        let named = signature_algorithm.oid;
        Ok(match named {
            o if o == oid::RSA_ENCRYPTION => Self::RsaPkcs1(digest.ok_or_else(unsupported)?),
            o if o == oid::EC_PUBLIC_KEY => Self::Ecdsa(digest.ok_or_else(unsupported)?),
            o if o == SHA1_WITH_RSA => Self::RsaPkcs1(CheckHash::Sha1),
            o if o == ECDSA_WITH_SHA1 => Self::Ecdsa(CheckHash::Sha1),
            o if o == ECDSA_PLAIN_SHA1 => Self::EcdsaPlain(CheckHash::Sha1),
            o if o == ECDSA_PLAIN_SHA256 => {
                Self::EcdsaPlain(CheckHash::Sha2(DigestAlgorithm::Sha256))
            }
            o if o == ECDSA_PLAIN_SHA384 => {
                Self::EcdsaPlain(CheckHash::Sha2(DigestAlgorithm::Sha384))
            }
            o if o == ECDSA_PLAIN_SHA512 => {
                Self::EcdsaPlain(CheckHash::Sha2(DigestAlgorithm::Sha512))
            }
            _ => match crate::verify::algorithm_from_identifier(signature_algorithm)? {
                crate::SignatureAlgorithm::RsaPkcs1v15(d) => Self::RsaPkcs1(CheckHash::Sha2(d)),
                crate::SignatureAlgorithm::RsaPss(d) => Self::RsaPss(d),
                crate::SignatureAlgorithm::Ecdsa(d) => Self::Ecdsa(CheckHash::Sha2(d)),
            },
        })
    }

    /// The hash the scheme signs with.
    pub fn hash(self) -> CheckHash {
        match self {
            Self::RsaPkcs1(h) | Self::Ecdsa(h) | Self::EcdsaPlain(h) => h,
            Self::RsaPss(d) => CheckHash::Sha2(d),
        }
    }
}

/// Verifies `signature` (ECDSA as DER) over `message` with the public key of `cert`,
/// for a signature someone else made.
pub fn verify_existing(
    cert: &ChainCert,
    scheme: CheckScheme,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let digest = scheme.hash().digest(message);
    verify_existing_digest(cert, scheme, &digest, signature)
}

/// [`verify_existing`] over the already computed hash of the message (as
/// [`CheckScheme::hash`] computes it): for content hashed while it streams by.
pub fn verify_existing_digest(
    cert: &ChainCert,
    scheme: CheckScheme,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    use CheckHash::{Sha1, Sha2};
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    if let CheckScheme::EcdsaPlain(h) = scheme {
        let der = crate::ecdsa::fixed_to_der(signature).ok_or(VerifyError::Invalid)?;
        return verify_existing_digest(cert, CheckScheme::Ecdsa(h), digest, &der);
    }
    let key = cert
        .key_kind()
        .map_err(|e| VerifyError::Key(e.to_string()))?;
    let params: &'static dyn lc::VerificationAlgorithm = match (scheme, key) {
        (CheckScheme::RsaPkcs1(Sha1), KeyKind::Rsa { .. }) => {
            &lc::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
        }
        (CheckScheme::RsaPkcs1(Sha2(Sha256)), KeyKind::Rsa { .. }) => {
            &lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
        }
        (CheckScheme::RsaPkcs1(Sha2(Sha384)), KeyKind::Rsa { .. }) => {
            &lc::RSA_PKCS1_2048_8192_SHA384
        }
        (CheckScheme::RsaPkcs1(Sha2(Sha512)), KeyKind::Rsa { .. }) => {
            &lc::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
        }
        (CheckScheme::RsaPss(Sha256), KeyKind::Rsa { .. }) => &lc::RSA_PSS_2048_8192_SHA256,
        (CheckScheme::RsaPss(Sha384), KeyKind::Rsa { .. }) => &lc::RSA_PSS_2048_8192_SHA384,
        (CheckScheme::RsaPss(Sha512), KeyKind::Rsa { .. }) => &lc::RSA_PSS_2048_8192_SHA512,
        (CheckScheme::Ecdsa(Sha1), KeyKind::EcP256) => &lc::ECDSA_P256_SHA1_ASN1,
        (CheckScheme::Ecdsa(Sha2(Sha256)), KeyKind::EcP256) => &lc::ECDSA_P256_SHA256_ASN1,
        (CheckScheme::Ecdsa(Sha2(Sha384)), KeyKind::EcP256) => &lc::ECDSA_P256_SHA384_ASN1,
        (CheckScheme::Ecdsa(Sha2(Sha512)), KeyKind::EcP256) => &lc::ECDSA_P256_SHA512_ASN1,
        (CheckScheme::Ecdsa(Sha2(Sha256)), KeyKind::EcP384) => &lc::ECDSA_P384_SHA256_ASN1,
        (CheckScheme::Ecdsa(Sha2(Sha384)), KeyKind::EcP384) => &lc::ECDSA_P384_SHA384_ASN1,
        (CheckScheme::Ecdsa(Sha2(Sha512)), KeyKind::EcP384) => &lc::ECDSA_P384_SHA512_ASN1,
        _ => {
            return Err(VerifyError::Key(format!(
                "{scheme:?} cannot be checked with a {key} key"
            )))
        }
    };
    let digest = lc_digest::Digest::import_less_safe(digest, scheme.hash().lc())
        .map_err(|_| VerifyError::Invalid)?;
    lc::UnparsedPublicKey::new(params, cert.public_key_bits())
        .verify_digest(&digest, signature)
        .map_err(|_| VerifyError::Invalid)
}

/// The Ed25519 algorithm identifier (RFC 8410).
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Verifies an Ed25519 `signature` over the whole `message` (EdDSA hashes inside, so
/// there is no digest form) with the public key of `cert`, for a signature someone else
/// made (XMLDSig `eddsa-ed25519`, RFC 9231).
pub fn verify_existing_ed25519(
    cert: &ChainCert,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let spki = cert.cert().tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid != ED25519 {
        return Err(VerifyError::Key(format!(
            "an Ed25519 signature cannot be checked with a key of algorithm {}",
            spki.algorithm.oid
        )));
    }
    lc::UnparsedPublicKey::new(&lc::ED25519, cert.public_key_bits())
        .verify(message, signature)
        .map_err(|_| VerifyError::Invalid)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn hashes_match_known_values() {
        assert_eq!(
            CheckHash::Sha1.digest(b"abc"),
            [
                0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
                0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d
            ]
        );
        let mut h = CheckHash::Sha2(DigestAlgorithm::Sha256).hasher();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(
            h.finish(),
            CheckHash::Sha2(DigestAlgorithm::Sha256).digest(b"abc")
        );
        assert_eq!(CheckHash::from_oid(&SHA1_OID), Some(CheckHash::Sha1));
        assert_eq!(
            CheckHash::from_oid(&oid::SHA384),
            Some(CheckHash::Sha2(DigestAlgorithm::Sha384))
        );
    }

    #[test]
    fn cms_identifiers_that_name_only_the_key_take_the_digest() {
        let rsa = spki::AlgorithmIdentifierOwned {
            oid: oid::RSA_ENCRYPTION,
            parameters: None,
        };
        assert_eq!(
            CheckScheme::from_cms(&rsa, &SHA1_OID).unwrap(),
            CheckScheme::RsaPkcs1(CheckHash::Sha1)
        );
        assert_eq!(
            CheckScheme::from_cms(&rsa, &oid::SHA512).unwrap(),
            CheckScheme::RsaPkcs1(CheckHash::Sha2(DigestAlgorithm::Sha512))
        );
        let unknown = ObjectIdentifier::new_unwrap("1.2.3.4");
        assert!(CheckScheme::from_cms(&rsa, &unknown).is_err());
    }
}
