//! `POST /api/v1/validate`: the PDF in the request body validated by the library
//! against the service's configured trust anchors, answered with the JSON report. The
//! service validates offline — it never fetches a URL named in an uploaded document —
//! so signatures without embedded revocation data are INDETERMINATE / TRY_LATER.

use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::Json;
use shomei_validate::{validate_pdf, Options, Report};

/// Largest document accepted.
pub const MAX_DOCUMENT: usize = 64 << 20;

/// The handler.
pub(crate) async fn validate(
    State(state): State<AppState>,
    request: Request<Body>,
) -> Result<Json<Report>, ApiError> {
    let bytes = axum::body::to_bytes(request.into_body(), MAX_DOCUMENT)
        .await
        .map_err(|_| ApiError::too_large(MAX_DOCUMENT))?;
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or_default();
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(ApiError::invalid(
            "The request body is not a PDF (send the document itself, Content-Type application/pdf)",
        ));
    }
    let anchors = state.trust_anchors.as_ref().clone();
    let report =
        shomei_core::blocking::run_blocking(move || validate_pdf(&bytes, &Options::new(anchors)))
            .await
            .map_err(|e| ApiError::invalid(format!("Validation stopped: {e}")))?
            .map_err(|e| ApiError::invalid(format!("Invalid document: {e}")))?;
    Ok(Json(report))
}
