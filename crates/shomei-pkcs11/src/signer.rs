//! The PKCS#11 signer: one logged-in token, one private key, a pool of sessions.

use crate::session::{open_logged_in, Access};
use crate::Pkcs11Error;
use cryptoki::context::Pkcs11;
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::slot::Slot;
use shomei_core::chain::ChainCert;
use shomei_core::{
    CertificateChain, Digest, DigestAlgorithm, KeyKind, RemoteSigner, SignatureAlgorithm,
    SignatureValue, SignerDescription, SignerError,
};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// Which private key on the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySelector {
    /// `CKA_LABEL`.
    Label(String),
    /// `CKA_ID` (bytes).
    Id(Vec<u8>),
}

/// Where the key is and how to log in.
#[non_exhaustive]
pub struct Pkcs11Config {
    /// Path of the PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// Label of the token.
    pub token_label: String,
    /// The private key.
    pub key: KeySelector,
    /// The user PIN.
    pub pin: Zeroizing<String>,
    /// The signing certificate; `None` = read it from the token (the certificate object
    /// with the key's `CKA_ID`, else with its label).
    pub certificate: Option<ChainCert>,
    /// Issuer certificates to embed after the signing certificate.
    pub issuers: Vec<ChainCert>,
    /// Sessions kept open for concurrent signing (at least 1).
    pub max_idle_sessions: usize,
}

impl Pkcs11Config {
    /// A configuration with the certificate read from the token and no issuers.
    pub fn new(
        module: impl Into<PathBuf>,
        token_label: impl Into<String>,
        key: KeySelector,
        pin: Zeroizing<String>,
    ) -> Self {
        Self {
            module: module.into(),
            token_label: token_label.into(),
            key,
            pin,
            certificate: None,
            issuers: Vec::new(),
            max_idle_sessions: 4,
        }
    }
}

impl fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("key", &self.key)
            .field("pin", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A [`RemoteSigner`] whose key lives on a PKCS#11 token. The token is logged in once;
/// sessions are taken from a pool, so several signatures can be made concurrently.
/// Signing blocks the calling thread for as long as the token takes (a server runs it on
/// a blocking thread).
pub struct Pkcs11Signer {
    token: Arc<Token>,
}

/// The logged-in token, shared with the blocking threads that sign on it.
struct Token {
    // Sessions are dropped (closed) before the context is finalized.
    idle: Mutex<Vec<Session>>,
    max_idle: usize,
    context: Pkcs11,
    slot: Slot,
    token: String,
    key: ObjectHandle,
    kind: KeyKind,
    chain: CertificateChain,
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.token;
        f.debug_struct("Pkcs11Signer")
            .field("token", &t.token)
            .field("key", &format_args!("{}", t.kind))
            .field("subject", &t.chain.signing_cert().subject())
            .finish_non_exhaustive()
    }
}

pub(crate) fn describe_selector(key: &KeySelector) -> String {
    match key {
        KeySelector::Label(l) => format!("label `{l}`"),
        KeySelector::Id(id) => format!(
            "id {}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

fn selector_attribute(key: &KeySelector) -> Attribute {
    match key {
        KeySelector::Label(l) => Attribute::Label(l.as_bytes().to_vec()),
        KeySelector::Id(id) => Attribute::Id(id.clone()),
    }
}

/// Labels of the private keys on the token, for the "not found" message.
fn key_labels(session: &Session) -> Vec<String> {
    let Ok(keys) = session.find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)]) else {
        return Vec::new();
    };
    keys.into_iter()
        .filter_map(|k| session.get_attributes(k, &[AttributeType::Label]).ok())
        .flatten()
        .filter_map(|a| match a {
            Attribute::Label(l) => Some(String::from_utf8_lossy(&l).into_owned()),
            _ => None,
        })
        .collect()
}

