//! The OpenAPI 3.1 document of every route, served at `/openapi.json` (utoipa). The
//! request and answer shapes below exist for the document only: the handlers read the
//! JSON themselves, to accept both CSC versions' field names and to answer every
//! malformed body with the CSC error JSON.

#![allow(dead_code)]

use axum::Json;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// The CSC error body.
#[derive(Serialize, ToSchema)]
struct CscError {
    /// `invalid_request`, `invalid_token`, `invalid_grant`, `access_denied`, ...
    error: String,
    /// What was wrong.
    error_description: String,
}

/// `auth/login` answer.
#[derive(Serialize, ToSchema)]
struct Login {
    access_token: String,
    expires_in: i64,
}

/// `credentials/list` answer.
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct CredentialList {
    credentialIDs: Vec<String>,
}

/// `credentials/info` request.
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct InfoRequest {
    credentialID: String,
    /// `none`, `single` (default) or `chain`.
    certificates: Option<String>,
    certInfo: Option<bool>,
}

/// `credentials/info` answer (v2 `auth` object; v1 `authMode`, `PIN`, `OTP`).
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct CredentialInfo {
    description: String,
    /// `status`, `algo` (signature algorithm OIDs), `len`.
    key: serde_json::Value,
    /// `status`, `certificates` (base64 DER), and with certInfo the names and dates.
    cert: serde_json::Value,
    SCAL: String,
    multisign: i64,
    auth: Option<serde_json::Value>,
}

/// `credentials/authorize` request (v2; v1 has `hash`, `PIN`, `OTP`).
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct AuthorizeRequest {
    credentialID: String,
    numSignatures: i64,
    /// Base64 hashes: required at SCAL 2.
    hashes: Option<Vec<String>>,
    hashAlgorithmOID: Option<String>,
    /// `[{"id": "PIN", "value": …}, {"id": "OTP", "value": …}]`.
    authData: Vec<serde_json::Value>,
}

/// `credentials/authorize` answer.
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct Sad {
    SAD: String,
    expiresIn: i64,
}

/// `signatures/signHash` request (v2; v1 has `hash`, `hashAlgo`).
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct SignHashRequest {
    credentialID: String,
    SAD: String,
    hashes: Vec<String>,
    hashAlgorithmOID: String,
    signAlgo: String,
    signAlgoParams: Option<String>,
}

/// `signatures/signHash` answer: base64 signatures (ECDSA as DER).
#[derive(Serialize, ToSchema)]
struct Signatures {
    signatures: Vec<String>,
}

/// `signatures/timestamp` request.
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct TimestampRequest {
    hash: String,
    hashAlgorithmOID: String,
}

/// `signatures/timestamp` answer: a base64 RFC 3161 token.
#[derive(Serialize, ToSchema)]
struct Timestamp {
    timestamp: String,
}

macro_rules! csc_paths {
    ($v:literal, $info:ident, $login:ident, $revoke:ident, $list:ident, $cinfo:ident,
     $authorize:ident, $sign:ident, $ts:ident) => {
        #[utoipa::path(post, path = concat!("/csc/", $v, "/info"), tag = $v,
            responses((status = 200, description = "Service information", body = serde_json::Value)))]
        fn $info() {}
        #[utoipa::path(post, path = concat!("/csc/", $v, "/auth/login"), tag = $v,
            security(("basic" = [])),
            responses((status = 200, body = Login), (status = 401, body = CscError)))]
        fn $login() {}
        #[utoipa::path(post, path = concat!("/csc/", $v, "/auth/revoke"), tag = $v,
            security(("bearer" = [])),
            responses((status = 200, description = "Revoked"), (status = 401, body = CscError)))]
        fn $revoke() {}
        #[utoipa::path(post, path = concat!("/csc/", $v, "/credentials/list"), tag = $v,
            security(("bearer" = [])),
            responses((status = 200, body = CredentialList), (status = 401, body = CscError)))]
        fn $list() {}
        #[utoipa::path(post, path = concat!("/csc/", $v, "/credentials/info"), tag = $v,
            security(("bearer" = [])), request_body = InfoRequest,
            responses((status = 200, body = CredentialInfo), (status = 400, body = CscError)))]
        fn $cinfo() {}
        #[utoipa::path(post, path = concat!("/csc/", $v, "/credentials/authorize"), tag = $v,
            security(("bearer" = [])), request_body = AuthorizeRequest,
            responses((status = 200, body = Sad), (status = 400, body = CscError)))]
        fn $authorize() {}
        #[utoipa::path(post, path = concat!("/csc/", $v, "/signatures/signHash"), tag = $v,
            security(("bearer" = [])), request_body = SignHashRequest,
            responses((status = 200, body = Signatures), (status = 400, body = CscError)))]
        fn $sign() {}
        #[utoipa::path(post, path = concat!("/csc/", $v, "/signatures/timestamp"), tag = $v,
            security(("bearer" = [])), request_body = TimestampRequest,
            responses((status = 200, body = Timestamp), (status = 400, body = CscError)))]
        fn $ts() {}
    };
}

