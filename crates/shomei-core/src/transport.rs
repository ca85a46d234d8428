//! HTTP as an injected trait: time-stamp, OCSP, CRL and certificate fetches go through
//! [`HttpTransport`], so tests can count requests, simulate outages, or answer from
//! memory, and the format crates never open sockets themselves.

use async_trait::async_trait;

/// One HTTP request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: HttpMethod,
    /// Absolute `http` or `https` URL.
    pub url: String,
    /// `Content-Type` of the body (POST).
    pub content_type: Option<String>,
    /// Request body (POST).
    pub body: Vec<u8>,
    /// `Authorization` header value, if any. Never logged.
    pub authorization: Option<zeroize::Zeroizing<String>>,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    Post,
}

impl HttpRequest {
    /// A GET request.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: HttpMethod::Get,
            url: url.into(),
            content_type: None,
            body: Vec::new(),
            authorization: None,
        }
    }

    /// A POST request with a body.
    pub fn post(url: impl Into<String>, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            method: HttpMethod::Post,
            url: url.into(),
            content_type: Some(content_type.to_string()),
            body,
            authorization: None,
        }
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
    /// Body (bounded by the transport).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// Creates a response.
    pub fn new(status: u16, content_type: Option<String>, body: Vec<u8>) -> Self {
        Self {
            status,
            content_type,
            body,
        }
    }
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connection refused, DNS failure, TLS failure...
    #[error("cannot reach {url}: {message}")]
    Unreachable {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// No answer within the configured time.
    #[error("no answer from {url} within {seconds} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        seconds: u64,
    },
    /// The body was larger than the transport accepts.
    #[error("the answer from {url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The URL is not one the transport will fetch.
    #[error("refusing to fetch {0}")]
    BadUrl(String),
}

/// Sends HTTP requests.
#[async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends one request and returns the response, whatever its status.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}
