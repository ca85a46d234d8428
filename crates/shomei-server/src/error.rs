//! The CSC error body (`{"error", "error_description"}`) with the spec's HTTP status.
//! A refusal says what was refused; anything else is a plain "server error" to the
//! client and the details go to the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use shomei_service::{Refusal, ServiceError};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    error: &'static str,
    description: String,
    reason: &'static str,
}

impl ApiError {
    /// 413 `invalid_request`: the body is larger than `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: "invalid_request",
            description: format!("The request body is larger than {limit} bytes"),
            reason: "too_large",
        }
    }

    /// 400 `invalid_request` with `description`.
    pub fn invalid(description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: description.into(),
            reason: "invalid_request",
        }
    }

    /// 404 for a route that does not exist.
    pub fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            error: "invalid_request",
            description: "no such method".into(),
            reason: "not_found",
        }
    }

    /// 401 `invalid_token`.
    pub fn unauthenticated(description: &str) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_token",
            description: description.into(),
            reason: "bad_token",
        }
    }

    /// 503 while the database is unreachable.
    pub fn unavailable() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: "temporarily_unavailable",
            description: "the service is not ready".into(),
            reason: "unavailable",
        }
    }

    /// 507 while the service's storage is full: nothing was kept or granted.
    pub fn storage_full() -> Self {
        Self {
            status: StatusCode::INSUFFICIENT_STORAGE,
            error: "temporarily_unavailable",
            description: "the service's storage is full; nothing was kept, try again later".into(),
            reason: "storage_full",
        }
    }

    /// The same error with another description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The same error with another stable reason (for the metrics and the page).
    pub fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = reason;
        self
    }

    /// The answer with `reason` in the body besides the CSC fields (the page's routes).
    pub(crate) fn into_response_with_reason(self) -> Response {
        let body = serde_json::json!({
            "error": self.error,
            "error_description": self.description,
            "reason": self.reason,
        });
        let mut response = (self.status, Json(body)).into_response();
        response
            .extensions_mut()
            .insert(crate::metrics::RefusalReason(self.reason));
        response
    }

    /// What the client is told.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.error,
            "error_description": self.description,
        });
        let mut response = (self.status, Json(body)).into_response();
        response
            .extensions_mut()
            .insert(crate::metrics::RefusalReason(self.reason));
        response
    }
}

fn refusal(r: &Refusal) -> ApiError {
    let (status, error, description) = match r {
        Refusal::BadLogin => (
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
            "Invalid user name or password".to_string(),
        ),
        Refusal::Locked { seconds } => (
            StatusCode::FORBIDDEN,
            "access_denied",
            format!("Locked after failed attempts; retry in {seconds} s"),
        ),
        Refusal::UserDisabled => (
            StatusCode::FORBIDDEN,
            "access_denied",
            "The user is disabled".to_string(),
        ),
        Refusal::NotASigner => (
            StatusCode::FORBIDDEN,
            "access_denied",
            "An administrator account cannot sign".to_string(),
        ),
        Refusal::BadToken => (
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is invalid, expired or revoked".to_string(),
        ),
        Refusal::UnknownCredential => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid parameter credentialID".to_string(),
        ),
        Refusal::CredentialDisabled => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The credential is disabled".to_string(),
        ),
        Refusal::CredentialDestroyed => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The credential was destroyed".to_string(),
        ),
        Refusal::NoCertificate => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The credential has no certificate".to_string(),
        ),
        Refusal::WrongPin => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid PIN".to_string(),
        ),
        Refusal::WrongOtp => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid OTP".to_string(),
        ),
        Refusal::OtpReplayed => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid OTP: already used".to_string(),
        ),
        Refusal::HashesRequired => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing parameter hashes: this credential binds the SAD to the hashes (SCAL 2)"
                .to_string(),
        ),
        Refusal::BadCount(why) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Invalid parameter numSignatures ({why})"),
        ),
        Refusal::BadSad => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid parameter SAD".to_string(),
        ),
        Refusal::HashNotAuthorized => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid parameter hashes: not authorized by the SAD, or already signed".to_string(),
        ),
        Refusal::TooManySignatures => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid parameter hashes: more than numSignatures".to_string(),
        ),
        Refusal::HashAlgorithm => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid parameter hashAlgorithmOID".to_string(),
        ),
        Refusal::PasswordPolicy(why) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Password policy: {why}"),
        ),
        Refusal::SessionExpired => (StatusCode::UNAUTHORIZED, "invalid_token", r.to_string()),
        Refusal::BadCsrf => (StatusCode::FORBIDDEN, "access_denied", r.to_string()),
        Refusal::TooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            r.to_string(),
        ),
        Refusal::UnknownDocument => (StatusCode::NOT_FOUND, "invalid_request", r.to_string()),
        Refusal::DocumentNotPending | Refusal::DocumentChanged | Refusal::DocumentNotSigned => {
            (StatusCode::CONFLICT, "invalid_request", r.to_string())
        }
        Refusal::NotADocument => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            r.to_string(),
        ),
        Refusal::EncryptedPdf | Refusal::BadDocument(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            r.to_string(),
        ),
        other => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            other.to_string(),
        ),
    };
    ApiError {
        status,
        error,
        description,
        reason: r.reason(),
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused(r) => refusal(&r),
            ServiceError::Database(e) if ServiceError::is_storage_full(&e) => {
                tracing::error!(error = %e, "database: storage full");
                Self::storage_full()
            }
            ServiceError::StorageFull(e) => {
                tracing::error!(error = %e, "storage full");
                Self::storage_full()
            }
            ServiceError::Database(e) => {
                tracing::error!(error = %e, "database");
                Self::unavailable()
            }
            ServiceError::Unavailable(e) => {
                tracing::error!(error = %e, "database");
                Self::unavailable()
            }
            other => {
                // The real error stays on the server.
                tracing::error!(error = %other, "internal error");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    error: "server_error",
                    description: "internal error".into(),
                    reason: "server_error",
                }
            }
        }
    }
}