csc_paths!("v2", info2, login2, revoke2, list2, cinfo2, authorize2, sign2, ts2);
csc_paths!("v1", info1, login1, revoke1, list1, cinfo1, authorize1, sign1, ts1);

#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "Alive")))]
fn healthz() {}
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses((status = 200, description = "The database answers"), (status = 503, body = CscError)))]
fn readyz() {}
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text exposition")))]
fn metrics() {}
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "This document")))]
fn openapi_json() {}

#[utoipa::path(post, path = "/api/v1/validate", tag = "validation",
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The signed PDF or XML document as the body, or a multipart/form-data upload with a `document` part and `detached` parts (named files) for detached XML signatures; at most 64 MiB in all"),
    responses(
        (status = 200, description = "The validation report (docs/validation-report.schema.json)", body = serde_json::Value),
        (status = 400, body = CscError), (status = 413, body = CscError)))]
fn validate() {}

/// A document uploaded for signing, as its owner sees it.
#[derive(Serialize, ToSchema)]
struct Document {
    id: String,
    /// File name given at upload.
    name: String,
    /// `pdf` or `xml`.
    format: String,
    size: u64,
    /// SHA-256 of the uploaded file (hex).
    sha256: String,
    /// Pages (PDF); 0 for XML.
    pages: u64,
    /// `B-B`, `B-T`, `B-LT` or `B-LTA`.
    level: String,
    credential_id: String,
    /// The digest algorithm of `hash`.
    hash_algorithm: String,
    /// The hash to be signed (hex): what the signer approves.
    hash: String,
    /// `prepared`, `signed` or `failed`.
    state: String,
    /// Why signing failed.
    error: Option<String>,
    signed_size: Option<u64>,
    signed_sha256: Option<String>,
    /// When the document and its files are deleted (ms since the Unix epoch).
    expires_at: i64,
}

/// A list of documents.
#[derive(Serialize, ToSchema)]
struct Documents {
    documents: Vec<Document>,
}

/// The `options` part of an upload.
#[derive(Serialize, ToSchema)]
struct UploadOptions {
    credential_id: String,
    /// `B-B` (default), `B-T`, `B-LT`, `B-LTA`.
    level: Option<String>,
    /// PDF `/Reason`.
    reason: Option<String>,
    /// PDF `/Location`.
    location: Option<String>,
    /// PDF signature field name.
    field: Option<String>,
    /// PDF visible stamp: `page` (from 1), `x`, `y`, `width`, `height` (points from the
    /// page's lower-left corner), `text`, `utc_offset` (`+09:00`).
    stamp: Option<serde_json::Value>,
    /// XML: `enveloped` (default), `enveloping`, `detached`.
    packaging: Option<String>,
}

/// One approved document, as the upload showed it.
#[derive(Serialize, ToSchema)]
struct ApprovedDocument {
    id: String,
    sha256: String,
    hash: String,
}

/// The signer's approval.
#[derive(Serialize, ToSchema)]
struct Approval {
    credential_id: String,
    pin: String,
    /// The TOTP code, or
    otp: Option<String>,
    /// the passkey's answer (`ceremony`, `credential`) to the ceremony of
    /// `/api/v1/documents/approve/passkey` for exactly these documents.
    passkey: Option<serde_json::Value>,
    documents: Vec<ApprovedDocument>,
}

#[utoipa::path(post, path = "/api/v1/documents", tag = "documents",
    security(("bearer" = [])),
    request_body(content = UploadOptions, content_type = "multipart/form-data",
        description = "An `options` part (JSON, this schema), an optional `seal` part (PNG, the stamp's seal image) and one or more `file` parts (PDF or XML, streamed to disk; size limits from [documents])"),
    responses(
        (status = 201, description = "Each document with the hash to be signed", body = Documents),
        (status = 400, body = CscError), (status = 401, body = CscError),
        (status = 413, body = CscError), (status = 415, body = CscError),
        (status = 422, description = "Encrypted PDF, or a document that cannot be signed as asked", body = CscError)))]
fn upload() {}
#[utoipa::path(get, path = "/api/v1/documents", tag = "documents", security(("bearer" = [])),
    responses((status = 200, body = Documents), (status = 401, body = CscError)))]
