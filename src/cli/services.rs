//! The long-term levels' services for one CLI run (the library's [`OnlineServices`]),
//! with the TSA credentials from the environment and errors as CLI failures.

use super::Failure;
use shomei::online::{OnlineError, OnlineServices};
use shomei_tsp::TsaAuth;
use std::time::Duration;

/// The CLI's view of [`OnlineServices`].
pub(crate) struct Services(OnlineServices);

fn failure(e: OnlineError) -> Failure {
    match e {
        OnlineError::NoTsa => {
            Failure::Input("this level needs a time-stamping authority: --tsa URL".into())
        }
        other => Failure::Signing(other.to_string()),
    }
}

impl Services {
    pub(crate) fn new(tsa_url: Option<&str>, timeout_secs: u64) -> Result<Self, Failure> {
        let auth = TsaAuth::from_env().map_err(|e| Failure::Input(e.to_string()))?;
        OnlineServices::new(tsa_url, auth, Duration::from_secs(timeout_secs))
            .map(Self)
            .map_err(failure)
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
    pub(crate) fn ltv(&self) -> Result<shomei_levels::LtvServices<'_>, Failure> {
        self.0.ltv().map_err(failure)
    }

    /// ", N HTTP requests" for the summary line of a run that may have none.
    pub(crate) fn summary(services: Option<&Self>) -> String {
        services
            .map(|s| format!(", {} HTTP requests", s.requests()))
            .unwrap_or_default()
    }

    /// HTTP requests sent so far.
    pub(crate) fn requests(&self) -> u64 {
        self.0.requests()
    }
}
