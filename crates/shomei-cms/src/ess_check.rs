//! Does a signature's ESS signing-certificate(-v2) attribute (RFC 2634 5.4, RFC 5035 3)
//! name a given certificate? The signed attribute binds the signing certificate into
//! the signature, so a certificate swapped afterwards is caught. Used for CAdES
//! signatures and RFC 3161 time-stamp tokens alike.

use crate::attributes::ID_AA_SIGNING_CERTIFICATE_V2;
use const_oid::ObjectIdentifier;
use der::Decode;
use shomei_core::chain::ChainCert;
use shomei_core::ess::{IssuerSerial, SigningCertificate, SigningCertificateV2};
use shomei_core::{Digest, DigestAlgorithm};
use x509_cert::attr::Attributes;
use x509_cert::ext::pkix::name::GeneralName;

/// id-aa-signingCertificate (RFC 2634 5.4).
pub const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");

/// Which attribute named the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EssVersion {
    /// signing-certificate-v2 (any SHA-2).
    V2,
    /// signing-certificate (SHA-1).
    V1,
}

/// Why the attribute does not name the certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EssFailure {
    /// Neither attribute is there.
    #[error("no ESS signing-certificate(-v2) attribute")]
    Absent,
    /// The attribute names another certificate.
    #[error("the ESS signing-certificate attribute names another certificate than {0}")]
    OtherCertificate(String),
    /// The attribute cannot be read (repeated, several values, bad DER, unknown hash).
    #[error("the ESS signing-certificate attribute is malformed: {0}")]
    Malformed(String),
}

fn single_attr<T>(attrs: &Attributes, oid: ObjectIdentifier) -> Result<Option<T>, EssFailure>
where
    T: for<'a> Decode<'a, Error = der::Error>,
{
    crate::attributes::single_attr(attrs, oid).map_err(EssFailure::Malformed)
}

/// Whether `issuer_serial` (if present) names `cert`.
fn issuer_serial_matches(issuer_serial: Option<&IssuerSerial>, cert: &ChainCert) -> bool {
    let Some(is) = issuer_serial else { return true };
    let tbs = cert.cert().tbs_certificate();
    &is.serial_number == tbs.serial_number()
        && is
            .issuer
            .iter()
            .any(|n| matches!(n, GeneralName::DirectoryName(name) if name == tbs.issuer()))
}

/// Checks that the first ESSCertID(v2) of the signed attributes `attrs` is `cert`
/// (its hash, and its issuer and serial number when given). The v2 attribute is
/// preferred when both are present.
///
/// # Errors
/// [`EssFailure`].
pub fn check_signing_certificate(
    attrs: &Attributes,
    cert: &ChainCert,
) -> Result<EssVersion, EssFailure> {
    let other = || EssFailure::OtherCertificate(cert.subject());
    if let Some(v2) = single_attr::<SigningCertificateV2>(attrs, ID_AA_SIGNING_CERTIFICATE_V2)? {
        let id = v2.certs.first().ok_or_else(other)?;
        let alg = match &id.hash_algorithm {
            None => DigestAlgorithm::Sha256,
            Some(a) => DigestAlgorithm::from_oid(&a.oid)
                .filter(|_| a.parameters.as_ref().is_none_or(|p| p.is_null()))
                .ok_or_else(|| {
                    EssFailure::Malformed(format!(
                        "ESSCertIDv2 hash algorithm {} is not supported",
                        a.oid
                    ))
                })?,
        };
        let hash = Digest::compute(alg, cert.der());
        if hash.as_bytes() != id.cert_hash.as_bytes()
            || !issuer_serial_matches(id.issuer_serial.as_ref(), cert)
        {
            return Err(other());
        }
        return Ok(EssVersion::V2);
    }
    if let Some(v1) = single_attr::<SigningCertificate>(attrs, ID_AA_SIGNING_CERTIFICATE)? {
        let id = v1.certs.first().ok_or_else(other)?;
        let hash = shomei_core::check::CheckHash::Sha1.digest(cert.der());
        if hash != id.cert_hash.as_bytes()
            || !issuer_serial_matches(id.issuer_serial.as_ref(), cert)
        {
            return Err(other());
        }
        return Ok(EssVersion::V1);
    }
    Err(EssFailure::Absent)
}
