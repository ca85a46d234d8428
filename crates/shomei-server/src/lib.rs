//! The HTTP face of shomei's remote signing service: the Cloud Signature Consortium API
//! v2.0.0.2 under `/csc/v2/` (with `signatures/signDoc`) and v1.0.4 under `/csc/v1/` (v1
//! field names, so pyHanko's `CSCSigner` works unchanged), the document API
//! `/api/v1/documents` (upload, approve, download), validation `/api/v1/validate`, the
//! web page `/` with its sessions and passkeys (`/web/…`), `/healthz` and `/readyz`. Every rule lives in
//! `shomei-service`; this crate only parses requests, maps refusals to the CSC error
//! JSON with the spec's HTTP status, and never shows a stack trace or a secret.
//!
//! `app(state)` returns the router, so tests call it without a socket; [`serve`] and
//! [`serve_tls`] (rustls, [`tls_setup`]) run it with graceful shutdown. [`config`]
//! reads the service's TOML configuration with its environment overrides, and
//! [`init_logging`] starts the JSON (or text) log: one access line per request with
//! the route, status, time and refusal reason — never a header or a body.

#![forbid(unsafe_code)]

pub mod config;
mod csc;
mod documents;
mod error;
mod metrics;
mod openapi;
mod validate;
mod web;

pub use error::ApiError;
pub use metrics::Metrics;
pub use openapi::document;
pub use validate::MAX_DOCUMENT;

use axum::routing::{get, post};
use axum::Router;
use shomei_service::Service;
use shomei_tsp::TimestampAuthority;
use std::sync::Arc;

/// Largest request body accepted (hash lists are small; 1 MiB is generous).
pub const MAX_BODY: usize = 1 << 20;

/// What every route shares.
#[derive(Clone)]
pub struct AppState {
    /// The service domain.
    pub service: Arc<Service>,
    /// The time-stamping authority `signatures/timestamp` proxies, if configured.
    pub tsa: Option<Arc<dyn TimestampAuthority>>,
    /// The service's name in `info`.
    pub name: String,
    /// The Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The trust anchors of `POST /api/v1/validate`.
    pub trust_anchors: Arc<Vec<shomei_core::chain::ChainCert>>,
    /// How `POST /api/v1/validate` learns the status of certificates the document
    /// carries no revocation data for.
    pub revocation: RevocationPolicy,
    /// Where uploaded documents are prepared and kept (`/api/v1/documents`); `None`:
    /// the service signs hashes only.
    pub documents: Option<Arc<shomei_service::documents::DocumentDesk>>,
    /// Mark the web page's session cookie `Secure` (the service is served over HTTPS).
    pub secure_cookies: bool,
    /// The relying party of passkeys (the web page's origin); `None`: no passkeys.
    pub passkeys: Option<Arc<shomei_service::passkeys::Passkeys>>,
}

/// How `POST /api/v1/validate` treats certificates without revocation data in the
/// document (`[validation] revocation`).
#[derive(Clone, Default)]
pub enum RevocationPolicy {
    /// INDETERMINATE / TRY_LATER.
    #[default]
    Require,
    /// Fetched through this source (OCSP, CRL).
    Fetch(Arc<dyn shomei_revocation::RevocationSource>),
    /// Reported as not checked; the validation goes on.
    SoftFail,
}

impl std::fmt::Debug for RevocationPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Require => "Require",
            Self::Fetch(_) => "Fetch",
            Self::SoftFail => "SoftFail",
        })
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("name", &self.name)
            .field("tsa", &self.tsa.is_some())
            .finish_non_exhaustive()
    }
}

/// The CSC methods, the same under `/csc/v2` and `/csc/v1`: one table builds the
/// router and lists what is served (the OpenAPI document is checked against it).
fn csc_methods() -> Vec<(&'static str, axum::routing::MethodRouter<AppState>)> {
    vec![
        ("/info", post(csc::info).get(csc::info)),
        ("/auth/login", post(csc::login)),
        ("/auth/revoke", post(csc::revoke)),
        ("/credentials/list", post(csc::list)),
        ("/credentials/info", post(csc::credential_info)),
        ("/credentials/authorize", post(csc::authorize)),
        ("/signatures/signHash", post(csc::sign_hash)),
        ("/signatures/timestamp", post(csc::timestamp)),
    ]
}

/// CSC v2 only: the service builds the signature of whole documents.
const SIGN_DOC: &str = "/csc/v2/signatures/signDoc";

