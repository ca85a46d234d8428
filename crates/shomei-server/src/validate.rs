//! `POST /api/v1/validate`: a signed PDF or XML document validated by the library
//! against the service's configured trust anchors, answered with the JSON report. The
//! document is the raw request body, or the `document` part of a
//! `multipart/form-data` upload whose `detached` parts carry the data a detached XML
//! signature signs (by file name). The service validates offline — it never fetches a
//! URL named in an uploaded document — so signatures without embedded revocation data
//! are INDETERMINATE / TRY_LATER.

use crate::{ApiError, AppState, RevocationPolicy};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::Json;
use shomei_validate::{validate_offline, Format, Options, Report};
use shomei_xades::ltv::GivenData;

/// Largest request accepted (document and detached data together).
pub const MAX_DOCUMENT: usize = 64 << 20;

/// Most parts read from a multipart upload.
const MAX_PARTS: usize = 32;

/// The document and the detached data of a multipart upload.
async fn from_multipart(
    state: &AppState,
    request: Request<Body>,
) -> Result<(Bytes, GivenData), ApiError> {
    let mut form = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::invalid(format!("Invalid multipart body: {e}")))?;
    let mut document = None;
    let mut detached = GivenData::new();
    let mut parts = 0usize;
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(MAX_DOCUMENT)
        } else {
            ApiError::invalid(format!("Invalid multipart body: {e}"))
        }
    })? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::invalid(format!(
                "Too many parts: at most {MAX_PARTS}"
            )));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|_| ApiError::too_large(MAX_DOCUMENT))?;
        match name.as_str() {
            "document" if document.is_none() => document = Some(data),
            "document" => return Err(ApiError::invalid("More than one `document` part")),
            "detached" if !file_name.is_empty() => detached.add(file_name, data.to_vec()),
            "detached" => {
                return Err(ApiError::invalid(
                    "A `detached` part needs a file name (the name the signature uses)",
                ))
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "Unknown part `{other}`: send `document` and any `detached` parts"
                )))
            }
        }
    }
    let document = document.ok_or_else(|| ApiError::invalid("No `document` part in the upload"))?;
    Ok((document, detached))
}

/// The handler.
pub(crate) async fn validate(
    State(state): State<AppState>,
    request: Request<Body>,
) -> Result<Json<Report>, ApiError> {
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (bytes, detached) = if multipart {
        from_multipart(&state, request).await?
    } else {
        let bytes = axum::body::to_bytes(request.into_body(), MAX_DOCUMENT)
            .await
            .map_err(|_| ApiError::too_large(MAX_DOCUMENT))?;
        (bytes, GivenData::new())
    };
    if Format::sniff(&bytes).is_none() {
        return Err(ApiError::invalid(
            "The document is neither a PDF nor an XML document (send the signed file itself, \
             as the body or the `document` part of a multipart upload)",
        ));
    }
    let mut options = Options::new(state.trust_anchors.as_ref().clone());
    options.revocation_soft_fail = matches!(state.revocation, RevocationPolicy::SoftFail);
    let policy = state.revocation.clone();
    let report = shomei_core::blocking::run_blocking(move || match &policy {
        // The validation's own work stays off the async workers; only the fetches
        // wait on the runtime.
        RevocationPolicy::Fetch(source) => match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime.block_on(shomei_validate::validate(
                &bytes,
                &options,
                &detached,
                Some(source.as_ref()),
            )),
            Err(_) => validate_offline(&bytes, &options, &detached),
        },
        _ => validate_offline(&bytes, &options, &detached),
    })
    .await
    .map_err(|e| ApiError::invalid(format!("Validation stopped: {e}")))?
    .map_err(|e| ApiError::invalid(format!("Invalid document: {e}")))?;
    Ok(Json(report))
}
