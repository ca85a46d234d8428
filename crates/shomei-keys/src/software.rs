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
use std::sync::Arc;

/// Signing estimated to take less than this runs inline on the caller's thread; more
/// goes to the blocking pool (a thread hop costs some microseconds, so a single ECDSA
/// P-256 signature is cheaper inline, while an RSA signature or a batch would hold an
/// executor thread for milliseconds).
const INLINE_BUDGET_MICROS: u64 = 100;

/// A rough cost of one signature on this kind of key, in microseconds.
fn micros_per_signature(kind: KeyKind) -> u64 {
    match kind {
        KeyKind::Rsa { bits } if bits <= 2048 => 600,
        KeyKind::Rsa { bits } if bits <= 3072 => 1800,
        KeyKind::Rsa { .. } => 5000,
        KeyKind::EcP256 => 30,
        _ => 150,
    }
}

/// What [`SoftwareSigner::open`] takes: the bytes of the files a user names.
#[derive(Clone, Copy, Default)]
#[non_exhaustive]
pub struct KeyMaterial<'a> {
    /// The key file: PKCS#8, PKCS#1 or SEC 1 (PEM or DER), or PKCS#12.
    pub key: &'a [u8],
    /// The signing certificate (PEM or DER); required with a bare key, checked
    /// against the key of a PKCS#12 file.
    pub certificate: Option<&'a [u8]>,
    /// The PKCS#12 password.
    pub password: Option<&'a str>,
    /// Issuer certificates to append to the chain.
    pub issuers: &'a [ChainCert],
}

impl fmt::Debug for KeyMaterial<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("key", &format_args!("{} bytes", self.key.len()))
            .field("certificate", &self.certificate.is_some())
            .field("password", &self.password.map(|_| "(set)"))
            .finish_non_exhaustive()
    }
}

impl<'a> KeyMaterial<'a> {
    /// Material with only the key file.
    pub fn new(key: &'a [u8]) -> Self {
        Self {
            key,
            ..Self::default()
        }
    }
}

/// A software signature creation device: a private key held in memory by
/// aws-lc-rs, with its certificate chain.
///
/// Construction refuses a key that does not match the signing certificate.
/// Through [`RemoteSigner::sign_digests`], work estimated over 100 µs (any RSA
/// signature, ECDSA batches) runs on the tokio blocking pool when there is a tokio
/// runtime, so an async server's executor threads are never held; a single ECDSA
/// signature, or any signature outside tokio, runs inline.
/// The key is wiped from memory when the signer is dropped; `Debug` shows only
/// the key kind and the certificate subject.
pub struct SoftwareSigner {
    key: Arc<PrivateKey>,
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

    /// Opens a software key as a user hands it over, telling the format from the
    /// content ([`crate::detect_format`]): a PKCS#12 file with `password` (its
    /// certificate must be `certificate` when one is given), or a PKCS#8 / PKCS#1 /
    /// SEC 1 key with its `certificate`. `issuers` are appended to the chain.
    ///
    /// # Errors
    /// [`KeyError::PasswordRequired`] for a PKCS#12 file without password,
    /// [`KeyError::CertificateRequired`] for a bare key without certificate,
    /// [`KeyError::KeyCertMismatch`] when `certificate` is not the key's, and the
    /// errors of [`Self::from_pkcs12`] and [`Self::from_key_and_chain`].
    pub fn open(material: KeyMaterial<'_>) -> Result<Self, KeyError> {
        let mut signer = if crate::detect_format(material.key) == crate::KeyFormat::Pkcs12 {
            let password = material.password.ok_or(KeyError::PasswordRequired)?;
            let signer = Self::from_pkcs12(material.key, password)?;
            if let Some(cert) = material.certificate {
                let given = CertificateChain::from_pem_or_der(cert)?;
                if given.signing_cert().der() != signer.chain.signing_cert().der() {
                    return Err(KeyError::KeyCertMismatch {
                        subject: given.signing_cert().subject(),
                        detail: "the PKCS#12 file holds the key of another certificate".into(),
                    });
                }
            }
            signer
        } else {
            let cert = material.certificate.ok_or(KeyError::CertificateRequired)?;
            Self::from_key_and_chain(material.key, CertificateChain::from_pem_or_der(cert)?)?
        };
        signer.add_chain_certs(material.issuers.to_vec());
        Ok(signer)
    }

    fn assemble(key: PrivateKey, kind: KeyKind, chain: CertificateChain) -> Self {
        let algorithms = kind.signature_algorithms();
        Self {
            key: Arc::new(key),
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

    /// Signs digests synchronously, on the calling thread.
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
        self.check_request(algorithm, digests)?;
        sign_all(&self.key, algorithm, digests)
    }

    fn check_request(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<(), SignerError> {
        check_request(&self.algorithms, algorithm, digests)
    }
}

/// A bare private key, without certificate: what a signing service holds for a
/// credential whose `signHash` returns raw signature values. Wiped when dropped.
pub struct SoftwareKey {
    key: PrivateKey,
    kind: KeyKind,
}

impl SoftwareKey {
    /// Loads an unencrypted PKCS#8 `PrivateKeyInfo` (RSA, ECDSA P-256 or P-384).
    ///
    /// # Errors
    /// [`KeyError::UnsupportedKeyType`] and [`KeyError::InvalidKey`].
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = PrivateKey::from_pkcs8(der)?;
        let kind = key.kind();
        Ok(Self { key, kind })
    }

    /// The kind of key.
    pub fn key_kind(&self) -> KeyKind {
        self.kind
    }

    /// Signs digests on the calling thread, after checking each against `algorithm`.
    ///
    /// # Errors
    /// As [`SoftwareSigner::sign_digests_blocking`].
    pub fn sign_digests_blocking(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        check_request(&self.kind.signature_algorithms(), algorithm, digests)?;
        sign_all(&self.key, algorithm, digests)
    }
}

impl fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("key", &format_args!("{}", self.kind))
            .finish_non_exhaustive()
    }
}

/// `algorithm` is one of `algorithms`, and every digest was made with its hash.
fn check_request(
    algorithms: &[SignatureAlgorithm],
    algorithm: SignatureAlgorithm,
    digests: &[Digest],
) -> Result<(), SignerError> {
    if !algorithms.contains(&algorithm) {
        return Err(SignerError::UnsupportedAlgorithm(algorithm));
    }
    let wanted = algorithm.digest();
    for d in digests {
        if d.algorithm() != wanted || d.as_bytes().len() != wanted.output_len() {
            return Err(SignerError::DigestMismatch(wanted));
        }
    }
    Ok(())
}

fn sign_all(
    key: &PrivateKey,
    algorithm: SignatureAlgorithm,
    digests: &[Digest],
) -> Result<Vec<SignatureValue>, SignerError> {
    digests.iter().map(|d| key.sign(algorithm, d)).collect()
}

#[async_trait]
impl RemoteSigner for SoftwareSigner {
    async fn describe(&self) -> Result<SignerDescription, SignerError> {
        Ok(SignerDescription::for_key(self.chain.clone(), self.kind))
    }

    /// Inline below about 100 µs of work, else on the blocking pool (see the type).
    async fn sign_digests(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        self.check_request(algorithm, digests)?;
        let count = u64::try_from(digests.len()).unwrap_or(u64::MAX);
        if micros_per_signature(self.kind).saturating_mul(count) <= INLINE_BUDGET_MICROS {
            return sign_all(&self.key, algorithm, digests);
        }
        let key = Arc::clone(&self.key);
        let digests = digests.to_vec();
        shomei_core::blocking::run_blocking(move || sign_all(&key, algorithm, &digests)).await?
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
