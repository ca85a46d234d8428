//! The HTTP side: one POST per CSC method, the `Authorization` header (with the
//! OAuth 2.0 token cache), retries for idempotent calls, call counting, and the
//! translation of error answers into [`CscError`].

use crate::config::{CscAuth, CscVersion};
use crate::error::{clean, read_error_body, words, CscError};
use crate::wire;
use shomei_core::{Clock, HttpRequest, HttpResponse, HttpTransport, TransportError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// Retries after a transport failure, for idempotent calls only. Two: a dropped
/// connection or a restarting load balancer usually recovers within that; a
/// service that is down stays down, and the transport's timeout bounds each try.
pub const MAX_RETRIES: usize = 2;

/// A cached token is renewed this long before it runs out, so that it does not
/// expire between the check and the server reading it.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

/// Token lifetime assumed when the endpoint gives no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: u64 = 300;

/// The CSC methods this client calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Info,
    CredentialsList,
    CredentialsInfo,
    Authorize,
    SignHash,
}

impl Method {
    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::CredentialsList => "credentials/list",
            Self::CredentialsInfo => "credentials/info",
            Self::Authorize => "credentials/authorize",
            Self::SignHash => "signatures/signHash",
        }
    }

    /// Whether repeating the call cannot change anything on the server.
    /// `credentials/authorize` may consume an OTP or count a PIN attempt, and
    /// `signatures/signHash` may consume the SAD: neither is ever repeated.
    fn idempotent(self) -> bool {
        matches!(
            self,
            Self::Info | Self::CredentialsList | Self::CredentialsInfo
        )
    }
}

/// How many calls a signer made, by kind (every HTTP attempt counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CallCounts {
    /// `credentials/authorize` calls.
    pub authorize: u64,
    /// `signatures/signHash` calls.
    pub sign_hash: u64,
    /// `info`, `credentials/list` and `credentials/info` calls (retries included).
    pub other: u64,
    /// Requests to the OAuth 2.0 token endpoint (retries included).
    pub token: u64,
}

#[derive(Default)]
struct Counters {
    authorize: AtomicU64,
    sign_hash: AtomicU64,
    other: AtomicU64,
    token: AtomicU64,
}

struct CachedToken {
    header: Zeroizing<String>,
    renew_at: SystemTime,
}

