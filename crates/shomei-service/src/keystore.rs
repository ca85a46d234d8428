//! The software SCDev of the service: each credential's private key is generated here
//! and kept only sealed (AES-256-GCM) under a master key that never enters the
//! database. A key is unsealed for one signing call and wiped after; there is no way
//! to export it.

use crate::ServiceError;
use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

/// The key kinds a credential can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA, 2048 bits.
    Rsa2048,
    /// RSA, 3072 bits.
    Rsa3072,
    /// ECDSA over P-256.
    EcP256,
    /// ECDSA over P-384.
    EcP384,
}

impl KeyKind {
    /// The name stored and shown (`rsa-2048`, `ec-p256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa-2048",
            Self::Rsa3072 => "rsa-3072",
            Self::EcP256 => "ec-p256",
            Self::EcP384 => "ec-p384",
        }
    }

    /// The kind a name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Rsa2048, Self::Rsa3072, Self::EcP256, Self::EcP384]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// The master key: 32 bytes, from a file or an environment variable (base64), never
/// from the database. Zeroized on drop; `Debug` shows nothing of it.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// What the master-key check value seals.
const CHECK_PLAINTEXT: &[u8] = b"shomei master key check v1";

impl MasterKey {
    /// A new random master key.
    pub fn generate() -> Result<Self, ServiceError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| ServiceError::Internal("no randomness".into()))?;
        Ok(Self(bytes))
    }

    /// The key from its base64 text (what a key file or variable holds).
    pub fn from_base64(text: &str) -> Result<Self, ServiceError> {
        let decoded = Zeroizing::new(
            Base64::decode_vec(text.trim())
                .map_err(|_| ServiceError::Config("the master key is not base64".into()))?,
        );
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            ServiceError::Config(format!(
                "the master key must be 32 bytes, not {}",
                decoded.len()
            ))
        })?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// The base64 text of the key (to write a new key file).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(Base64::encode_string(self.0.as_ref()))
    }

    fn aead(&self) -> Result<RandomizedNonceKey, ServiceError> {
        RandomizedNonceKey::new(&AES_256_GCM, self.0.as_ref())
            .map_err(|_| ServiceError::Internal("AES-256-GCM key".into()))
    }

    /// Seals `plaintext`, bound to `context` (e.g. the credential id, so a sealed key
    /// cannot be moved to another credential). Base64 of nonce, ciphertext and tag.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<String, ServiceError> {
        let mut buffer = plaintext.to_vec();
        let nonce = self
            .aead()?
            .seal_in_place_append_tag(Aad::from(context.as_bytes()), &mut buffer)
            .map_err(|_| ServiceError::Internal("sealing failed".into()))?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&buffer);
        zeroize::Zeroize::zeroize(&mut buffer);
        Ok(Base64::encode_string(&out))
    }

    /// Opens what [`Self::seal`] made for `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        let wrong = || ServiceError::MasterKey;
        let raw = Base64::decode_vec(sealed).map_err(|_| wrong())?;
        let (nonce, body) = raw.split_at_checked(12).ok_or_else(wrong)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut buffer = Zeroizing::new(body.to_vec());
        let key = self.aead()?;
        let plain = key
            .open_in_place(nonce, Aad::from(context.as_bytes()), buffer.as_mut_slice())
            .map_err(|_| wrong())?;
        Ok(Zeroizing::new(plain.to_vec()))
    }

    /// The check value stored at installation.
    pub fn check_value(&self) -> Result<String, ServiceError> {
        self.seal("master-key-check", CHECK_PLAINTEXT)
    }

    /// Refuses a master key that did not make `check_value`.
    pub fn verify_check_value(&self, check_value: &str) -> Result<(), ServiceError> {
        match self.open("master-key-check", check_value) {
            Ok(p) if p.as_slice() == CHECK_PLAINTEXT => Ok(()),
            _ => Err(ServiceError::MasterKey),
        }
    }
}

/// A new private key of `kind`, as PKCS#8 DER (wiped on drop).
pub fn generate_key(kind: KeyKind) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
    use aws_lc_rs::signature::{
        EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING,
    };
    let rng = SystemRandom::new();
    let failed = |_| ServiceError::Internal(format!("generating a {} key failed", kind.name()));
    let der = match kind {
        KeyKind::Rsa2048 | KeyKind::Rsa3072 => {
            let size = if kind == KeyKind::Rsa2048 {
                aws_lc_rs::rsa::KeySize::Rsa2048
            } else {
                aws_lc_rs::rsa::KeySize::Rsa3072
            };
            let pair = aws_lc_rs::rsa::KeyPair::generate(size).map_err(failed)?;
            let doc = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(failed)?;
            doc.as_ref().to_vec()
        }
        KeyKind::EcP256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(failed)?
            .as_ref()
            .to_vec(),
        KeyKind::EcP384 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_ASN1_SIGNING, &rng)
            .map_err(failed)?
            .as_ref()
            .to_vec(),
    };
    Ok(Zeroizing::new(der))
}

/// `n` random bytes, hex.
pub(crate) fn random_hex(n: usize) -> Result<String, ServiceError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| ServiceError::Internal("no randomness".into()))?;
    Ok(hex::encode(bytes))
}

/// `n` random bytes, base64url without padding (tokens, SADs).
pub(crate) fn random_token(n: usize) -> Result<Zeroizing<String>, ServiceError> {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    SystemRandom::new()
        .fill(bytes.as_mut_slice())
        .map_err(|_| ServiceError::Internal("no randomness".into()))?;
    Ok(Zeroizing::new(base64ct::Base64UrlUnpadded::encode_string(
        bytes.as_slice(),
    )))
}

/// SHA-256 of a secret, hex: what is stored in place of tokens and SADs.
pub(crate) fn secret_id(secret: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes()).as_ref())
}
