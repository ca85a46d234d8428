//! [`HttpTsa`]: RFC 3161 over HTTP (RFC 3161 3.4), through shomei-core's
//! [`HttpTransport`] so tests answer from memory and timeouts stay the transport's.

use crate::error::TspError;
use crate::rfc3161::{
    MessageImprint, TimeStampReq, TimeStampResp, TIMESTAMP_QUERY, TIMESTAMP_REPLY,
};
use crate::timestamp::{TimestampAuthority, TimestampToken};
use async_trait::async_trait;
use const_oid::ObjectIdentifier;
use der::asn1::{Int, OctetString, Uint};
use der::{Decode, Encode};
use shomei_core::chain::ChainCert;
use shomei_core::{Digest, HttpRequest, HttpTransport};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zeroize::Zeroizing;

/// [`TimestampAuthority::expected_token_len`] before any answer: an RSA-4096 TSA
/// embedding a three-certificate chain of 4096-bit keys gives tokens of about 5 KiB;
/// most tokens are 2–4 KiB.
pub const DEFAULT_TOKEN_ESTIMATE: usize = 6144;

/// Credentials sent to the TSA in the `Authorization` header. `Debug` never shows
/// the secret; secrets are wiped from memory when dropped.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum TsaAuth {
    /// No credentials.
    #[default]
    None,
    /// HTTP Basic (RFC 7617).
    Basic {
        /// User name (must not contain ':').
        user: String,
        /// Password.
        password: Zeroizing<String>,
    },
    /// A bearer token (RFC 6750).
    Bearer(Zeroizing<String>),
}

impl fmt::Debug for TsaAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &"<redacted>")
                .finish(),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

impl TsaAuth {
    /// Environment variable with the Basic user name.
    pub const ENV_USER: &'static str = "SHOMEI_TSA_USER";
    /// Environment variable with the Basic password.
    pub const ENV_PASSWORD: &'static str = "SHOMEI_TSA_PASSWORD";
    /// Environment variable with a bearer token.
    pub const ENV_TOKEN: &'static str = "SHOMEI_TSA_TOKEN";

    /// HTTP Basic credentials.
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Basic {
            user: user.into(),
            password: Zeroizing::new(password.into()),
        }
    }

    /// A bearer token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::Bearer(Zeroizing::new(token.into()))
    }

    /// Reads credentials from the environment:
    ///
    /// - `SHOMEI_TSA_USER` and `SHOMEI_TSA_PASSWORD` give [`TsaAuth::Basic`];
    /// - `SHOMEI_TSA_TOKEN` gives [`TsaAuth::Bearer`];
    /// - none of them gives [`TsaAuth::None`].
    ///
    /// Empty variables count as unset. A user without a password (or the reverse), or
    /// both a user and a token, is a [`TspError::Config`] error, whose message names
    /// the variables but never their values.
    pub fn from_env() -> Result<Self, TspError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, TspError> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty()).map(Zeroizing::new);
        let (user, password, token) = (
            get(Self::ENV_USER),
            get(Self::ENV_PASSWORD),
            get(Self::ENV_TOKEN),
        );
        match (user, password, token) {
            (None, None, None) => Ok(Self::None),
            (None, None, Some(token)) => Ok(Self::Bearer(token)),
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => Err(TspError::Config(format!(
                "set either {} or {}/{}, not both",
                Self::ENV_TOKEN,
                Self::ENV_USER,
                Self::ENV_PASSWORD
            ))),
            (Some(user), Some(password), None) => {
                if user.contains(':') {
                    return Err(TspError::Config(format!(
                        "{} must not contain ':' (RFC 7617)",
                        Self::ENV_USER
                    )));
                }
                Ok(Self::Basic {
                    user: user.to_string(),
                    password,
                })
            }
            (Some(_), None, None) => Err(TspError::Config(format!(
                "{} is set but {} is not",
                Self::ENV_USER,
                Self::ENV_PASSWORD
            ))),
            (None, Some(_), None) => Err(TspError::Config(format!(
                "{} is set but {} is not",
                Self::ENV_PASSWORD,
                Self::ENV_USER
            ))),
        }
    }

    /// The `Authorization` header value.
    fn header_value(&self) -> Option<Zeroizing<String>> {
        match self {
            Self::None => None,
            Self::Basic { user, password } => {
                let mut pair = Zeroizing::new(String::with_capacity(
                    user.len().saturating_add(password.len()).saturating_add(1),
                ));
                pair.push_str(user);
                pair.push(':');
                pair.push_str(password);
                let mut value = Zeroizing::new(String::from("Basic "));
                base64_into(pair.as_bytes(), &mut value);
                Some(value)
            }
            Self::Bearer(token) => Some(Zeroizing::new(format!("Bearer {}", token.as_str()))),
        }
    }
}

