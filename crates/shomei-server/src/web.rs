//! The web page (`/`, its assets embedded in the binary) and its session routes
//! (`/web/session`): sign-in with the password and a TOTP code sets an `HttpOnly`,
//! `SameSite=Strict` cookie and hands the page a CSRF token that every request that
//! changes something must carry in `X-CSRF-Token`. The document routes accept the
//! cookie as well as a bearer token; errors on these routes carry a machine-readable
//! `reason` besides the CSC error fields, so the page can say what went wrong in the
//! reader's language.

use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use shomei_service::{ServiceError, User};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "shomei_session";
/// The header carrying the CSRF token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// An error of the page's routes: the CSC error JSON plus `reason`.
#[derive(Debug)]
pub(crate) struct WebError(pub(crate) ApiError);

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        self.0.into_response_with_reason()
    }
}

/// The session token in the request's cookie, if any.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// The user of a request: the bearer token's (API clients), else the session cookie's
/// (the page) — which, for a method that changes something, must come with the
/// session's CSRF token.
pub(crate) async fn user_of(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<User, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        return crate::csc::caller(state, headers).await;
    }
    let Some(token) = session_cookie(headers) else {
        return Err(ApiError::unauthenticated("Sign in first").with_reason("signed_out"));
    };
    let safe = matches!(*method, Method::GET | Method::HEAD);
    let csrf = if safe {
        None
    } else {
        Some(
            headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        )
    };
    Ok(state.service.web_session_user(token, csrf).await?)
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(|_| ApiError::invalid("cookie"))
}

/// The body of `POST /web/session`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignIn {
    user: String,
    password: zeroize::Zeroizing<String>,
    otp: zeroize::Zeroizing<String>,
}

/// What the page needs after sign-in: the user, the CSRF token, the credentials.
async fn session_answer(state: &AppState, user: &User) -> Result<Value, WebError> {
    let credentials = state.service.credentials_of(user).await?;
    let list: Vec<Value> = credentials
        .iter()
        .filter(|c| c.state == "active" && c.chain.is_some())
        .map(|c| {
            let subject = c
                .chain
                .as_ref()
                .map(|ch| {
                    let cert = ch.signing_cert();
                    cert.common_name().unwrap_or_else(|| cert.subject())
                })
                .unwrap_or_default();
            json!({ "id": c.id, "scal": c.scal, "key": c.key.name(), "signer": subject })
        })
        .collect();
    let passkeys = state.service.passkeys_of(user).await?;
    Ok(json!({
        "user": user.name,
        "credentials": list,
        "passkeys": passkeys,
        "passkeys_enabled": state.passkeys.is_some(),
        "session_idle_seconds": state.service.policy().session_idle,
    }))
}

/// `POST /web/session`: sign in with the password and a TOTP code.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    bytes: Bytes,
) -> Result<Response, WebError> {
    let body: SignIn = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid sign-in: {e}")))?;
    let client = crate::csc::client(&parts);
    let session = state
        .service
        .web_sign_in(&body.user, &body.password, &body.otp, &client)
        .await?;
    session_response(&state, session).await
}

/// `GET /web/session`: who is signed in (the page's check after a reload).
pub(crate) async fn whoami(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<Value>, WebError> {
    let user = user_of(&state, &method, &headers).await?;
    Ok(Json(session_answer(&state, &user).await?))
}

/// `DELETE /web/session`: sign out.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    user_of(&state, &method, &headers).await?;
    if let Some(token) = session_cookie(&headers) {
        state.service.web_sign_out(token).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie(&state, "", 0)?);
    Ok(response)
}

/// The relying party of passkeys, if the service has a web origin.
pub(crate) fn passkeys(
    state: &AppState,
) -> Result<std::sync::Arc<shomei_service::passkeys::Passkeys>, ApiError> {
    state
        .passkeys
        .clone()
        .ok_or_else(|| ApiError::invalid("Passkeys are not configured ([web] origin)"))
}

/// A passkey's answer to a ceremony, with a name for a new passkey.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CeremonyAnswer {
    ceremony: String,
    credential: Value,
    #[serde(default)]
    name: Option<String>,
}

/// `GET /web/passkeys`: the user's passkeys.
pub(crate) async fn passkey_list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<Value>, WebError> {
    let user = user_of(&state, &method, &headers).await?;
    Ok(Json(
        json!({ "passkeys": state.service.passkeys_of(&user).await? }),
    ))
}

/// `POST /web/passkeys`: starts enrolling a passkey (signed in).
pub(crate) async fn passkey_register_start(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<Value>, WebError> {
    let rp = passkeys(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    let (ceremony, options) = state.service.passkey_register_start(&rp, &user).await?;
    Ok(Json(json!({ "ceremony": ceremony, "options": options })))
}

/// `POST /web/passkeys/finish`: the authenticator's answer; the passkey is kept.
pub(crate) async fn passkey_register_finish(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, WebError> {
    let rp = passkeys(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    let body: CeremonyAnswer = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid passkey answer: {e}")))?;
    let info = state
        .service
        .passkey_register_finish(
            &rp,
            &user,
            &body.ceremony,
            &body.credential,
            body.name.as_deref().unwrap_or("passkey"),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(info))).into_response())
}

/// The body of `POST /web/session/passkey`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasskeySignIn {
    user: String,
}

/// `POST /web/session/passkey`: starts a passkey sign-in for the named user.
pub(crate) async fn passkey_sign_in_start(
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, WebError> {
    let rp = passkeys(&state)?;
    let body: PasskeySignIn = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid sign-in: {e}")))?;
    let (ceremony, options) = state.service.passkey_sign_in_start(&rp, &body.user).await?;
    Ok(Json(json!({ "ceremony": ceremony, "options": options })))
}

/// `POST /web/session/passkey/finish`: the passkey's answer; a session (cookie).
pub(crate) async fn passkey_sign_in_finish(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    bytes: Bytes,
) -> Result<Response, WebError> {
    let rp = passkeys(&state)?;
    let body: CeremonyAnswer = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid passkey answer: {e}")))?;
    let client = crate::csc::client(&parts);
    let session = state
        .service
        .passkey_sign_in_finish(&rp, &body.ceremony, &body.credential, &client)
        .await?;
    session_response(&state, session).await
}

/// The answer of a sign-in: the page's session data with the CSRF token, and the cookie.
async fn session_response(
    state: &AppState,
    session: shomei_service::web::WebSession,
) -> Result<Response, WebError> {
    let user = state.service.web_session_user(&session.token, None).await?;
    let mut answer = session_answer(state, &user).await?;
    if let Some(map) = answer.as_object_mut() {
        map.insert("csrf".into(), json!(session.csrf.as_str()));
    }
    let mut response = Json(answer).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookie(state, &session.token, session.expires_in)?,
    );
    Ok(response)
}

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /`.
pub(crate) async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

/// `GET /assets/app.js`.
pub(crate) async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /assets/app.css`.
pub(crate) async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

/// Security headers on every answer: a strict content security policy (scripts and
/// styles only from the service itself, no framing), no MIME sniffing, no referrer.
pub(crate) async fn security_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; shomei_session=tok123; b=2"),
        );
        assert_eq!(session_cookie(&h), Some("tok123"));
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("shomei_session="));
        assert_eq!(session_cookie(&h), None);
    }
}