/// Talks to one CSC service.
pub(crate) struct Client {
    transport: Arc<dyn HttpTransport>,
    base_url: String,
    pub(crate) version: CscVersion,
    auth: CscAuth,
    token: Mutex<Option<CachedToken>>,
    counters: Counters,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Client {
    pub(crate) fn new(
        transport: Arc<dyn HttpTransport>,
        base_url: &str,
        version: CscVersion,
        auth: CscAuth,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CscError> {
        let base_url = base_url.trim().trim_end_matches('/').to_string();
        check_url(&base_url, "the base URL")?;
        if let CscAuth::ClientCredentials { token_url, .. } = &auth {
            check_url(token_url, "the token URL")?;
        }
        Ok(Self {
            transport,
            base_url,
            version,
            auth,
            token: Mutex::new(None),
            counters: Counters::default(),
            clock,
        })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn counts(&self) -> CallCounts {
        let c = &self.counters;
        CallCounts {
            authorize: c.authorize.load(Ordering::Relaxed),
            sign_hash: c.sign_hash.load(Ordering::Relaxed),
            other: c.other.load(Ordering::Relaxed),
            token: c.token.load(Ordering::Relaxed),
        }
    }

    fn counter(&self, method: Method) -> &AtomicU64 {
        match method {
            Method::Authorize => &self.counters.authorize,
            Method::SignHash => &self.counters.sign_hash,
            _ => &self.counters.other,
        }
    }

    /// POSTs `body` (JSON) to `{base}/{method}` and returns the 2xx body.
    /// `credential_id` and `secrets` only shape error messages.
    pub(crate) async fn call(
        &self,
        method: Method,
        body: Vec<u8>,
        credential_id: Option<&str>,
        secrets: &[&str],
    ) -> Result<Vec<u8>, CscError> {
        let url = format!("{}/{}", self.base_url, method.path());
        let mut request = HttpRequest::post(url, "application/json", body);
        request.authorization = self.authorization().await?;
        let attempts = if method.idempotent() {
            MAX_RETRIES + 1
        } else {
            1
        };
        let mut response = self
            .send(
                request.clone(),
                attempts,
                self.counter(method),
                method.path(),
            )
            .await?;
        // An OAuth2 access token the service no longer accepts (revoked, or expired
        // before its announced lifetime): fetch a new one and send once more. A 401
        // means the call was not carried out, so this is safe for every method.
        if response.status == 401
            && matches!(
                self.auth,
                CscAuth::ClientCredentials { .. } | CscAuth::Login { .. }
            )
        {
            *lock(&self.token) = None;
            request.authorization = self.authorization().await?;
            response = self
                .send(request, attempts, self.counter(method), method.path())
                .await?;
        }
        if (200..300).contains(&response.status) {
            return Ok(response.body);
        }
        let mut all_secrets: Vec<&str> = self.auth.secrets();
        all_secrets.extend_from_slice(secrets);
        Err(classify(
            method,
            response.status,
            &response.body,
            credential_id,
            &all_secrets,
        ))
    }

    /// Sends with up to `attempts` tries, retrying only unreachable and timeout.
    async fn send(
        &self,
        request: HttpRequest,
        attempts: usize,
        counter: &AtomicU64,
        name: &'static str,
    ) -> Result<HttpResponse, CscError> {
        let mut left = attempts.max(1);
        loop {
            left = left.saturating_sub(1);
            counter.fetch_add(1, Ordering::Relaxed);
            match self.transport.send(request.clone()).await {
                Ok(response) => return Ok(response),
                Err(TransportError::Unreachable { .. } | TransportError::Timeout { .. })
                    if left > 0 => {}
                Err(source) => {
                    return Err(CscError::Unreachable {
                        method: name,
                        source,
                    })
                }
            }
        }
    }

    /// The `Authorization` header for CSC calls, fetching a token when needed.
    async fn authorization(&self) -> Result<Option<Zeroizing<String>>, CscError> {
        match &self.auth {
            CscAuth::None => Ok(None),
            CscAuth::Bearer(token) => Ok(Some(bearer(token))),
            CscAuth::ClientCredentials { .. } | CscAuth::Login { .. } => {
                let now = self.clock.now();
                if let Some(cached) = lock(&self.token).as_ref() {
                    if now < cached.renew_at {
                        return Ok(Some(cached.header.clone()));
                    }
                }
                let token = match &self.auth {
                    CscAuth::ClientCredentials {
                        token_url,
                        client_id,
                        client_secret,
                    } => {
                        self.fetch_token(token_url, client_id, client_secret)
                            .await?
                    }
                    CscAuth::Login { user, password } => self.login(user, password).await?,
                    _ => return Ok(None),
                };
                let lifetime =
                    Duration::from_secs(token.expires_in.unwrap_or(DEFAULT_TOKEN_LIFETIME));
                let header = bearer(&token.token);
                *lock(&self.token) = Some(CachedToken {
                    header: header.clone(),
                    renew_at: now
                        .checked_add(lifetime.saturating_sub(TOKEN_MARGIN))
                        .unwrap_or(now),
                });
                Ok(Some(header))
            }
        }
    }

    /// CSC `auth/login`: HTTP Basic with the user name and password, an empty JSON
    /// body; the answer carries `access_token` and `expires_in`.
    async fn login(
        &self,
        user: &str,
        password: &Zeroizing<String>,
    ) -> Result<wire::AccessToken, CscError> {
        use base64::Engine;
        let mut pair = Zeroizing::new(String::with_capacity(user.len() + password.len() + 1));
        pair.push_str(user);
        pair.push(':');
        pair.push_str(password);
        let mut header = Zeroizing::new(String::from("Basic "));
        header.push_str(&base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
        let mut request = HttpRequest::post(
            format!("{}/auth/login", self.base_url),
            "application/json",
            b"{}".to_vec(),
        );
        request.authorization = Some(header);
        let response = self
            .send(request, 1, &self.counters.token, "auth/login")
            .await?;
        if !(200..300).contains(&response.status) {
            let body = read_error_body(&response.body, &[password.as_str()]);
            return Err(CscError::Unauthorized {
                method: "auth/login",
                status: response.status,
                description: join(&body.error, &body.description),
            });
        }
        wire::parse_token(&response.body)
    }

    /// RFC 6749 4.4: the client credentials grant, credentials in the form body.
    async fn fetch_token(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: &Zeroizing<String>,
    ) -> Result<wire::AccessToken, CscError> {
        let mut form = Zeroizing::new(String::from("grant_type=client_credentials&client_id="));
        form_encode_into(client_id, &mut form);
        form.push_str("&client_secret=");
        form_encode_into(client_secret, &mut form);
        let request = HttpRequest::post(
            token_url,
            "application/x-www-form-urlencoded",
            form.as_bytes().to_vec(),
        );
        let response = self
            .send(request, MAX_RETRIES + 1, &self.counters.token, "token")
            .await?;
        if !(200..300).contains(&response.status) {
            let body = read_error_body(&response.body, &[client_secret.as_str()]);
            let description = join(&body.error, &body.description);
            return Err(if matches!(response.status, 400 | 401 | 403) {
                CscError::Unauthorized {
                    method: "token",
                    status: response.status,
                    description,
                }
            } else {
                CscError::Server {
                    method: "token",
                    status: response.status,
                    error: body.error,
                    description: body.description,
                }
            });
        }
        wire::parse_token(&response.body)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves a token or nothing: both usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bearer(token: &str) -> Zeroizing<String> {
    let mut value = Zeroizing::new(String::with_capacity(token.len().saturating_add(7)));
    value.push_str("Bearer ");
    value.push_str(token);
    value
}

fn check_url(url: &str, what: &str) -> Result<(), CscError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Ok(())
    } else {
        Err(CscError::Config(format!(
            "{what} must start with http:// or https:// (got \"{}\")",
            clean(url, &[])
        )))
    }
}

/// `application/x-www-form-urlencoded` (WHATWG URL 5.2): unreserved bytes as is,
/// space as `+`, everything else percent-encoded.
fn form_encode_into(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(*HEX.get(usize::from(b >> 4)).unwrap_or(&b'0')));
                out.push(char::from(*HEX.get(usize::from(b & 0x0f)).unwrap_or(&b'0')));
            }
        }
    }
}