fn find_key(session: &Session, config: &Pkcs11Config) -> Result<ObjectHandle, Pkcs11Error> {
    let ck = |e| Pkcs11Error::from_ck(e, &config.token_label);
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            selector_attribute(&config.key),
        ])
        .map_err(ck)?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Pkcs11Error::Key(format!(
            "no private key with {} on token `{}` (private keys there: {})",
            describe_selector(&config.key),
            config.token_label,
            {
                let labels = key_labels(session);
                if labels.is_empty() {
                    "none visible".to_owned()
                } else {
                    labels.join(", ")
                }
            }
        ))),
        more => Err(Pkcs11Error::Key(format!(
            "{} private keys with {} on token `{}`: choose by id",
            more.len(),
            describe_selector(&config.key),
            config.token_label
        ))),
    }
}

fn attribute_bytes(
    session: &Session,
    object: ObjectHandle,
    which: AttributeType,
) -> Option<Vec<u8>> {
    session
        .get_attributes(object, &[which])
        .ok()?
        .into_iter()
        .find_map(|a| match a {
            Attribute::Id(v) | Attribute::Label(v) | Attribute::Value(v) => Some(v),
            _ => None,
        })
}

/// The certificate object with the key's `CKA_ID`, else with its label.
fn certificate_on_token(
    session: &Session,
    key: ObjectHandle,
    config: &Pkcs11Config,
) -> Result<ChainCert, Pkcs11Error> {
    let ck = |e| Pkcs11Error::from_ck(e, &config.token_label);
    let mut templates = Vec::new();
    if let Some(id) = attribute_bytes(session, key, AttributeType::Id) {
        templates.push(Attribute::Id(id));
    }
    if let Some(label) = attribute_bytes(session, key, AttributeType::Label) {
        templates.push(Attribute::Label(label));
    }
    for t in templates {
        let found = session
            .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), t])
            .map_err(ck)?;
        if let Some(cert) = found.first() {
            let der = attribute_bytes(session, *cert, AttributeType::Value).ok_or_else(|| {
                Pkcs11Error::Certificate("the certificate object has no value".into())
            })?;
            return ChainCert::from_der(&der).map_err(|e| {
                Pkcs11Error::Certificate(format!("the certificate on the token: {e}"))
            });
        }
    }
    Err(Pkcs11Error::Certificate(format!(
        "no certificate for the key with {} on token `{}`: give it with --cert",
        describe_selector(&config.key),
        config.token_label
    )))
}

fn token_key_type(session: &Session, key: ObjectHandle) -> Option<KeyType> {
    session
        .get_attributes(key, &[AttributeType::KeyType])
        .ok()?
        .into_iter()
        .find_map(|a| match a {
            Attribute::KeyType(t) => Some(t),
            _ => None,
        })
}

impl Pkcs11Signer {
    /// Loads the module, finds the token by label, logs in with the PIN, finds the key
    /// and its certificate, and checks that they belong together.
    pub fn open(config: Pkcs11Config) -> Result<Self, Pkcs11Error> {
        let (context, slot, session) = open_logged_in(
            &config.module,
            &config.token_label,
            &config.pin,
            Access::ReadOnly,
        )?;
        let key = find_key(&session, &config)?;
        let cert = match &config.certificate {
            Some(c) => c.clone(),
            None => certificate_on_token(&session, key, &config)?,
        };
        let kind = cert
            .key_kind()
            .map_err(|e| Pkcs11Error::Certificate(e.to_string()))?;
        let matches = matches!(
            (token_key_type(&session, key), kind),
            (Some(KeyType::RSA), KeyKind::Rsa { .. })
                | (Some(KeyType::EC), KeyKind::EcP256 | KeyKind::EcP384)
                | (None, _)
        );
        if !matches {
            return Err(Pkcs11Error::Key(format!(
                "the key with {} is not the {kind} key of the certificate {}",
                describe_selector(&config.key),
                cert.subject()
            )));
        }
        let mut certs = vec![cert];
        certs.extend(config.issuers.iter().cloned());
        let chain =
            CertificateChain::new(certs).map_err(|e| Pkcs11Error::Certificate(e.to_string()))?;
        Ok(Self {
            token: Arc::new(Token {
                idle: Mutex::new(vec![session]),
                max_idle: config.max_idle_sessions.max(1),
                context,
                slot,
                token: config.token_label.clone(),
                key,
                kind,
                chain,
            }),
        })
    }
}

