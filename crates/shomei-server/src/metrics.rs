//! Prometheus metrics at `/metrics`: requests by method and status, signatures made,
//! refusals by reason, and request latency.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The service's metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    pub(crate) signatures: IntCounter,
    refusals: IntCounterVec,
    latency: HistogramVec,
}

/// Why a request was refused, carried from the error to the metrics layer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RefusalReason(pub(crate) &'static str);

impl Metrics {
    /// A fresh registry with the service's metrics.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "shomei_requests_total",
                "HTTP requests by method and status",
            ),
            &["method", "status"],
        )?;
        let signatures = IntCounter::new("shomei_signatures_total", "Signatures made")?;
        let refusals = IntCounterVec::new(
            Opts::new("shomei_refusals_total", "Requests refused, by reason"),
            &["reason"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("shomei_request_seconds", "Request latency by method").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["method"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(signatures.clone()))?;
        registry.register(Box::new(refusals.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            registry,
            requests,
            signatures,
            refusals,
            latency,
        })
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Counts and times every request.
pub(crate) async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let verb = request.method().clone();
    let timer = metrics.latency.with_label_values(&[&method]).start_timer();
    let response = next.run(request).await;
    let seconds = timer.stop_and_record();
    metrics
        .requests
        .with_label_values(&[&method, response.status().as_str()])
        .inc();
    let reason = response.extensions().get::<RefusalReason>().map(|r| r.0);
    if let Some(reason) = reason {
        metrics.refusals.with_label_values(&[reason]).inc();
    }
    // The access log: the route (not the URL), the status, the time and the refusal
    // reason — never a header or a body, where the secrets are.
    tracing::info!(
        target: "shomei::http",
        method = %verb,
        route = %method,
        status = response.status().as_u16(),
        ms = seconds * 1000.0,
        refusal = reason.unwrap_or(""),
        "request"
    );
    response
}

/// `GET /metrics`.
pub(crate) async fn expose(State(state): State<crate::AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
