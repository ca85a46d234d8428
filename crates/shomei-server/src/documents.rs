//! `/api/v1/documents`: upload PDF and XML files for signing (streamed to the data
//! directory), list them, approve them (PIN + TOTP, a SAD bound to exactly the hashes
//! shown — the rules of `credentials/authorize`), download the signed files, delete
//! them. Every rule lives in `shomei_service::documents`; this module reads requests
//! and writes answers. The caller is the user of the bearer token (`auth/login`).

use crate::web::{user_of, WebError};
use crate::{ApiError, AppState};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use shomei_service::documents::{
    Approval, ApprovedDocument, DocumentDesk, DocumentInfo, DocumentOptions, Possession, StagedFile,
};
use shomei_service::{Refusal, ServiceError};
use std::sync::Arc;

/// Most parts one upload may have (options, seal, files).
const MAX_PARTS: usize = 64;

fn desk(state: &AppState) -> Result<Arc<DocumentDesk>, ApiError> {
    state
        .documents
        .clone()
        .ok_or_else(|| ApiError::invalid("This service does not sign uploaded documents"))
}

fn multipart_error(e: &axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::invalid(format!("Invalid multipart body: {e}"))
}

/// Reads one part into memory, at most `limit` bytes.
async fn small_part(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
        if out.len().saturating_add(chunk.len()) > limit {
            return Err(ApiError::too_large(limit)
                .with_description(format!("The {what} is larger than {limit} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// `POST /api/v1/documents`, `multipart/form-data`: an `options` part (JSON: the
/// credential, the level, PDF reason/location/field/stamp, XML packaging), an optional
/// `seal` part (PNG) and one or more `file` parts. Answers `201` with each document's
/// id, name, size, SHA-256, pages and the hash to be signed.
pub(crate) async fn upload(
    State(state): State<AppState>,
    request: Request<Body>,
) -> Result<Response, WebError> {
    let desk = desk(&state)?;
    let user = user_of(&state, request.method(), request.headers()).await?;
    let mut form = Multipart::from_request(request, &state)
        .await
        .map_err(|e| ApiError::invalid(format!("Invalid multipart body: {e}")))?;
    let mut options: Option<DocumentOptions> = None;
    let mut seal = None;
    let mut staged: Vec<StagedFile> = Vec::new();
    let mut parts = 0usize;
    while let Some(mut field) = form.next_field().await.map_err(|e| multipart_error(&e))? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::invalid(format!("Too many parts: at most {MAX_PARTS}")).into());
        }
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "options" => {
                let bytes = small_part(&mut field, 64 << 10, "options part").await?;
                let parsed: DocumentOptions = serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::invalid(format!("Invalid options: {e}")))?;
                options = Some(parsed);
            }
            "seal" => {
                let bytes =
                    small_part(&mut field, shomei_stamp::MAX_SEAL_BYTES, "seal image").await?;
                seal = Some(Arc::new(bytes));
            }
            "file" => {
                if staged.len() >= desk.limits.max_files {
                    return Err(ApiError::invalid(format!(
                        "Too many files: at most {} in one upload",
                        desk.limits.max_files
                    ))
                    .into());
                }
                let file_name = field.file_name().unwrap_or("document").to_owned();
                let mut writer = desk.upload(&file_name)?;
                while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
                    writer.write(&chunk).map_err(|e| match e {
                        ServiceError::Refused(Refusal::TooLarge { limit }) => {
                            ApiError::too_large(usize::try_from(limit).unwrap_or(usize::MAX))
                                .with_description(format!(
                                    "{file_name} is larger than {limit} bytes"
                                ))
                        }
                        other => other.into(),
                    })?;
                }
                staged.push(writer.finish()?);
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "Unknown part `{other}`: send `options`, an optional `seal` and `file` parts"
                ))
                .into())
            }
        }
    }
    let options = options.ok_or_else(|| ApiError::invalid("No `options` part in the upload"))?;
    if staged.is_empty() {
        return Err(ApiError::invalid("No `file` part in the upload").into());
    }
    // All or nothing: a file that cannot be prepared withdraws the others.
    let mut out: Vec<DocumentInfo> = Vec::with_capacity(staged.len());
    for file in staged {
        let name = file.name().to_owned();
        match state
            .service
            .add_document(&user, &desk, file, &options, seal.clone())
            .await
        {
            Ok(info) => out.push(info),
            Err(e) => {
                for done in &out {
                    let _ = state.service.delete_document(&user, &desk, &done.id).await;
                }
                let e = ApiError::from(e);
                let description = format!("{name}: {}", e.description());
                return Err(e.with_description(description).into());
            }
        }
    }
    Ok((StatusCode::CREATED, Json(json!({ "documents": out }))).into_response())
}

