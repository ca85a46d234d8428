//! The [`RemoteSigner`] trait: how a digest reaches the signature creation device.
//!
//! Shaped after the CSC API's `signHash`: the caller hashes, the device signs a batch
//! of digests under one activation. Object safe, so backends are chosen at run time
//! (`Arc<dyn RemoteSigner>`).

use crate::alg::{KeyKind, SignatureAlgorithm};
use crate::chain::CertificateChain;
use crate::digest::Digest;
use async_trait::async_trait;

/// What a signer tells the pipeline before anything is hashed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignerDescription {
    /// Signing certificate first, then its issuers (as far as the device knows them).
    pub chain: CertificateChain,
    /// The algorithms this device will sign with.
    pub algorithms: Vec<SignatureAlgorithm>,
    /// Longest signature value it can return (ECDSA counted in DER form), in bytes.
    pub max_signature_len: usize,
}

impl SignerDescription {
    /// Creates a description.
    pub fn new(
        chain: CertificateChain,
        algorithms: Vec<SignatureAlgorithm>,
        max_signature_len: usize,
    ) -> Self {
        Self {
            chain,
            algorithms,
            max_signature_len,
        }
    }

    /// The description of a signer holding one key of `kind`: every algorithm of that
    /// kind, and its largest signature.
    pub fn for_key(chain: CertificateChain, kind: KeyKind) -> Self {
        Self::new(chain, kind.signature_algorithms(), kind.max_signature_len())
    }

    /// The key kind of the signing certificate.
    pub fn key_kind(&self) -> Result<KeyKind, crate::chain::ChainError> {
        self.chain.signing_cert().key_kind()
    }

    /// Whether the device advertises `alg`.
    pub fn supports(&self, alg: SignatureAlgorithm) -> bool {
        self.algorithms.contains(&alg)
    }

    /// The signature scheme for a user's choice of digest (`None`: the key's natural
    /// one) and of RSA-PSS, checked against the key and what the device offers. The
    /// error is a sentence for the user.
    pub fn choose_algorithm(
        &self,
        digest: Option<crate::alg::DigestAlgorithm>,
        rsa_pss: bool,
    ) -> Result<SignatureAlgorithm, String> {
        let kind = self.key_kind().map_err(|e| e.to_string())?;
        let digest = digest.unwrap_or_else(|| kind.default_digest());
        let algorithm = match kind {
            KeyKind::Rsa { .. } if rsa_pss => SignatureAlgorithm::RsaPss(digest),
            KeyKind::Rsa { .. } => SignatureAlgorithm::RsaPkcs1v15(digest),
            _ if rsa_pss => {
                return Err(format!(
                    "RSA-PSS needs an RSA key, but the signing certificate holds a {kind} key"
                ))
            }
            _ => SignatureAlgorithm::Ecdsa(digest),
        };
        if !self.supports(algorithm) {
            let offered: Vec<String> = self.algorithms.iter().map(|a| a.to_string()).collect();
            return Err(format!(
                "the signer does not offer {algorithm}; it offers: {}",
                offered.join(", ")
            ));
        }
        Ok(algorithm)
    }
}

/// A signature value as the device returned it. ECDSA devices differ in encoding;
/// the variants keep the difference explicit until the format crate normalizes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureValue {
    /// RSA (PKCS#1 v1.5 or PSS): the big-endian integer, modulus length.
    Rsa(Vec<u8>),
    /// ECDSA as `Ecdsa-Sig-Value` DER.
    EcdsaDer(Vec<u8>),
    /// ECDSA as fixed-width `r‖s`.
    EcdsaFixed(Vec<u8>),
}

impl SignatureValue {
    /// The encoding CMS needs: RSA as is, ECDSA as DER.
    pub fn to_cms(&self) -> Option<Vec<u8>> {
        match self {
            Self::Rsa(v) | Self::EcdsaDer(v) => Some(v.clone()),
            Self::EcdsaFixed(v) => crate::ecdsa::fixed_to_der(v),
        }
    }

    /// The encoding XMLDSig needs: RSA as is, ECDSA as `r‖s` with `field_len` bytes each.
    pub fn to_xmldsig(&self, field_len: usize) -> Option<Vec<u8>> {
        match self {
            Self::Rsa(v) => Some(v.clone()),
            Self::EcdsaFixed(v) => Some(v.clone()),
            Self::EcdsaDer(v) => crate::ecdsa::der_to_fixed(v, field_len),
        }
    }
}

/// Why a signer could not sign. Messages are for people: they name the cause and never
/// contain secrets (PINs, activation data, tokens).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// The device does not offer this algorithm.
    #[error("the signer does not support {0}")]
    UnsupportedAlgorithm(SignatureAlgorithm),
    /// A digest did not have the length its algorithm requires.
    #[error("digest length does not match {0}")]
    DigestMismatch(crate::alg::DigestAlgorithm),
    /// Authentication or activation was refused (wrong PIN, expired SAD, ...).
    #[error("authorization refused: {0}")]
    Unauthorized(String),
    /// The device or service could not be reached.
    #[error("signer unreachable: {0}")]
    Unavailable(String),
    /// The key material or certificate is unusable.
    #[error("key problem: {0}")]
    Key(String),
    /// The device failed while signing.
    #[error("signing failed: {0}")]
    Device(String),
    /// The device returned a different number of signatures than digests sent.
    #[error("the signer returned {got} signatures for {sent} digests")]
    CountMismatch {
        /// Digests sent.
        sent: usize,
        /// Signatures returned.
        got: usize,
    },
}

/// A signature creation device reached through hash signing.
///
/// Implementations: software keys, PKCS#11 tokens, CSC API services. The trait is
/// object safe: use it as `Arc<dyn RemoteSigner>`.
#[async_trait]
pub trait RemoteSigner: Send + Sync {
    /// The certificate chain, algorithms and size limits. Called before hashing,
    /// because the signing certificate goes into the signed attributes.
    async fn describe(&self) -> Result<SignerDescription, SignerError>;

    /// Signs every digest under one activation. Returns one value per digest, in order.
    async fn sign_digests(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError>;

    /// Signs one digest.
    async fn sign_digest(
        &self,
        algorithm: SignatureAlgorithm,
        digest: &Digest,
    ) -> Result<SignatureValue, SignerError> {
        let mut values = self
            .sign_digests(algorithm, std::slice::from_ref(digest))
            .await?;
        let got = values.len();
        match (values.pop(), got) {
            (Some(v), 1) => Ok(v),
            _ => Err(SignerError::CountMismatch { sent: 1, got }),
        }
    }
}
