//! Why a key could not be loaded. Messages name the cause and the fix; they never
//! contain key material or passwords.

use shomei_core::{ChainError, SignerError};

/// Why a key, a certificate or a PKCS#12 file could not become a signer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input holds no private key in a recognised encoding.
    #[error("no private key found: {0}")]
    NotAKey(String),
    /// A private key, but of a type or size shomei does not sign with.
    #[error("unsupported key type: {0}")]
    UnsupportedKeyType(String),
    /// A password-protected PKCS#8 key (`ENCRYPTED PRIVATE KEY`).
    #[error("encrypted PKCS#8 keys are not supported; use PKCS#12 or decrypt the key")]
    EncryptedPkcs8,
    /// A traditional OpenSSL PEM key with `Proc-Type: 4,ENCRYPTED` headers.
    #[error(
        "encrypted PEM keys (Proc-Type: 4,ENCRYPTED) are not supported; \
         use PKCS#12 or decrypt the key"
    )]
    EncryptedPem,
    /// More than one private key where exactly one was expected.
    #[error("the input holds {count} private keys; give exactly one")]
    MultipleKeys {
        /// How many keys were found.
        count: usize,
    },
    /// The key decodes but is malformed or internally inconsistent.
    #[error("the private key is damaged or inconsistent ({0})")]
    InvalidKey(String),
    /// The private key is not the one the certificate certifies.
    #[error("the private key does not match the certificate \"{subject}\": {detail}")]
    KeyCertMismatch {
        /// Subject of the certificate, RFC 4514 style.
        subject: String,
        /// What differs (key types, or the public keys themselves).
        detail: String,
    },
    /// The PKCS#12 file could not be opened.
    #[error("PKCS#12: {0}")]
    Pkcs12(#[from] Pkcs12Error),
    /// A certificate could not be read or holds an unsupported key.
    #[error("certificate: {0}")]
    Certificate(#[from] ChainError),
    /// A PKCS#12 file was given without its password.
    #[error("a PKCS#12 file needs its password")]
    PasswordRequired,
    /// A bare private key (PKCS#8, PKCS#1, SEC 1) was given without its certificate.
    #[error("a PKCS#8/PKCS#1/SEC 1 key needs its certificate (or use a PKCS#12 file)")]
    CertificateRequired,
}

/// Why a PKCS#12 (`.p12` / `.pfx`) file could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs12Error {
    /// The password is wrong: the integrity MAC does not verify, or (for files
    /// without a MAC) the contents do not decrypt.
    #[error("wrong password (the file's integrity check failed with the password given)")]
    WrongPassword,
    /// The file holds certificates only.
    #[error("the file holds no private key")]
    NoPrivateKey,
    /// The file holds several identities; which one to use would be a guess.
    #[error("the file holds {count} private keys; shomei needs a file with exactly one")]
    MultipleKeys {
        /// How many keys were found.
        count: usize,
    },
    /// None of the file's certificates certifies its private key.
    #[error("no certificate in the file matches its private key")]
    NoMatchingCertificate,
    /// Encryption or MAC algorithms the reader does not implement.
    #[error("unsupported protection: {0}")]
    Unsupported(String),
    /// Not a PKCS#12 file, or a damaged one.
    #[error("not a valid PKCS#12 file: {0}")]
    Malformed(String),
}

impl From<KeyError> for SignerError {
    fn from(e: KeyError) -> Self {
        SignerError::Key(e.to_string())
    }
}