/// Standard base64 with padding (RFC 4648 4), appended to `out`.
fn base64_into(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |v: u32| {
        let i = usize::try_from(v & 0x3f).unwrap_or(0);
        char::from(*ALPHABET.get(i).unwrap_or(&b'A'))
    };
    for chunk in bytes.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
}

/// Where and how [`HttpTsa`] asks for time-stamps.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpTsaConfig {
    /// The TSA URL (`http` or `https`).
    pub url: String,
    /// The policy to request (`reqPolicy`); the token must carry it.
    pub policy: Option<ObjectIdentifier>,
    /// Credentials.
    pub auth: TsaAuth,
    /// Ask for the TSA certificate in the token (`certReq`). Default true: a token
    /// without its certificate cannot be verified on its own.
    pub cert_req: bool,
    /// TSA certificates known beforehand, for verifying tokens requested without
    /// `cert_req`.
    pub tsa_certs: Vec<ChainCert>,
}

impl HttpTsaConfig {
    /// A TSA at `url`: no policy, no credentials, certReq true.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            policy: None,
            auth: TsaAuth::None,
            cert_req: true,
            tsa_certs: Vec::new(),
        }
    }

    /// Requests `policy`.
    pub fn with_policy(mut self, policy: ObjectIdentifier) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Sends credentials.
    pub fn with_auth(mut self, auth: TsaAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets certReq.
    pub fn with_cert_req(mut self, cert_req: bool) -> Self {
        self.cert_req = cert_req;
        self
    }

    /// TSA certificates known beforehand (see [`Self::tsa_certs`]).
    pub fn with_tsa_certs(mut self, certs: Vec<ChainCert>) -> Self {
        self.tsa_certs = certs;
        self
    }
}

/// A TSA reached over HTTP: POSTs an `application/timestamp-query` with a random
/// 64-bit nonce, and accepts only a granted `application/timestamp-reply` whose
/// token verifies against the imprint, echoes the nonce and carries the requested
/// policy.
pub struct HttpTsa {
    transport: Arc<dyn HttpTransport>,
    config: HttpTsaConfig,
    largest_token: AtomicUsize,
}

impl fmt::Debug for HttpTsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTsa")
            .field("config", &self.config)
            .field("largest_token", &self.largest_token)
            .finish_non_exhaustive()
    }
}

impl HttpTsa {
    /// A TSA reached through `transport`.
    pub fn new(transport: Arc<dyn HttpTransport>, config: HttpTsaConfig) -> Self {
        Self {
            transport,
            config,
            largest_token: AtomicUsize::new(0),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HttpTsaConfig {
        &self.config
    }

    /// The DER `TimeStampReq` for `imprint` with `nonce`.
    fn request_der(&self, imprint: &Digest, nonce: &Int) -> Result<Vec<u8>, TspError> {
        let req = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifierOwned {
                    oid: imprint.algorithm().oid(),
                    parameters: None,
                },
                hashed_message: OctetString::new(imprint.as_bytes()).map_err(TspError::Encode)?,
            },
            req_policy: self.config.policy,
            nonce: Some(nonce.clone()),
            cert_req: self.config.cert_req,
            extensions: None,
        };
        req.to_der().map_err(TspError::Encode)
    }

    fn bad_response(&self, message: impl Into<String>) -> TspError {
        TspError::BadResponse {
            url: redact_url(&self.config.url),
            message: message.into(),
        }
    }
}

/// A fresh random positive nonce (RFC 3161 2.4.1: a large random number).
fn random_nonce() -> Result<Int, TspError> {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| TspError::Random)?;
    Ok(Int::from(Uint::new(&bytes).map_err(TspError::Encode)?))
}

/// The URL without any `user:password@` part, for messages.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => url.to_string(),
    }
}

