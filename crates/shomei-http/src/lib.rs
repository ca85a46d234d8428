#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use async_trait::async_trait;
use shomei_core::{HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Largest answer accepted: time-stamp tokens, OCSP responses and certificates are a few
/// KiB; CRLs of large CAs reach a few MiB.
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// HTTP over reqwest with a per-request timeout and a body-size limit.
///
/// Plain `http://` (the usual for TSAs, OCSP responders and CRL distribution points)
/// goes through a client without a TLS trust store; the `https://` client, which loads
/// the system's trusted roots (tens of milliseconds: every file of /etc/ssl/certs), is
/// built on the first HTTPS request only.
#[derive(Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    https: std::sync::OnceLock<reqwest::Client>,
    timeout: Duration,
    max_body: usize,
    requests: AtomicU64,
}

/// A reqwest client; with `tls`, verifying servers against the platform's roots,
/// else with no root at all (for `http://` only).
fn client(timeout: Duration, tls: bool) -> Result<reqwest::Client, TransportError> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("shomei/", env!("CARGO_PKG_VERSION")));
    if !tls {
        builder = builder.tls_certs_only(std::iter::empty());
    }
    builder.build().map_err(|e| TransportError::Unreachable {
        url: String::new(),
        message: format!("cannot set up the HTTP client: {e}"),
    })
}

impl ReqwestTransport {
    /// A transport whose requests give up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, TransportError> {
        Ok(Self {
            client: client(timeout, false)?,
            https: std::sync::OnceLock::new(),
            timeout,
            max_body: DEFAULT_MAX_BODY,
            requests: AtomicU64::new(0),
        })
    }

    /// The client for `url`: the HTTPS one is built when first needed.
    fn client_for(&self, url: &str) -> Result<&reqwest::Client, TransportError> {
        if !url.starts_with("https://") {
            return Ok(&self.client);
        }
        if let Some(c) = self.https.get() {
            return Ok(c);
        }
        let built = client(self.timeout, true)?;
        Ok(self.https.get_or_init(|| built))
    }

    /// Changes the body-size limit.
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// How many requests were sent.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = request.url.clone();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(TransportError::BadUrl(url));
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let client = self.client_for(&url)?;
        let mut builder = match request.method {
            HttpMethod::Post => client.post(&url).body(request.body),
            _ => client.get(&url),
        };
        if let Some(ct) = &request.content_type {
            builder = builder.header(reqwest::header::CONTENT_TYPE, ct.as_str());
        }
        if let Some(auth) = &request.authorization {
            builder = builder.header(reqwest::header::AUTHORIZATION, auth.as_str());
        }
        let map_err = |e: reqwest::Error| {
            if e.is_timeout() {
                TransportError::Timeout {
                    url: url.clone(),
                    seconds: self.timeout.as_secs().max(1),
                }
            } else {
                TransportError::Unreachable {
                    url: url.clone(),
                    message: root_cause(&e),
                }
            }
        };
        let mut response = builder.send().await.map_err(map_err)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_err)? {
            if body.len().saturating_add(chunk.len()) > self.max_body {
                return Err(TransportError::TooLarge {
                    url,
                    limit: self.max_body,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse::new(status, content_type, body))
    }
}

/// The innermost error message (reqwest wraps hyper wraps io::Error).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unreachable_port_is_a_clear_error() {
        // Bind then drop a listener so the port is very likely closed.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = ReqwestTransport::new(Duration::from_secs(2)).unwrap();
        let err = t
            .send(HttpRequest::get(format!("http://127.0.0.1:{port}/x")))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1"));
        assert_eq!(t.request_count(), 1);
    }

    #[tokio::test]
    async fn answers_are_read_and_bounded() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for _ in 0..2 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let body = vec![b'x'; 100];
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                s.write_all(head.as_bytes()).await.unwrap();
                s.write_all(&body).await.unwrap();
            }
        });
        let t = ReqwestTransport::new(Duration::from_secs(5)).unwrap();
        let r = t
            .send(HttpRequest::post(
                format!("http://{addr}/"),
                "application/y",
                vec![1],
            ))
            .await
            .unwrap();
        assert_eq!((r.status, r.body.len()), (200, 100));
        assert!(t.https.get().is_none(), "no TLS trust store for http://");
        assert_eq!(r.content_type.as_deref(), Some("application/x"));
        let small = ReqwestTransport::new(Duration::from_secs(5))
            .unwrap()
            .with_max_body(10);
        let err = small
            .send(HttpRequest::get(format!("http://{addr}/")))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::TooLarge { .. }), "{err}");
    }

    #[tokio::test]
    async fn the_https_client_is_built_on_the_first_https_request() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let t = ReqwestTransport::new(Duration::from_secs(2)).unwrap();
        let _ = t
            .send(HttpRequest::get(format!("http://127.0.0.1:{port}/")))
            .await;
        assert!(t.https.get().is_none());
        let err = t
            .send(HttpRequest::get(format!("https://127.0.0.1:{port}/")))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Unreachable { .. }), "{err}");
        assert!(
            t.https.get().is_some(),
            "built on the first https:// request"
        );
    }

    #[tokio::test]
    async fn only_http_urls() {
        let t = ReqwestTransport::new(Duration::from_secs(1)).unwrap();
        let err = t
            .send(HttpRequest::get("file:///etc/passwd"))
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::BadUrl(_)));
        assert_eq!(t.request_count(), 0);
    }
}