fn list_documents() {}
#[utoipa::path(post, path = "/api/v1/documents/approve", tag = "documents",
    security(("bearer" = [])), request_body = Approval,
    responses(
        (status = 200, description = "The documents after signing (`signed` or `failed`)", body = Documents),
        (status = 400, description = "Wrong PIN or OTP, or the approved list is not what the upload showed", body = CscError),
        (status = 404, description = "Unknown document (or another user's)", body = CscError),
        (status = 409, description = "Not waiting for approval, or the file changed", body = CscError)))]
fn approve() {}
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Document), (status = 404, body = CscError)))]
fn get_document() {}
#[utoipa::path(delete, path = "/api/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted with its files"), (status = 404, body = CscError)))]
fn delete_document() {}
#[utoipa::path(get, path = "/api/v1/documents/{id}/signed", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The signed file (application/pdf or application/xml)", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = CscError), (status = 409, description = "Not signed", body = CscError)))]
fn download() {}

#[utoipa::path(get, path = "/api/v1/documents/archive", tag = "documents", security(("bearer" = [])),
    params(("ids" = String, Query, description = "Comma-separated document ids")),
    responses(
        (status = 200, description = "The signed files in one zip", content_type = "application/zip", body = Vec<u8>),
        (status = 404, body = CscError), (status = 409, description = "A document is not signed", body = CscError)))]
fn archive() {}

/// `POST /web/session` request: the password and a TOTP code.
#[derive(Serialize, ToSchema)]
struct SignIn {
    user: String,
    password: String,
    otp: String,
}

/// The web page's session: the user, the CSRF token (sign-in only), the credentials.
#[derive(Serialize, ToSchema)]
struct WebSession {
    user: String,
    /// Send it back in `X-CSRF-Token` on every request that changes something.
    csrf: Option<String>,
    /// `id`, `scal`, `key`, `signer` of each usable credential.
    credentials: Vec<serde_json::Value>,
    session_idle_seconds: i64,
}

#[utoipa::path(post, path = "/web/session", tag = "web page", request_body = SignIn,
    responses(
        (status = 200, description = "Signed in: sets the HttpOnly, SameSite=Strict session cookie", body = WebSession),
        (status = 400, description = "Wrong one-time code", body = CscError),
        (status = 401, description = "Wrong user name or password", body = CscError),
        (status = 403, description = "Locked or disabled", body = CscError)))]
fn web_sign_in() {}
#[utoipa::path(get, path = "/web/session", tag = "web page",
    responses((status = 200, body = WebSession), (status = 401, description = "Signed out or expired", body = CscError)))]
fn web_whoami() {}
#[utoipa::path(delete, path = "/web/session", tag = "web page",
    responses((status = 204, description = "Signed out; the cookie is cleared"), (status = 403, description = "No CSRF token", body = CscError)))]
fn web_sign_out() {}
#[utoipa::path(get, path = "/", tag = "web page",
    responses((status = 200, description = "The web page (Japanese and English)", content_type = "text/html")))]
fn page() {}
#[utoipa::path(get, path = "/assets/app.js", tag = "web page",
    responses((status = 200, description = "The page's script", content_type = "text/javascript")))]
fn page_js() {}
#[utoipa::path(get, path = "/assets/app.css", tag = "web page",
    responses((status = 200, description = "The page's style sheet", content_type = "text/css")))]
fn page_css() {}

/// A WebAuthn ceremony: its id and the options for `navigator.credentials.create` /
/// `get` (through `PublicKeyCredential.parse…OptionsFromJSON(options.publicKey)`).
#[derive(Serialize, ToSchema)]
struct Ceremony {
    ceremony: String,
    options: serde_json::Value,
}

/// A passkey's answer to a ceremony.
#[derive(Serialize, ToSchema)]
struct CeremonyAnswer {
    ceremony: String,
    /// `PublicKeyCredential.toJSON()`.
    credential: serde_json::Value,
    /// A new passkey's name (enrolment only).
    name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/documents/approve/passkey", tag = "documents",
    security(("bearer" = [])),
    request_body(content = serde_json::Value, description = "`credential_id` and `documents` (id, sha256, hash) as for the approval"),
    responses(
        (status = 200, description = "A ceremony whose challenge is bound to exactly these hashes; answer it in the approval's `passkey`", body = Ceremony),
        (status = 400, body = CscError), (status = 404, body = CscError), (status = 409, body = CscError)))]