impl Token {
    /// An idle logged-in session, or a new one (the login holds for every session of
    /// this application on the token).
    fn take_session(&self) -> Result<Session, Pkcs11Error> {
        if let Some(s) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(s);
        }
        self.context
            .open_ro_session(self.slot)
            .map_err(|e| Pkcs11Error::from_ck(e, &self.token))
    }

    fn give_back(&self, session: Session) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.max_idle {
                idle.push(session);
            }
        }
    }

    fn sign_one(
        &self,
        session: &Session,
        algorithm: SignatureAlgorithm,
        digest: &Digest,
    ) -> Result<SignatureValue, SignerError> {
        if digest.algorithm() != algorithm.digest() {
            return Err(SignerError::DigestMismatch(digest.algorithm()));
        }
        let hash = digest.as_bytes();
        let ck = |e| SignerError::from(Pkcs11Error::from_ck(e, &self.token));
        match (algorithm, self.kind) {
            (SignatureAlgorithm::RsaPkcs1v15(d), KeyKind::Rsa { .. }) => {
                let mut info = digest_info_prefix(d).to_vec();
                info.extend_from_slice(hash);
                let v = session
                    .sign(&Mechanism::RsaPkcs, self.key, &info)
                    .map_err(ck)?;
                Ok(SignatureValue::Rsa(v))
            }
            (SignatureAlgorithm::RsaPss(d), KeyKind::Rsa { .. }) => {
                let (hash_alg, mgf) = pss_parameters(d);
                let params = PkcsPssParams {
                    hash_alg,
                    mgf,
                    s_len: u64::try_from(hash.len()).unwrap_or(32).into(),
                };
                let v = session
                    .sign(&Mechanism::RsaPkcsPss(params), self.key, hash)
                    .map_err(ck)?;
                Ok(SignatureValue::Rsa(v))
            }
            (SignatureAlgorithm::Ecdsa(_), KeyKind::EcP256 | KeyKind::EcP384) => {
                let v = session
                    .sign(&Mechanism::Ecdsa, self.key, hash)
                    .map_err(ck)?;
                Ok(SignatureValue::EcdsaFixed(v))
            }
            _ => Err(SignerError::UnsupportedAlgorithm(algorithm)),
        }
    }
}

/// The DER prefix of a PKCS#1 v1.5 `DigestInfo` (RFC 8017 9.2, note 1): the token signs
/// with CKM_RSA_PKCS, which pads but does not hash.
fn digest_info_prefix(d: DigestAlgorithm) -> &'static [u8] {
    match d {
        DigestAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x02, 0x05, 0x00, 0x04, 0x30,
        ],
        DigestAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x03, 0x05, 0x00, 0x04, 0x40,
        ],
        _ => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ],
    }
}

fn pss_parameters(d: DigestAlgorithm) -> (MechanismType, PkcsMgfType) {
    match d {
        DigestAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
        DigestAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
        _ => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
    }
}

#[async_trait::async_trait]
impl RemoteSigner for Pkcs11Signer {
    async fn describe(&self) -> Result<SignerDescription, SignerError> {
        Ok(SignerDescription::for_key(
            self.token.chain.clone(),
            self.token.kind,
        ))
    }

    /// Runs on the tokio blocking pool (a token call may take milliseconds, an HSM
    /// over the network longer), so an async server's executor is never held.
    async fn sign_digests(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        let token = Arc::clone(&self.token);
        let digests = digests.to_vec();
        shomei_core::blocking::run_blocking(move || {
            let session = token.take_session()?;
            let result = digests
                .iter()
                .map(|d| token.sign_one(&session, algorithm, d))
                .collect();
            token.give_back(session);
            result
        })
        .await?
    }
}
