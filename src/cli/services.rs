//! The network services of the long-term levels: one HTTP transport shared by the
//! time-stamping authority client and the revocation client (so each certificate's
//! OCSP response or CRL is fetched once per run, and requests can be counted).

use super::Failure;
use shomei_core::{Clock, HttpTransport, SystemClock};
use shomei_http::ReqwestTransport;
use shomei_revocation::{OnlineRevocation, RevocationSource};
use shomei_tsp::{HttpTsa, HttpTsaConfig, TimestampAuthority, TsaAuth};
use std::sync::Arc;
use std::time::Duration;

/// TSA, revocation source and clock for one run.
pub(crate) struct Services {
    pub(crate) tsa: Option<Arc<dyn TimestampAuthority>>,
    pub(crate) revocation: Arc<dyn RevocationSource>,
    pub(crate) clock: Arc<dyn Clock>,
    transport: Arc<ReqwestTransport>,
}

impl Services {
    pub(crate) fn new(tsa_url: Option<&str>, timeout_secs: u64) -> Result<Self, Failure> {
        let transport = Arc::new(
            ReqwestTransport::new(Duration::from_secs(timeout_secs.max(1)))
                .map_err(|e| Failure::Signing(e.to_string()))?,
        );
        let dyn_transport: Arc<dyn HttpTransport> = transport.clone();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let tsa: Option<Arc<dyn TimestampAuthority>> = match tsa_url {
            Some(url) => {
                let mut config = HttpTsaConfig::new(url);
                config.auth = TsaAuth::from_env().map_err(|e| Failure::Input(e.to_string()))?;
                Some(Arc::new(HttpTsa::new(dyn_transport.clone(), config)))
            }
            None => None,
        };
        let revocation: Arc<dyn RevocationSource> =
            Arc::new(OnlineRevocation::new(dyn_transport, clock.clone()));
        Ok(Self {
            tsa,
            revocation,
            clock,
            transport,
        })
    }

    /// The TSA, or a usage error naming the option.
    pub(crate) fn tsa(&self) -> Result<&dyn TimestampAuthority, Failure> {
        self.tsa.as_deref().ok_or_else(|| {
            Failure::Input("this level needs a time-stamping authority: --tsa URL".into())
        })
    }

    /// The services a signing run at `level` needs: none at B-B.
    pub(crate) fn for_level(
        level: shomei_core::Level,
        network: &super::NetworkArgs,
    ) -> Result<Option<Self>, Failure> {
        if level > shomei_core::Level::BB {
            Self::new(network.tsa.as_deref(), network.timeout).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The library's view of these services (the TSA is required).
    pub(crate) fn ltv(&self) -> Result<shomei_revocation::LtvServices<'_>, Failure> {
        Ok(shomei_revocation::LtvServices::new(
            self.tsa()?,
            self.revocation.as_ref(),
            self.clock.as_ref(),
        ))
    }

    /// ", N HTTP requests" for the summary line of a run that may have none.
    pub(crate) fn summary(services: Option<&Self>) -> String {
        services
            .map(|s| format!(", {} HTTP requests", s.requests()))
            .unwrap_or_default()
    }

    /// HTTP requests sent so far.
    pub(crate) fn requests(&self) -> u64 {
        self.transport.request_count()
    }
}
