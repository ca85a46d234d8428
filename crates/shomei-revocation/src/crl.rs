//! CRLs (RFC 5280 section 5): find the distribution points, download, verify, look up.
//!
//! Only complete CRLs issued and signed by the certificate's issuer are used: a delta
//! CRL, an indirect CRL, a CRL partitioned by reason, or one whose issuing distribution
//! point excludes the certificate's kind is refused rather than misread.

use crate::certs;
use crate::error::{fmt_time, RevocationError};
use crate::revocation::CertStatus;
use crate::rfc6960::{oid, tbs_bytes, CrlReason};
use der::Decode;
use shomei_core::chain::ChainCert;
use shomei_core::{HttpRequest, HttpTransport};
use std::time::{Duration, SystemTime};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::DistributionPointName;
use x509_cert::ext::pkix::CrlDistributionPoints;

/// keyUsage bit `cRLSign` (RFC 5280 4.2.1.3).
const KU_CRL_SIGN: u8 = 6;

/// The `http://` fullName URIs of the certificate's CRL distribution points. Points
/// limited to some reasons or naming another CRL issuer are left out.
pub fn crl_urls(cert: &ChainCert) -> Vec<String> {
    let Some(ext) = certs::extension(cert, &oid::CE_CRL_DISTRIBUTION_POINTS) else {
        return Vec::new();
    };
    let Ok(points) = CrlDistributionPoints::from_der(ext.extn_value.as_bytes()) else {
        return Vec::new();
    };
    points
        .0
        .iter()
        .filter(|dp| dp.reasons.is_none() && dp.crl_issuer.is_none())
        .filter_map(|dp| match &dp.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(certs::http_uri)
        .collect()
}

/// A CRL as DER, decoded.
#[derive(Debug, Clone)]
pub struct Crl {
    der: Vec<u8>,
    list: CertificateList,
}

impl Crl {
    /// Parses DER, or PEM (`X509 CRL`).
    pub fn from_der_or_pem(bytes: &[u8]) -> Result<Self, RevocationError> {
        let der = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            let (label, der) = der::pem::decode_vec(bytes.trim_ascii())
                .map_err(|e| RevocationError::BadResponse(format!("CRL PEM: {e}")))?;
            if label != "X509 CRL" {
                return Err(RevocationError::BadResponse(format!(
                    "expected a PEM 'X509 CRL', found '{label}'"
                )));
            }
            der
        } else {
            bytes.to_vec()
        };
        let list = CertificateList::from_der(&der).map_err(|e| RevocationError::der("CRL", &e))?;
        Ok(Self { der, list })
    }

    /// The DER, for embedding (PDF `/DSS /CRLs`, XAdES `CRLValues`).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The decoded CRL.
    pub fn list(&self) -> &CertificateList {
        &self.list
    }

    /// `thisUpdate`.
    pub fn this_update(&self) -> SystemTime {
        self.list.tbs_cert_list.this_update.to_system_time()
    }

    /// `nextUpdate`, when given.
    pub fn next_update(&self) -> Option<SystemTime> {
        self.list
            .tbs_cert_list
            .next_update
            .map(|t| t.to_system_time())
    }

    /// Checks that `issuer` issued and signed this CRL and that it is a complete CRL.
    pub fn verify_issuer(&self, issuer: &ChainCert) -> Result<(), RevocationError> {
        let tbs = &self.list.tbs_cert_list;
        if &tbs.issuer != issuer.cert().tbs_certificate().subject() {
            return Err(RevocationError::UnauthorizedResponder(format!(
                "the CRL is issued by {}, not by {}",
                tbs.issuer,
                issuer.subject()
            )));
        }
        if !certs::key_usage_allows(issuer, KU_CRL_SIGN) {
            return Err(RevocationError::UnauthorizedResponder(format!(
                "{} may not sign CRLs (no cRLSign key usage)",
                issuer.subject()
            )));
        }
        let signed = tbs_bytes(&self.der).map_err(|e| RevocationError::der("CRL", &e))?;
        let signature = self.list.signature.as_bytes().ok_or_else(|| {
            RevocationError::BadResponse("the CRL signature is not a whole number of bytes".into())
        })?;
        certs::verify_signed(issuer, &self.list.signature_algorithm, signed, signature).map_err(
            |e| {
                RevocationError::InvalidSignature(format!(
                    "the CRL does not verify with the key of {}: {e}",
                    issuer.subject()
                ))
            },
        )?;
        for ext in tbs.crl_extensions.iter().flatten() {
            if ext.extn_id == oid::CE_DELTA_CRL_INDICATOR {
                return Err(RevocationError::BadResponse(
                    "delta CRLs are not supported".into(),
                ));
            }
            let known = [
                oid::CE_CRL_NUMBER,
                oid::CE_AUTHORITY_KEY_IDENTIFIER,
                oid::CE_ISSUING_DISTRIBUTION_POINT,
            ];
            if ext.critical && !known.contains(&ext.extn_id) {
                return Err(RevocationError::BadResponse(format!(
                    "unsupported critical CRL extension {}",
                    ext.extn_id
                )));
            }
        }
        Ok(())
    }

    /// Checks that the issuing distribution point, if any, covers `cert`.
    fn check_scope(&self, cert: &ChainCert) -> Result<(), RevocationError> {
        let Some(ext) = self
            .list
            .tbs_cert_list
            .crl_extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == oid::CE_ISSUING_DISTRIBUTION_POINT)
        else {
            return Ok(());
        };
        // Matched by OID here: x509-cert 0.3.0 gives IssuingDistributionPoint the
        // AssociatedOid of subjectInfoAccess, so `get_extension` would miss it.
        let idp = IssuingDistributionPoint::from_der(ext.extn_value.as_bytes())
            .map_err(|e| RevocationError::der("issuingDistributionPoint", &e))?;
        let refuse = |why: &str| {
            Err(RevocationError::BadResponse(format!(
                "the CRL cannot be used for {}: {why}",
                cert.subject()
            )))
        };
        if idp.indirect_crl {
            return refuse("it is an indirect CRL");
        }
        if idp.only_some_reasons.is_some() {
            return refuse("it covers only some revocation reasons");
        }
        if idp.only_contains_attribute_certs {
            return refuse("it covers only attribute certificates");
        }
        let ca = certs::is_ca(cert);
        if idp.only_contains_ca_certs && !ca {
            return refuse("it covers only CA certificates");
        }
        if idp.only_contains_user_certs && ca {
            return refuse("it covers only end-entity certificates");
        }
        Ok(())
    }

    /// Checks `thisUpdate` ≤ now (+ skew) and `nextUpdate` ≥ now (− skew).
    pub fn check_current(
        &self,
        now: SystemTime,
        max_skew: Duration,
    ) -> Result<(), RevocationError> {
        let this = self.this_update();
        if this > now + max_skew {
            return Err(RevocationError::Stale(format!(
                "CRL thisUpdate {} is in the future (now {})",
                fmt_time(this),
                fmt_time(now)
            )));
        }
        if let Some(next) = self.next_update() {
            if next + max_skew < now {
                return Err(RevocationError::Stale(format!(
                    "CRL nextUpdate {} has passed (now {})",
                    fmt_time(next),
                    fmt_time(now)
                )));
            }
        }
        Ok(())
    }

    /// The status of `cert` on this CRL (no verification: see [`check_crl`]).
    pub fn status_of(&self, cert: &ChainCert) -> Result<CertStatus, RevocationError> {
        let serial = cert.cert().tbs_certificate().serial_number().as_bytes();
        let Some(entry) = self
            .list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .find(|r| r.serial_number.as_bytes() == serial)
        else {
            return Ok(CertStatus::Good);
        };
        let mut reason = None;
        for ext in entry.crl_entry_extensions.iter().flatten() {
            if ext.extn_id == oid::CE_CRL_REASONS {
                let r = CrlReason::from_der(ext.extn_value.as_bytes())
                    .map_err(|e| RevocationError::der("CRL entry reasonCode", &e))?;
                reason = Some(r);
            } else if ext.critical {
                // certificateIssuer (indirect CRLs) or anything else we cannot honour
                return Err(RevocationError::BadResponse(format!(
                    "unsupported critical CRL entry extension {}",
                    ext.extn_id
                )));
            }
        }
        if reason == Some(CrlReason::RemoveFromCrl) {
            // only meaningful in delta CRLs, which are refused; a base CRL listing it
            // says the certificate is no longer revoked
            return Ok(CertStatus::Good);
        }
        Ok(CertStatus::Revoked {
            time: entry.revocation_date.to_system_time(),
            reason: reason.map(|r| r.name().to_string()),
        })
    }
}

