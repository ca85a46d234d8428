//! The HTTP face of shomei's remote signing service: the Cloud Signature Consortium API
//! v2.0.0.2 under `/csc/v2/` and v1.0.4 under `/csc/v1/` (v1 field names, so pyHanko's
//! `CSCSigner` works unchanged), `/healthz` and `/readyz`. Every rule lives in
//! `shomei-service`; this crate only parses requests, maps refusals to the CSC error
//! JSON with the spec's HTTP status, and never shows a stack trace or a secret.
//!
//! `app(state)` returns the router, so tests call it without a socket.

#![forbid(unsafe_code)]

mod csc;
mod error;
mod metrics;
mod openapi;

pub use error::ApiError;
pub use metrics::Metrics;
pub use openapi::document;

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

/// The service's own routes besides the CSC API.
fn service_routes() -> Vec<(&'static str, axum::routing::MethodRouter<AppState>)> {
    vec![
        ("/healthz", get(|| async { "ok" })),
        ("/readyz", get(csc::ready)),
        ("/metrics", get(metrics::expose)),
        ("/openapi.json", get(openapi::serve)),
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
    let mut router = Router::new()
        .nest("/csc/v2", csc(V2))
        .nest("/csc/v1", csc(V1));
    for (path, method) in service_routes() {
        router = router.route(path, method);
    }
    router
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
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
