//! Credentials whose keys live on a PKCS#11 token: generated there (sensitive, never
//! extractable), used there for `signHash` and for the certificate request, destroyed
//! there. The service keeps only the key's `CKA_ID` and its public key; the logged-in
//! token sessions are pooled per key (no key material is held by the service).

use crate::keystore::KeyKind;
use crate::ServiceError;
use shomei_core::{Digest, DigestAlgorithm, SignatureAlgorithm};
use shomei_pkcs11::{TokenKey, TokenKeyKind, TokenLogin};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The token new credentials' keys may be generated on.
pub struct Token {
    login: TokenLogin,
    keys: Mutex<HashMap<String, Arc<TokenKey>>>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// A key just generated on the token.
#[derive(Debug)]
pub(crate) struct TokenKeyRef {
    /// `CKA_ID`, hex.
    pub(crate) id: String,
    /// SubjectPublicKeyInfo, DER.
    pub(crate) spki: Vec<u8>,
}

fn device(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("PKCS#11 token: {e}"))
}

fn token_kind(kind: KeyKind) -> TokenKeyKind {
    match kind {
        KeyKind::Rsa2048 => TokenKeyKind::Rsa2048,
        KeyKind::Rsa3072 => TokenKeyKind::Rsa3072,
        KeyKind::EcP256 => TokenKeyKind::EcP256,
        KeyKind::EcP384 => TokenKeyKind::EcP384,
    }
}

impl Token {
    /// The token of `login`.
    pub fn new(login: TokenLogin) -> Self {
        Self {
            login,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Generates a key pair labelled `label` (blocking: run off the executor).
    pub(crate) fn generate(&self, label: &str, kind: KeyKind) -> Result<TokenKeyRef, ServiceError> {
        let key = shomei_pkcs11::generate_key_pair(&self.login, label, token_kind(kind))
            .map_err(device)?;
        Ok(TokenKeyRef {
            id: hex::encode(&key.id),
            spki: key.spki_der,
        })
    }

    /// The key with `CKA_ID` `id` (hex), opened once and then pooled (blocking).
    pub(crate) fn key(&self, id: &str, kind: KeyKind) -> Result<Arc<TokenKey>, ServiceError> {
        if let Some(key) = self.keys.lock().ok().and_then(|k| k.get(id).cloned()) {
            return Ok(key);
        }
        let raw = hex::decode(id).map_err(|_| ServiceError::Internal("stored key id".into()))?;
        let key = Arc::new(
            TokenKey::open(&self.login, &raw, token_kind(kind).key_kind()).map_err(device)?,
        );
        if let Ok(mut keys) = self.keys.lock() {
            keys.insert(id.to_owned(), Arc::clone(&key));
        }
        Ok(key)
    }

    /// Destroys the key pair with `CKA_ID` `id` (hex) on the token (blocking).
    pub(crate) fn destroy(&self, id: &str) -> Result<(), ServiceError> {
        if let Ok(mut keys) = self.keys.lock() {
            keys.remove(id);
        }
        let raw = hex::decode(id).map_err(|_| ServiceError::Internal("stored key id".into()))?;
        shomei_pkcs11::destroy_key_pair(&self.login, &raw).map_err(device)
    }
}

/// A token key as rcgen's remote key pair, so the certificate request (and the demo's
/// certificate) is signed on the token.
pub(crate) struct RemotePair {
    key: Arc<TokenKey>,
    public: Vec<u8>,
    kind: KeyKind,
}

impl RemotePair {
    /// `spki` is the key's SubjectPublicKeyInfo (DER).
    pub(crate) fn new(
        key: Arc<TokenKey>,
        spki: &[u8],
        kind: KeyKind,
    ) -> Result<Self, ServiceError> {
        use der::Decode;
        let info = spki::SubjectPublicKeyInfoRef::from_der(spki)
            .map_err(|e| ServiceError::Internal(format!("stored public key: {e}")))?;
        let public = info
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| ServiceError::Internal("stored public key".into()))?
            .to_vec();
        Ok(Self { key, public, kind })
    }

    fn algorithms(&self) -> (&'static rcgen::SignatureAlgorithm, SignatureAlgorithm) {
        match self.kind {
            KeyKind::Rsa2048 | KeyKind::Rsa3072 => (
                &rcgen::PKCS_RSA_SHA256,
                SignatureAlgorithm::RsaPkcs1v15(DigestAlgorithm::Sha256),
            ),
            KeyKind::EcP256 => (
                &rcgen::PKCS_ECDSA_P256_SHA256,
                SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256),
            ),
            KeyKind::EcP384 => (
                &rcgen::PKCS_ECDSA_P384_SHA384,
                SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384),
            ),
        }
    }
}

impl rcgen::RemoteKeyPair for RemotePair {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let (_, algorithm) = self.algorithms();
        let digest = Digest::compute(algorithm.digest(), msg);
        let values = self
            .key
            .sign_digests_blocking(algorithm, std::slice::from_ref(&digest))
            .map_err(|_| rcgen::Error::RemoteKeyError)?;
        values
            .into_iter()
            .next()
            .and_then(|v| v.to_cms())
            .ok_or(rcgen::Error::RemoteKeyError)
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithms().0
    }
}
