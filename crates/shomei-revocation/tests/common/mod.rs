//! Helpers shared by the integration tests: a scripted HTTP transport.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use async_trait::async_trait;
use shomei_core::{HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError};
use std::sync::Mutex;

type Handler = dyn Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + Send + Sync;

/// Answers requests with a closure and records them.
pub(crate) struct FakeTransport {
    handler: Box<Handler>,
    log: Mutex<Vec<(HttpMethod, String)>>,
}

impl FakeTransport {
    pub(crate) fn new(
        handler: impl Fn(&HttpRequest) -> Result<HttpResponse, TransportError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            handler: Box::new(handler),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Every request answered with `status` and `body`.
    pub(crate) fn fixed(status: u16, body: Vec<u8>) -> Self {
        Self::new(move |_| Ok(HttpResponse::new(status, None, body.clone())))
    }

    pub(crate) fn request_count(&self) -> usize {
        self.log.lock().unwrap().len()
    }

    pub(crate) fn requests(&self) -> Vec<(HttpMethod, String)> {
        self.log.lock().unwrap().clone()
    }
}

#[async_trait]
impl HttpTransport for FakeTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.log
            .lock()
            .unwrap()
            .push((request.method, request.url.clone()));
        (self.handler)(&request)
    }
}

pub(crate) fn ok(body: Vec<u8>) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse::new(200, None, body))
}

pub(crate) fn unreachable(url: &str) -> Result<HttpResponse, TransportError> {
    Err(TransportError::Unreachable {
        url: url.to_string(),
        message: "connection refused".into(),
    })
}