fn approve_passkey() {}
#[utoipa::path(post, path = "/web/session/passkey", tag = "web page",
    request_body(content = serde_json::Value, description = "`user`: the user name"),
    responses((status = 200, body = Ceremony), (status = 400, description = "No passkey for this user", body = CscError)))]
fn web_passkey_start() {}
#[utoipa::path(post, path = "/web/session/passkey/finish", tag = "web page", request_body = CeremonyAnswer,
    responses((status = 200, description = "Signed in (cookie)", body = WebSession), (status = 400, body = CscError)))]
fn web_passkey_finish() {}
#[utoipa::path(get, path = "/web/passkeys", tag = "web page",
    responses((status = 200, description = "The user's passkeys", body = serde_json::Value), (status = 401, body = CscError)))]
fn passkey_list() {}
#[utoipa::path(post, path = "/web/passkeys", tag = "web page",
    responses((status = 200, description = "Enrolment ceremony", body = Ceremony), (status = 401, body = CscError)))]
fn passkey_enrol() {}
#[utoipa::path(post, path = "/web/passkeys/finish", tag = "web page", request_body = CeremonyAnswer,
    responses((status = 201, description = "The passkey kept", body = serde_json::Value), (status = 400, body = CscError)))]
fn passkey_enrol_finish() {}

/// `signatures/signDoc` request (v2).
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct SignDocRequest {
    credentialID: String,
    /// A SAD from `credentials/authorize` with `hashes` = the documents' hashes.
    SAD: String,
    /// The algorithm of those hashes (default SHA-256).
    hashAlgorithmOID: Option<String>,
    /// Each: `document` (base64), `signature_format` (`P` PAdES, `X` XAdES),
    /// `conformance_level` (`Ades-B-B` … `Ades-B-LTA`), `signed_envelope_property`
    /// (XAdES: `Enveloped`, `Enveloping`, `Detached`).
    documents: Vec<serde_json::Value>,
}

/// `signatures/signDoc` answer.
#[derive(Serialize, ToSchema)]
#[allow(non_snake_case)]
struct SignDocAnswer {
    /// The signed documents (base64), in order.
    DocumentWithSignature: Vec<String>,
    SignatureObject: Vec<String>,
}

#[utoipa::path(post, path = "/csc/v2/signatures/signDoc", tag = "v2",
    security(("bearer" = [])), request_body = SignDocRequest,
    responses((status = 200, body = SignDocAnswer), (status = 400, body = CscError), (status = 422, body = CscError)))]
fn sign_doc() {}

#[utoipa::path(get, path = "/api/v1/documents/{id}/preview", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The first page of the PDF", content_type = "image/png", body = Vec<u8>),
        (status = 204, description = "No preview (XML, or a page the renderer cannot draw)"),
        (status = 404, body = CscError)))]
fn preview() {}
#[utoipa::path(post, path = "/api/v1/documents/{id}/stamp", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = serde_json::Value, description = "The stamp (`page`, `x`, `y`, `width`, `height`, `text`, `utc_offset`) or null"),
    responses(
        (status = 200, description = "Prepared again: the new hash to be signed", body = Document),
        (status = 404, body = CscError), (status = 409, body = CscError), (status = 422, body = CscError)))]
fn restamp() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shomei remote signing service",
        description = "Cloud Signature Consortium API v2.0.0.2 (/csc/v2) and v1.0.4 (/csc/v1) with Sole Control Level 2"
    ),
    paths(
        info2,
        login2,
        revoke2,
        list2,
        cinfo2,
        authorize2,
        sign2,
        ts2,
        info1,
        login1,
        revoke1,
        list1,
        cinfo1,
        authorize1,
        sign1,
        ts1,
        healthz,
        readyz,
        metrics,
        openapi_json,
        validate,
        upload,
        list_documents,
        approve,
        get_document,
        delete_document,
        download,
        archive,
        web_sign_in,
        web_whoami,
        web_sign_out,
        page,
        page_js,
        page_css,
        approve_passkey,
        web_passkey_start,
        web_passkey_finish,
        passkey_list,
        passkey_enrol,
        passkey_enrol_finish,
        sign_doc,
        preview,
        restamp
    ),
    components(schemas(
        CscError,
        Login,
        CredentialList,
        InfoRequest,
        CredentialInfo,
        AuthorizeRequest,
        Sad,
        SignHashRequest,
        Signatures,
        TimestampRequest,
        Timestamp,
        Document,
        Documents,
        UploadOptions,
        ApprovedDocument,
        Approval,
        SignIn,
        WebSession,
        Ceremony,
        CeremonyAnswer,
        SignDocRequest,
        SignDocAnswer
    ))
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /openapi.json`.
pub(crate) async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
