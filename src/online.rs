//! The network services of the long-term levels for a program that runs on its own:
//! one HTTP transport (rustls, timeouts, size limits) shared by the time-stamping
//! authority client and the revocation client, so each certificate's OCSP response or
//! CRL is fetched once per run and every request is counted. The CLI and the server
//! both use it; a document system with its own TSA or cache implements the traits and
//! builds [`LtvServices`] directly.

use shomei_core::{Clock, HttpTransport, SystemClock, TransportError};
use shomei_http::ReqwestTransport;
use shomei_levels::LtvServices;
use shomei_revocation::{OnlineRevocation, RevocationSource};
use shomei_tsp::{HttpTsa, HttpTsaConfig, TimestampAuthority, TsaAuth};
use std::sync::Arc;
use std::time::Duration;

/// Why the services are not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnlineError {
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Transport(#[from] TransportError),
    /// A long-term level was asked for without a time-stamping authority.
    #[error("this level needs a time-stamping authority (a TSA URL)")]
    NoTsa,
}

/// TSA, revocation source and clock over one HTTP transport.
pub struct OnlineServices {
    tsa: Option<Arc<dyn TimestampAuthority>>,
    revocation: Arc<dyn RevocationSource>,
    clock: Arc<dyn Clock>,
    transport: Arc<ReqwestTransport>,
}

impl std::fmt::Debug for OnlineServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineServices")
            .field("tsa", &self.tsa.is_some())
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl OnlineServices {
    /// Services with the TSA at `tsa_url` (authenticated with `auth`), if any, and
    /// `timeout` for every request.
    pub fn new(
        tsa_url: Option<&str>,
        auth: TsaAuth,
        timeout: Duration,
    ) -> Result<Self, OnlineError> {
        let transport = Arc::new(ReqwestTransport::new(timeout.max(Duration::from_secs(1)))?);
        let dyn_transport: Arc<dyn HttpTransport> = transport.clone();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let tsa = tsa_url.map(|url| -> Arc<dyn TimestampAuthority> {
            let mut config = HttpTsaConfig::new(url);
            config.auth = auth;
            Arc::new(HttpTsa::new(dyn_transport.clone(), config))
        });
        let revocation: Arc<dyn RevocationSource> =
            Arc::new(OnlineRevocation::new(dyn_transport, clock.clone()));
        Ok(Self {
            tsa,
            revocation,
            clock,
            transport,
        })
    }

    /// The bundle the levels take; [`OnlineError::NoTsa`] without a TSA.
    pub fn ltv(&self) -> Result<LtvServices<'_>, OnlineError> {
        let tsa = self.tsa.as_deref().ok_or(OnlineError::NoTsa)?;
        Ok(LtvServices::new(
            tsa,
            self.revocation.as_ref(),
            self.clock.as_ref(),
        ))
    }

    /// The revocation source (OCSP first, CRL as fallback), e.g. for validation.
    pub fn revocation(&self) -> &dyn RevocationSource {
        self.revocation.as_ref()
    }

    /// The revocation source, shared (for a server's validation, say).
    pub fn revocation_source(&self) -> Arc<dyn RevocationSource> {
        self.revocation.clone()
    }

    /// The shared transport (for a CSC client, say).
    pub fn transport(&self) -> Arc<dyn HttpTransport> {
        self.transport.clone()
    }

    /// HTTP requests sent so far through these services.
    pub fn requests(&self) -> u64 {
        self.transport.request_count()
    }
}