/// The service's own routes besides the CSC API.
fn service_routes() -> Vec<(&'static str, axum::routing::MethodRouter<AppState>)> {
    vec![
        ("/", get(web::index)),
        ("/assets/app.js", get(web::app_js)),
        ("/assets/app.css", get(web::app_css)),
        (
            "/web/session",
            post(web::sign_in).get(web::whoami).delete(web::sign_out),
        ),
        ("/web/session/passkey", post(web::passkey_sign_in_start)),
        (
            "/web/session/passkey/finish",
            post(web::passkey_sign_in_finish),
        ),
        (
            "/web/passkeys",
            get(web::passkey_list).post(web::passkey_register_start),
        ),
        ("/web/passkeys/finish", post(web::passkey_register_finish)),
        ("/healthz", get(|| async { "ok" })),
        ("/readyz", get(csc::ready)),
        ("/metrics", get(metrics::expose)),
        ("/openapi.json", get(openapi::serve)),
        (
            "/api/v1/documents",
            post(documents::upload)
                .get(documents::list)
                // Uploads are streamed to disk and limited per file by the desk.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        ),
        ("/api/v1/documents/approve", post(documents::approve)),
        (
            "/api/v1/documents/approve/passkey",
            post(documents::approve_passkey_start),
        ),
        ("/api/v1/documents/archive", get(documents::archive)),
        (
            "/api/v1/documents/{id}",
            get(documents::get_one).delete(documents::delete),
        ),
        ("/api/v1/documents/{id}/signed", get(documents::download)),
        ("/api/v1/documents/{id}/preview", get(documents::preview)),
        ("/api/v1/documents/{id}/stamp", post(documents::restamp)),
        (
            "/api/v1/validate",
            post(validate::validate)
                .layer(axum::extract::DefaultBodyLimit::max(validate::MAX_DOCUMENT)),
        ),
    ]
}

/// Every path the router serves.
pub fn served_paths() -> Vec<String> {
    let mut paths = Vec::new();
    for version in ["v2", "v1"] {
        for (path, _) in csc_methods() {
            paths.push(format!("/csc/{version}{path}"));
        }
    }
    paths.push(SIGN_DOC.into());
    paths.extend(service_routes().into_iter().map(|(p, _)| p.to_string()));
    paths
}

/// The routes.
pub fn app(state: AppState) -> Router {
    use csc::Version::{V1, V2};
    let csc = |v: csc::Version| {
        let mut router = Router::new();
        for (path, method) in csc_methods() {
            router = router.route(path, method);
        }
        router.layer(axum::Extension(v))
    };
    let sign_doc: axum::routing::MethodRouter<AppState> =
        post(csc::sign_doc).layer(axum::extract::DefaultBodyLimit::max(csc::MAX_SIGN_DOC_BODY));
    let mut router = Router::new()
        .route(SIGN_DOC, sign_doc)
        .nest("/csc/v2", csc(V2))
        .nest("/csc/v1", csc(V1));
    for (path, method) in service_routes() {
        router = router.route(path, method);
    }
    router
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn(web::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Starts the log: one line per event on standard error, JSON or text, down to
/// `level`. Called once by the binary (a second call is ignored).
pub fn init_logging(format: config::LogFormat, level: config::LogLevel) {
    use config::LogLevel;
    let level = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Trace => tracing::Level::TRACE,
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level);
    let _ = match format {
        config::LogFormat::Json => builder.json().flatten_event(true).try_init(),
        config::LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}

/// The TLS setup of `[tls]`: the certificate chain and key (PEM), TLS 1.2 and 1.3
/// with rustls' safe defaults, HTTP/1.1.
///
/// # Errors
/// A file that cannot be read or holds no certificate / key, or a key that is not the
/// certificate's.
pub fn tls_setup(
    files: &config::TlsFiles,
) -> Result<Arc<rustls::ServerConfig>, config::ConfigError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let failed = |path: &std::path::Path, what: &str, e: &dyn std::fmt::Display| {
        config::ConfigError::new(format!("TLS {what} {}: {e}", path.display()))
    };
    let chain = CertificateDer::pem_file_iter(&files.certificate)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| failed(&files.certificate, "certificate", &e))?;
    if chain.is_empty() {
        return Err(failed(
            &files.certificate,
            "certificate",
            &"no CERTIFICATE block",
        ));
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|e| failed(&files.key, "key", &e))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config::ConfigError::new(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| failed(&files.key, "key", &e))?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}

/// Serves `app` over TLS on `listener` until `shutdown` resolves; requests in flight
/// get up to 30 s to finish.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app(state);
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
    });
    axum_server::from_tcp_rustls(
        listener.into_std()?,
        axum_server::tls_rustls::RustlsConfig::from_config(tls),
    )
    .handle(handle)
    .serve(router.into_make_service_with_connect_info::<std::net::SocketAddr>())
    .await
}

/// Serves `app` on `listener` until `shutdown` resolves; requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app(state);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