#[async_trait]
impl TimestampAuthority for HttpTsa {
    async fn timestamp(&self, imprint: &Digest) -> Result<TimestampToken, TspError> {
        let nonce = random_nonce()?;
        let body = self.request_der(imprint, &nonce)?;
        let mut request = HttpRequest::post(self.config.url.clone(), TIMESTAMP_QUERY, body);
        request.authorization = self.config.auth.header_value();
        let response = self
            .transport
            .send(request)
            .await
            .map_err(TspError::Unreachable)?;
        if !(200..300).contains(&response.status) {
            return Err(TspError::Http {
                url: redact_url(&self.config.url),
                status: response.status,
            });
        }
        let mime = response
            .content_type
            .as_deref()
            .and_then(|ct| ct.split(';').next())
            .map(str::trim);
        if !mime.is_some_and(|m| m.eq_ignore_ascii_case(TIMESTAMP_REPLY)) {
            return Err(self.bad_response(format!(
                "content type {}, expected {TIMESTAMP_REPLY}",
                mime.unwrap_or("(none)")
            )));
        }
        let resp = TimeStampResp::from_der(&response.body)
            .map_err(|e| self.bad_response(format!("TimeStampResp: {e}")))?;
        let status = resp.status;
        if !status.status.is_granted() {
            return Err(TspError::Refused {
                status: status.status,
                text: status.status_string.unwrap_or_default(),
                failure_info: status.fail_info,
            });
        }
        let token_der = resp
            .time_stamp_token
            .ok_or_else(|| self.bad_response("status granted but no token"))?
            .to_der()
            .map_err(|e| self.bad_response(format!("token: {e}")))?;
        let token = TimestampToken::from_der(&token_der)?;
        token.verify_with_certs(imprint, &self.config.tsa_certs)?;
        if token.nonce() != Some(nonce.as_bytes()) {
            return Err(TspError::NonceMismatch);
        }
        if let Some(requested) = self.config.policy {
            if token.policy() != requested {
                return Err(TspError::PolicyMismatch {
                    requested,
                    got: token.policy(),
                });
            }
        }
        self.largest_token
            .fetch_max(token.der().len(), Ordering::Relaxed);
        Ok(token)
    }

    /// [`DEFAULT_TOKEN_ESTIMATE`] before the first token; then the largest token
    /// seen plus 10 % plus 256 bytes (a longer serial, a bigger chain after a TSA
    /// key roll-over).
    fn expected_token_len(&self) -> usize {
        match self.largest_token.load(Ordering::Relaxed) {
            0 => DEFAULT_TOKEN_ESTIMATE,
            seen => seen.saturating_add(seen / 10).saturating_add(256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        // RFC 4648 10.
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            base64_into(input.as_bytes(), &mut out);
            assert_eq!(out, expected);
        }
        let basic = TsaAuth::basic("Aladdin", "open sesame")
            .header_value()
            .unwrap();
        assert_eq!(basic.as_str(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn auth_from_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_string())
            }
        };
        assert!(matches!(TsaAuth::from_lookup(env(&[])), Ok(TsaAuth::None)));
        let basic = TsaAuth::from_lookup(env(&[
            ("SHOMEI_TSA_USER", "alice"),
            ("SHOMEI_TSA_PASSWORD", "s3cret"),
        ]))
        .unwrap();
        assert!(
            matches!(&basic, TsaAuth::Basic { user, password } if user == "alice" && password.as_str() == "s3cret")
        );
        assert!(!format!("{basic:?}").contains("s3cret"));
        let bearer = TsaAuth::from_lookup(env(&[("SHOMEI_TSA_TOKEN", "tok3n")])).unwrap();
        assert_eq!(bearer.header_value().unwrap().as_str(), "Bearer tok3n");
        assert!(!format!("{bearer:?}").contains("tok3n"));
        for bad in [
            &[("SHOMEI_TSA_USER", "alice")][..],
            &[("SHOMEI_TSA_PASSWORD", "s3cret")],
            &[
                ("SHOMEI_TSA_USER", "a:b"),
                ("SHOMEI_TSA_PASSWORD", "s3cret"),
            ],
            &[("SHOMEI_TSA_USER", "alice"), ("SHOMEI_TSA_TOKEN", "tok3n")],
        ] {
            let err = TsaAuth::from_lookup(env(bad)).unwrap_err();
            assert!(matches!(err, TspError::Config(_)), "{err}");
            let msg = err.to_string();
            assert!(!msg.contains("s3cret") && !msg.contains("tok3n"), "{msg}");
        }
        // Empty counts as unset.
        assert!(matches!(
            TsaAuth::from_lookup(env(&[("SHOMEI_TSA_TOKEN", "")])),
            Ok(TsaAuth::None)
        ));
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("https://u:p@tsa.example/x?y"),
            "https://***@tsa.example/x?y"
        );
        assert_eq!(redact_url("http://tsa.example/x"), "http://tsa.example/x");
    }

    #[test]
    fn estimate_then_learned_length() {
        struct Never;
        #[async_trait]
        impl HttpTransport for Never {
            async fn send(
                &self,
                request: HttpRequest,
            ) -> Result<shomei_core::HttpResponse, shomei_core::TransportError> {
                Err(shomei_core::TransportError::BadUrl(request.url))
            }
        }
        let tsa = HttpTsa::new(Arc::new(Never), HttpTsaConfig::new("http://tsa.invalid/"));
        assert_eq!(tsa.expected_token_len(), DEFAULT_TOKEN_ESTIMATE);
        tsa.largest_token.fetch_max(2000, Ordering::Relaxed);
        assert_eq!(tsa.expected_token_len(), 2000 + 200 + 256);
    }
}
