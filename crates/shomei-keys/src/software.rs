//! [`SoftwareSigner`]: a private key in this process, behind the [`RemoteSigner`] trait.

use crate::error::KeyError;
use crate::format::extract_private_key;
use crate::key::PrivateKey;
use crate::pkcs12;
use async_trait::async_trait;
use shomei_core::chain::ChainCert;
use shomei_core::{
    CertificateChain, Digest, KeyKind, RemoteSigner, SignatureAlgorithm, SignatureValue,
    SignerDescription, SignerError,
};
use std::fmt;

/// A software signature creation device: a private key held in memory by
/// aws-lc-rs, with its certificate chain.
///
/// Construction refuses a key that does not match the signing certificate.
/// Signing runs inline on the calling thread (see [`Self::sign_digests_blocking`]).
/// The key is wiped from memory when the signer is dropped; `Debug` shows only
/// the key kind and the certificate subject.
pub struct SoftwareSigner {
    key: PrivateKey,
    kind: KeyKind,
    chain: CertificateChain,
    algorithms: Vec<SignatureAlgorithm>,
}

impl SoftwareSigner {
    /// Loads a private key and pairs it with `chain` (signing certificate first).
    ///
    /// `key_bytes` may be PEM (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`;
    /// other blocks such as `EC PARAMETERS` or certificates are skipped) or DER
    /// (PKCS#8, PKCS#1, SEC 1). The format is read from the content. Supported keys:
    /// RSA 2048–8192 bits, ECDSA P-256 and P-384.
    ///
    /// # Errors
    /// [`KeyError::NotAKey`] for anything that is not a private key (PKCS#12 files
    /// included: use [`Self::from_pkcs12`]), [`KeyError::EncryptedPkcs8`] /
    /// [`KeyError::EncryptedPem`] for password-protected keys,
    /// [`KeyError::UnsupportedKeyType`], [`KeyError::InvalidKey`], and
    /// [`KeyError::KeyCertMismatch`] when the signing certificate certifies
    /// another key.
    pub fn from_key_and_chain(key_bytes: &[u8], chain: CertificateChain) -> Result<Self, KeyError> {
        let (encoding, der) = extract_private_key(key_bytes)?;
        let key = PrivateKey::from_der(encoding, &der)?;
        drop(der);
        let kind = key.check_matches(chain.signing_cert())?;
        Ok(Self::assemble(key, kind, chain))
    }

    /// Opens a PKCS#12 (`.p12` / `.pfx`) file with its password.
    ///
    /// The file must hold exactly one private key and its certificate. The chain
    /// is that certificate followed by its issuers found in the file; add others
    /// with [`Self::add_chain_certs`].
    ///
    /// # Errors
    /// [`KeyError::Pkcs12`] with [`crate::Pkcs12Error::WrongPassword`] for a wrong
    /// password, and the other [`crate::Pkcs12Error`] reasons; key errors as for
    /// [`Self::from_key_and_chain`].
    pub fn from_pkcs12(p12: &[u8], password: &str) -> Result<Self, KeyError> {
        let identity = pkcs12::open(p12, password)?;
        Ok(Self::assemble(identity.key, identity.kind, identity.chain))
    }

    fn assemble(key: PrivateKey, kind: KeyKind, chain: CertificateChain) -> Self {
        let algorithms = kind.signature_algorithms();
        Self {
            key,
            kind,
            chain,
            algorithms,
        }
    }

    /// Appends issuer certificates missing from the chain (duplicates are skipped).
    pub fn add_chain_certs(&mut self, extra: Vec<ChainCert>) {
        self.chain.extend(extra);
    }

    /// The kind of key (RSA with its exact modulus length, or the curve).
    pub fn key_kind(&self) -> KeyKind {
        self.kind
    }

    /// The certificate chain, signing certificate first.
    pub fn chain(&self) -> &CertificateChain {
        &self.chain
    }

    /// The algorithms this key signs with: for RSA, PKCS#1 v1.5 and PSS with
    /// SHA-256/384/512; for ECDSA (P-256 and P-384), SHA-256/384/512.
    pub fn algorithms(&self) -> &[SignatureAlgorithm] {
        &self.algorithms
    }

    /// Signs digests synchronously. [`RemoteSigner::sign_digests`] calls this
    /// inline: a signature costs well under a millisecond (RSA-2048 about 0.5 ms,
    /// ECDSA P-256 far less), so no thread hop is made. A server signing large
    /// batches on an async runtime can call this from `spawn_blocking` instead.
    ///
    /// Every digest is checked before anything is signed.
    ///
    /// # Errors
    /// [`SignerError::UnsupportedAlgorithm`] when `algorithm` is not one of
    /// [`Self::algorithms`]; [`SignerError::DigestMismatch`] when a digest was not
    /// made with `algorithm`'s hash or has the wrong length.
    pub fn sign_digests_blocking(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        if !self.algorithms.contains(&algorithm) {
            return Err(SignerError::UnsupportedAlgorithm(algorithm));
        }
        let wanted = algorithm.digest();
        for d in digests {
            if d.algorithm() != wanted || d.as_bytes().len() != wanted.output_len() {
                return Err(SignerError::DigestMismatch(wanted));
            }
        }
        digests
            .iter()
            .map(|d| self.key.sign(algorithm, d))
            .collect()
    }
}

#[async_trait]
impl RemoteSigner for SoftwareSigner {
    async fn describe(&self) -> Result<SignerDescription, SignerError> {
        Ok(SignerDescription::for_key(self.chain.clone(), self.kind))
    }

    /// Signs inline, without yielding: see [`SoftwareSigner::sign_digests_blocking`].
    async fn sign_digests(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        self.sign_digests_blocking(algorithm, digests)
    }
}

impl fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("key", &format_args!("{}", self.kind))
            .field("subject", &self.chain.signing_cert().subject())
            .finish_non_exhaustive()
    }
}