/// `GET /api/v1/documents`: the caller's documents.
pub(crate) async fn list(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
) -> Result<Json<Value>, WebError> {
    desk(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    let docs = state.service.documents(&user).await?;
    Ok(Json(json!({ "documents": docs })))
}

/// `GET /api/v1/documents/{id}`.
pub(crate) async fn get_one(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<DocumentInfo>, WebError> {
    desk(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    Ok(Json(state.service.document(&user, &id).await?))
}

/// `DELETE /api/v1/documents/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, WebError> {
    let desk = desk(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    state.service.delete_document(&user, &desk, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /api/v1/documents/approve`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveBody {
    credential_id: String,
    pin: zeroize::Zeroizing<String>,
    /// The TOTP code, or:
    #[serde(default)]
    otp: Option<zeroize::Zeroizing<String>>,
    /// the passkey's answer to the ceremony `POST /api/v1/documents/approve/passkey`
    /// started for exactly these documents.
    #[serde(default)]
    passkey: Option<PasskeyAnswer>,
    documents: Vec<ApprovedDocument>,
}

/// A passkey's answer to a ceremony.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasskeyAnswer {
    pub(crate) ceremony: String,
    /// The browser's `PublicKeyCredential.toJSON()`.
    pub(crate) credential: Value,
}

/// The body of `POST /api/v1/documents/approve/passkey`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasskeyApprovalStart {
    credential_id: String,
    documents: Vec<ApprovedDocument>,
}

/// `POST /api/v1/documents/approve/passkey`: starts a passkey approval whose WebAuthn
/// challenge is bound to exactly the listed documents' hashes.
pub(crate) async fn approve_passkey_start(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    bytes: Bytes,
) -> Result<Json<Value>, WebError> {
    desk(&state)?;
    let rp = crate::web::passkeys(&state)?;
    let user = user_of(&state, &parts.method, &parts.headers).await?;
    let body: PasskeyApprovalStart = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid approval: {e}")))?;
    let (ceremony, options) = state
        .service
        .approve_documents_passkey_start(&user, &rp, &body.credential_id, &body.documents)
        .await?;
    Ok(Json(json!({ "ceremony": ceremony, "options": options })))
}

/// `POST /api/v1/documents/approve`: the signer's approval of the listed documents.
pub(crate) async fn approve(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    bytes: Bytes,
) -> Result<Json<Value>, WebError> {
    let desk = desk(&state)?;
    let user = user_of(&state, &parts.method, &parts.headers).await?;
    let body: ApproveBody = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid approval: {e}")))?;
    let client = crate::csc::client(&parts);
    let rp;
    let possession = match (&body.otp, &body.passkey) {
        (Some(otp), None) => Possession::Totp(otp),
        (None, Some(answer)) => {
            rp = crate::web::passkeys(&state)?;
            Possession::Passkey {
                rp: &rp,
                ceremony: &answer.ceremony,
                credential: &answer.credential,
            }
        }
        _ => {
            return Err(ApiError::invalid("Give either `otp` or `passkey`").into());
        }
    };
    let docs = state
        .service
        .approve_documents(
            &user,
            &desk,
            &Approval {
                credential_id: &body.credential_id,
                pin: &body.pin,
                possession,
                documents: &body.documents,
                client: &client,
            },
        )
        .await?;
    let signed = docs.iter().filter(|d| d.state == "signed").count();
    state
        .metrics
        .signatures
        .inc_by(u64::try_from(signed).unwrap_or(0));
    Ok(Json(json!({ "documents": docs })))
}

/// `GET /api/v1/documents/{id}/signed`: the signed file, streamed.
pub(crate) async fn download(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let desk = desk(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    let (info, file) = state.service.signed_document(&user, &desk, &id).await?;
    let stream =
        tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(file), 256 << 10);
    let content_type = if info.format == "pdf" {
        "application/pdf"
    } else {
        "application/xml"
    };
    let name = signed_name(&info.name, &info.format);
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&info.signed_size.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `GET /api/v1/documents/{id}/preview`: the first page of a PDF as PNG (204 when
/// it cannot be drawn).
pub(crate) async fn preview(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let desk = desk(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    match state.service.document_preview(&user, &desk, &id).await? {
        Some(png) => {
            let mut response = Response::new(Body::from(png));
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=300"),
            );
            Ok(response)
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// `POST /api/v1/documents/{id}/stamp`: places the visible stamp (a JSON stamp, or
/// `null` for none); the signature is prepared again and the new hash is answered.
pub(crate) async fn restamp(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Json<DocumentInfo>, WebError> {
    let desk = desk(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    let stamp: Option<shomei_service::documents::StampRequest> = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid stamp: {e}")))?;
    Ok(Json(
        state
            .service
            .restamp_document(&user, &desk, &id, stamp)
            .await?,
    ))
}

/// The query of `GET /api/v1/documents/archive`.
#[derive(Deserialize)]
pub(crate) struct ArchiveQuery {
    /// Comma-separated document ids.
    ids: String,
}

/// `GET /api/v1/documents/archive?ids=a,b,…`: the signed files of several documents in
/// one zip (stored, not compressed again: signed files are mostly compressed already),
/// built in the documents directory and streamed.
pub(crate) async fn archive(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<ArchiveQuery>,
) -> Result<Response, WebError> {
    let desk = desk(&state)?;
    let user = user_of(&state, &method, &headers).await?;
    let ids: Vec<&str> = query.ids.split(',').filter(|s| !s.is_empty()).collect();
    if ids.is_empty() || ids.len() > desk.limits.max_files {
        return Err(ApiError::invalid(format!(
            "Name between 1 and {} documents",
            desk.limits.max_files
        ))
        .into());
    }
    let mut files = Vec::with_capacity(ids.len());
    for id in &ids {
        let (info, file) = state.service.signed_document(&user, &desk, id).await?;
        files.push((signed_name(&info.name, &info.format), file));
    }
    let zip_file =
        shomei_core::blocking::run_blocking(move || -> std::io::Result<std::fs::File> {
            let tmp = tempfile::tempfile()?;
            let mut zip = zip::ZipWriter::new(tmp);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .large_file(true);
            let mut used = std::collections::HashSet::new();
            for (i, (name, mut file)) in files.into_iter().enumerate() {
                let name = if used.insert(name.clone()) {
                    name
                } else {
                    format!("{}-{name}", i + 1)
                };
                zip.start_file(name, options)?;
                std::io::copy(&mut file, &mut zip)?;
            }
            let mut out = zip.finish()?;
            std::io::Seek::rewind(&mut out)?;
            Ok(out)
        })
        .await
        .map_err(|e| ApiError::from(ServiceError::Internal(e.to_string())))?
        .map_err(|e| ApiError::from(ServiceError::Internal(format!("zip: {e}"))))?;
    let stream =
        tokio_util::io::ReaderStream::with_capacity(tokio::fs::File::from_std(zip_file), 256 << 10);
    let mut response = Response::new(Body::from_stream(stream));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition("signed-documents.zip")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `契約書.pdf` → `契約書.signed.pdf`.
pub(crate) fn signed_name(name: &str, format: &str) -> String {
    let ext = format!(".{format}");
    match name.len().checked_sub(ext.len()) {
        Some(cut) if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case(&ext) => {
            format!("{}.signed{ext}", &name[..cut])
        }
        _ => format!("{name}.signed{ext}"),
    }
}

/// `attachment` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 8187).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_names() {
        assert_eq!(signed_name("契約書.pdf", "pdf"), "契約書.signed.pdf");
        assert_eq!(signed_name("a.XML", "xml"), "a.signed.xml");
        assert_eq!(signed_name("noext", "pdf"), "noext.signed.pdf");
        assert_eq!(
            content_disposition("契約 1.pdf"),
            "attachment; filename=\"__ 1.pdf\"; filename*=UTF-8''%E5%A5%91%E7%B4%84%201.pdf"
        );
    }
}