fn join(error: &str, description: &str) -> String {
    match (error.is_empty(), description.is_empty()) {
        (_, true) => error.to_string(),
        (true, false) => description.to_string(),
        (false, false) => format!("{error}: {description}"),
    }
}

/// Turns an error answer into the most specific [`CscError`].
///
/// The CSC specifications give `error` codes loosely (`invalid_request` covers
/// nearly everything) and put the cause in `error_description`
/// (`Invalid parameter SAD`, `Invalid PIN`, `Invalid parameter credentialID`), so
/// the description's words decide. Some services answer without JSON at all
/// (`404: Not Found`); a 404 from a credential method means the credential.
pub(crate) fn classify(
    method: Method,
    status: u16,
    body: &[u8],
    credential_id: Option<&str>,
    secrets: &[&str],
) -> CscError {
    let parsed = read_error_body(body, secrets);
    let description = join(&parsed.error, &parsed.description);
    let error = parsed.error.to_ascii_lowercase();
    let text = words(&parsed.description);
    let has = |w: &str| text.iter().any(|t| t == w);
    let credential_method = matches!(
        method,
        Method::CredentialsInfo | Method::Authorize | Method::SignHash
    );
    if has("sad") || error.contains("sad") {
        return CscError::SadInvalid { description };
    }
    if has("pin") || has("otp") || error.contains("pin") || error.contains("otp") {
        return CscError::WrongPinOrOtp { description };
    }
    if credential_method
        && (has("credentialid")
            || error.contains("credential")
            || (status == 404 && method != Method::SignHash))
    {
        return CscError::UnknownCredential {
            credential_id: clean(credential_id.unwrap_or("(none)"), secrets),
            description,
        };
    }
    if status == 401
        || matches!(
            error.as_str(),
            "invalid_token" | "invalid_client" | "unauthorized_client" | "access_denied"
        )
    {
        return CscError::Unauthorized {
            method: method.path(),
            status,
            description,
        };
    }
    CscError::Server {
        method: method.path(),
        status,
        error: parsed.error,
        description: parsed.description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        let mut out = String::new();
        form_encode_into("a b&c=d/é~", &mut out);
        assert_eq!(out, "a+b%26c%3Dd%2F%C3%A9%7E");
    }

    #[test]
    fn error_classes() {
        let body = |e: &str, d: &str| {
            serde_json::json!({"error": e, "error_description": d})
                .to_string()
                .into_bytes()
        };
        let c = |m, s, b: Vec<u8>| classify(m, s, &b, Some("cred-1"), &["0000"]);
        assert!(matches!(
            c(
                Method::Authorize,
                400,
                body("invalid_request", "Invalid PIN")
            ),
            CscError::WrongPinOrOtp { .. }
        ));
        assert!(matches!(
            c(Method::Authorize, 400, body("invalid_otp", "")),
            CscError::WrongPinOrOtp { .. }
        ));
        assert!(matches!(
            c(
                Method::SignHash,
                400,
                body("invalid_request", "Invalid parameter SAD")
            ),
            CscError::SadInvalid { .. }
        ));
        let unknown = c(
            Method::CredentialsInfo,
            400,
            body("invalid_request", "Invalid parameter credentialID"),
        );
        assert!(unknown.to_string().contains("unknown credential cred-1"));
        assert!(matches!(
            c(Method::CredentialsInfo, 404, b"404: Not Found".to_vec()),
            CscError::UnknownCredential { .. }
        ));
        assert!(matches!(
            c(Method::Info, 401, body("invalid_token", "expired")),
            CscError::Unauthorized { .. }
        ));
        // "pinning" is not "PIN".
        assert!(matches!(
            c(
                Method::Authorize,
                400,
                body("invalid_request", "hash pinning required")
            ),
            CscError::Server { .. }
        ));
        let echoed = c(
            Method::Authorize,
            400,
            body("invalid_request", "PIN 0000 wrong"),
        );
        assert!(!echoed.to_string().contains("0000"), "{echoed}");
    }
}
