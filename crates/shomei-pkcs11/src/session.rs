//! Opening a logged-in session on a token: one initialized context per module for the
//! whole process, the token found by label, the user PIN checked once.

use crate::Pkcs11Error;
use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use shomei_core::{Digest, DigestAlgorithm};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Which token to work on and how to log in to it, for the key management functions
/// ([`generate_key_pair`](crate::generate_key_pair),
/// [`destroy_key_pair`](crate::destroy_key_pair)); a signer is opened with
/// [`Pkcs11Config`](crate::Pkcs11Config), which also names the key and its certificate.
#[non_exhaustive]
pub struct TokenLogin {
    /// Path of the PKCS#11 module (`/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// Label of the token.
    pub token_label: String,
    /// The user PIN.
    pub pin: Zeroizing<String>,
}

impl TokenLogin {
    /// The token labelled `token_label` in `module`, logged in with the user PIN `pin`.
    pub fn new(
        module: impl Into<PathBuf>,
        token_label: impl Into<String>,
        pin: Zeroizing<String>,
    ) -> Self {
        Self {
            module: module.into(),
            token_label: token_label.into(),
            pin,
        }
    }
}

impl fmt::Debug for TokenLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenLogin")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("pin", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Whether the session may create and destroy objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Signing only.
    ReadOnly,
    /// Generating and destroying keys.
    ReadWrite,
}

/// One initialized context per module for the whole process (a module may be initialized
/// once, and finalizing it would end every other user's sessions), with the digest of
/// the PIN that logged each token in: a PKCS#11 login holds for the whole process, so a
/// second signer on a logged-in token must show the same PIN.
struct Module {
    context: Pkcs11,
    logins: HashMap<u64, Vec<u8>>,
}

fn registry() -> &'static Mutex<HashMap<PathBuf, Module>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Module>>> = OnceLock::new();
    MODULES.get_or_init(|| Mutex::new(HashMap::new()))
}

fn poisoned<T>(_: T) -> Pkcs11Error {
    Pkcs11Error::Internal("the module registry is poisoned".into())
}

fn shared_context(module: &Path) -> Result<Pkcs11, Pkcs11Error> {
    let module_err = |message: String| Pkcs11Error::Module {
        module: module.display().to_string(),
        message,
    };
    let mut map = registry().lock().map_err(poisoned)?;
    if let Some(m) = map.get(module) {
        return Ok(m.context.clone());
    }
    let context = Pkcs11::new(module).map_err(|e| module_err(e.to_string()))?;
    match context.initialize(CInitializeArgs::OsThreads) {
        Ok(()) | Err(cryptoki::error::Error::AlreadyInitialized) => {}
        Err(e) => return Err(module_err(e.to_string())),
    }
    map.insert(
        module.to_path_buf(),
        Module {
            context: context.clone(),
            logins: HashMap::new(),
        },
    );
    Ok(context)
}

/// Logs the token in with `pin`, or checks `pin` against the PIN that already did.
fn login(
    session: &Session,
    module: &Path,
    token_label: &str,
    pin: &str,
    slot: Slot,
) -> Result<(), Pkcs11Error> {
    let digest = Digest::compute(DigestAlgorithm::Sha256, pin.as_bytes())
        .as_bytes()
        .to_vec();
    let mut map = registry().lock().map_err(poisoned)?;
    let logins = map
        .get_mut(module)
        .map(|m| &mut m.logins)
        .ok_or_else(|| Pkcs11Error::Internal("the module is not registered".into()))?;
    let auth = AuthPin::new(pin.into());
    match session.login(UserType::User, Some(&auth)) {
        Ok(()) => {
            logins.insert(slot.id(), digest);
            Ok(())
        }
        Err(cryptoki::error::Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
            match logins.get(&slot.id()) {
                Some(known) if bool::from(known.ct_eq(&digest)) => Ok(()),
                _ => Err(Pkcs11Error::WrongPin(token_label.to_owned())),
            }
        }
        Err(e) => Err(Pkcs11Error::from_ck(e, token_label)),
    }
}

fn find_token(context: &Pkcs11, label: &str) -> Result<Slot, Pkcs11Error> {
    let ck = |e| Pkcs11Error::from_ck(e, label);
    let mut present = Vec::new();
    for slot in context.get_slots_with_token().map_err(ck)? {
        let info = context.get_token_info(slot).map_err(ck)?;
        let name = info.label().trim_end().to_owned();
        if name == label {
            return Ok(slot);
        }
        if !name.is_empty() {
            present.push(name);
        }
    }
    Err(Pkcs11Error::NoToken {
        label: label.to_owned(),
        present,
    })
}

/// Loads the module (once per process), finds the token by label, opens a session and
/// logs the user in.
pub(crate) fn open_logged_in(
    module: &Path,
    token_label: &str,
    pin: &str,
    access: Access,
) -> Result<(Pkcs11, Slot, Session), Pkcs11Error> {
    let context = shared_context(module)?;
    let slot = find_token(&context, token_label)?;
    let ck = |e| Pkcs11Error::from_ck(e, token_label);
    let session = match access {
        Access::ReadOnly => context.open_ro_session(slot),
        Access::ReadWrite => context.open_rw_session(slot),
    }
    .map_err(ck)?;
    login(&session, module, token_label, pin, slot)?;
    Ok((context, slot, session))
}