/// A verified CRL lookup.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CrlResult {
    /// The CRL DER, for embedding.
    pub der: Vec<u8>,
    /// The certificate's status.
    pub status: CertStatus,
    /// `thisUpdate`.
    pub this_update: SystemTime,
    /// `nextUpdate`, when given.
    pub next_update: Option<SystemTime>,
}

/// Parses a CRL (DER or PEM), verifies it against `issuer` and the clock, and looks
/// `cert` up.
pub fn check_crl(
    bytes: &[u8],
    cert: &ChainCert,
    issuer: &ChainCert,
    now: SystemTime,
    max_skew: Duration,
) -> Result<CrlResult, RevocationError> {
    let crl = Crl::from_der_or_pem(bytes)?;
    if !certs::names_issuer(cert, issuer) {
        return Err(RevocationError::UnauthorizedResponder(format!(
            "{} is not the issuer of {}",
            issuer.subject(),
            cert.subject()
        )));
    }
    crl.verify_issuer(issuer)?;
    crl.check_scope(cert)?;
    crl.check_current(now, max_skew)?;
    let status = crl.status_of(cert)?;
    Ok(CrlResult {
        this_update: crl.this_update(),
        next_update: crl.next_update(),
        status,
        der: crl.der,
    })
}

/// GETs the bytes at a CRL distribution point.
pub async fn fetch_crl(
    transport: &dyn HttpTransport,
    url: &str,
) -> Result<Vec<u8>, RevocationError> {
    get_ok(transport, url).await
}

/// GETs `url` and returns the body of a 200 answer (CRLs, AIA caIssuers certificates).
pub(crate) async fn get_ok(
    transport: &dyn HttpTransport,
    url: &str,
) -> Result<Vec<u8>, RevocationError> {
    let response = transport
        .send(HttpRequest::get(url))
        .await
        .map_err(|e| RevocationError::from_transport(url, e))?;
    if response.status != 200 {
        return Err(RevocationError::Http {
            url: url.to_string(),
            status: response.status,
        });
    }
    Ok(response.body)
}
