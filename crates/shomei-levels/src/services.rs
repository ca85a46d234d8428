//! What the long-term levels need from outside, bundled, and what a signature about
//! to be made needs before anything is signed.

use crate::validation_data::{add_chain, Strictness, ValidationData};
use shomei_core::{CertificateChain, Clock, Level};
use shomei_revocation::{RevocationError, RevocationSource};
use shomei_tsp::TimestampAuthority;

/// The services the long-term levels (B-T to B-LTA) of every format need.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct LtvServices<'a> {
    /// The time-stamping authority.
    pub tsa: &'a dyn TimestampAuthority,
    /// Where OCSP responses, CRLs and issuer certificates come from.
    pub revocation: &'a dyn RevocationSource,
    /// The clock certificates are checked against.
    pub clock: &'a dyn Clock,
}

impl<'a> LtvServices<'a> {
    /// Bundles the services.
    pub fn new(
        tsa: &'a dyn TimestampAuthority,
        revocation: &'a dyn RevocationSource,
        clock: &'a dyn Clock,
    ) -> Self {
        Self {
            tsa,
            revocation,
            clock,
        }
    }
}

/// The services `level` needs: `None` at B-B, else the ones given, or why they are
/// missing.
pub fn services_for_level(
    level: Level,
    services: Option<LtvServices<'_>>,
) -> Result<Option<LtvServices<'_>>, String> {
    match (level, services) {
        (Level::BB, _) => Ok(None),
        (_, Some(s)) => Ok(Some(s)),
        (_, None) => Err(format!(
            "{level} needs a time-stamping authority and revocation sources"
        )),
    }
}

/// For a signature about to be made at `level`: from B-LT on, the signer's chain and its
/// revocation data — gathered before anything is signed, so a revoked, expired or
/// not-yet-valid signer is refused first. Empty below B-LT.
pub async fn new_signer_data(
    level: Level,
    services: Option<&LtvServices<'_>>,
    chain: &CertificateChain,
) -> Result<ValidationData, RevocationError> {
    let mut data = ValidationData::default();
    if let (Some(s), true) = (services, level >= Level::BLT) {
        add_chain(
            &mut data,
            chain.signing_cert(),
            chain.certs(),
            s.revocation,
            s.clock,
            Strictness::NewSignature,
        )
        .await?;
    }
    Ok(data)
}
