//! What the user tells the client: where the service is, which credential, which
//! secrets. `Debug` never shows a secret; secrets are wiped from memory when dropped.

use std::fmt;
use zeroize::Zeroizing;

/// The CSC API version the service speaks. The two differ in field names
/// (`hash`/`hashAlgo` in 1.0.4, `hashes`/`hashAlgorithmOID` in 2.0.0.2) and in how
/// the PIN and OTP reach `credentials/authorize` (`PIN`/`OTP` in 1.0.4, an
/// `authData` array in 2.0.0.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CscVersion {
    /// CSC API 1.0.4.0.
    V1,
    /// CSC API 2.0.0.2.
    V2,
}

impl CscVersion {
    /// The major number as the `info` method's `specs` field starts with it.
    pub(crate) fn major(self) -> &'static str {
        match self {
            Self::V1 => "1",
            Self::V2 => "2",
        }
    }
}

impl fmt::Display for CscVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V1 => f.write_str("CSC API 1.0.4"),
            Self::V2 => f.write_str("CSC API 2.0.0.2"),
        }
    }
}

/// How the client authenticates to the service (service authorization, CSC 8.1):
/// the `Authorization` header of every CSC call.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum CscAuth {
    /// No `Authorization` header.
    #[default]
    None,
    /// A bearer access token obtained elsewhere (RFC 6750).
    Bearer(Zeroizing<String>),
    /// OAuth 2.0 client credentials grant (RFC 6749 4.4): the client POSTs
    /// `grant_type=client_credentials` with its id and secret (form-encoded body,
    /// RFC 6749 2.3.1) to `token_url`, caches the `access_token` until shortly
    /// before `expires_in` runs out, and sends it as a bearer token.
    ClientCredentials {
        /// The token endpoint (`http` or `https`).
        token_url: String,
        /// The client identifier.
        client_id: String,
        /// The client secret.
        client_secret: Zeroizing<String>,
    },
    /// The service's own `auth/login` (CSC 11.2) with HTTP Basic user name and
    /// password; the `access_token` it returns is cached and sent as a bearer token.
    Login {
        /// The user name.
        user: String,
        /// The password.
        password: Zeroizing<String>,
    },
}

impl CscAuth {
    /// A bearer token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::Bearer(Zeroizing::new(token.into()))
    }

    /// OAuth 2.0 client credentials.
    pub fn client_credentials(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        Self::ClientCredentials {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: Zeroizing::new(client_secret.into()),
        }
    }

    /// `auth/login` with a user name and password.
    pub fn login(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Login {
            user: user.into(),
            password: Zeroizing::new(password.into()),
        }
    }

    /// The secrets this authentication holds, for scrubbing server messages.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        match self {
            Self::None => Vec::new(),
            Self::Bearer(t) => vec![t.as_str()],
            Self::ClientCredentials { client_secret, .. } => vec![client_secret.as_str()],
            Self::Login { password, .. } => vec![password.as_str()],
        }
    }
}

impl fmt::Debug for CscAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Self::ClientCredentials {
                token_url,
                client_id,
                ..
            } => f
                .debug_struct("ClientCredentials")
                .field("token_url", token_url)
                .field("client_id", client_id)
                .field("client_secret", &"<redacted>")
                .finish(),
            Self::Login { user, .. } => f
                .debug_struct("Login")
                .field("user", user)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// Where the credential lives and how to unlock it.
#[derive(Clone)]
#[non_exhaustive]
pub struct CscConfig {
    /// The service's base URL, including the version path
    /// (`https://csc.example/csc/v1`); method names are appended to it.
    pub base_url: String,
    /// The API version the service speaks.
    pub version: CscVersion,
    /// The credential (key and certificate) to sign with.
    pub credential_id: String,
    /// Service authorization.
    pub auth: CscAuth,
    /// The credential's PIN, for explicit credential authorization.
    pub pin: Option<Zeroizing<String>>,
    /// A one-time password, for explicit credential authorization. One OTP
    /// authorizes one batch: a second batch needs a new one.
    pub otp: Option<Zeroizing<String>>,
}

impl CscConfig {
    /// A credential at `base_url` with no service authorization, PIN or OTP.
    pub fn new(
        base_url: impl Into<String>,
        version: CscVersion,
        credential_id: impl Into<String>,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            version,
            credential_id: credential_id.into(),
            auth: CscAuth::None,
            pin: None,
            otp: None,
        }
    }

    /// Sets the service authorization.
    pub fn with_auth(mut self, auth: CscAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets the PIN.
    pub fn with_pin(mut self, pin: impl Into<String>) -> Self {
        self.pin = Some(Zeroizing::new(pin.into()));
        self
    }

    /// Sets the one-time password.
    pub fn with_otp(mut self, otp: impl Into<String>) -> Self {
        self.otp = Some(Zeroizing::new(otp.into()));
        self
    }

    /// Every secret of the configuration, for scrubbing server messages.
    pub(crate) fn secrets(&self) -> Vec<&str> {
        let mut out = self.auth.secrets();
        out.extend(self.pin.iter().map(|p| p.as_str()));
        out.extend(self.otp.iter().map(|p| p.as_str()));
        out
    }
}

impl fmt::Debug for CscConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |s: &Option<Zeroizing<String>>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("CscConfig")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("credential_id", &self.credential_id)
            .field("auth", &self.auth)
            .field("pin", &redact(&self.pin))
            .field("otp", &redact(&self.otp))
            .finish()
    }
}
