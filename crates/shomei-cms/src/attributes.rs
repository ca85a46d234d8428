//! Attribute OIDs and constructors (RFC 5652 11, RFC 5035, RFC 3161).

use const_oid::ObjectIdentifier;
use der::{asn1::SetOfVec, Any, Decode, Encode};
use x509_cert::attr::Attribute;

/// id-data (RFC 5652 4).
pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData (RFC 5652 5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-contentType (RFC 5652 11.1).
pub const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest (RFC 5652 11.2).
pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime (RFC 5652 11.3).
pub const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
/// id-aa-signingCertificateV2 (RFC 5035 3).
pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// id-aa-signatureTimeStampToken (RFC 3161 Appendix A).
pub const ID_AA_SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");

/// The value of the attribute `oid` in `attrs`, which must appear at most once with
/// one value (`None` when absent). The error says what is wrong, naming the OID.
pub fn single_attr<T>(
    attrs: &x509_cert::attr::Attributes,
    oid: ObjectIdentifier,
) -> Result<Option<T>, String>
where
    T: for<'a> Decode<'a, Error = der::Error>,
{
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() || attr.values.len() != 1 {
        return Err(format!("attribute {oid} must appear once with one value"));
    }
    let value = attr
        .values
        .iter()
        .next()
        .ok_or_else(|| format!("attribute {oid} has no value"))?;
    let der = value.to_der().map_err(|e| format!("attribute: {e}"))?;
    T::from_der(&der)
        .map(Some)
        .map_err(|e| format!("attribute {oid}: {e}"))
}

/// An attribute with a single value.
pub fn single_valued<T: Encode>(oid: ObjectIdentifier, value: &T) -> Result<Attribute, der::Error> {
    let any = Any::from_der(&value.to_der()?)?;
    let mut values = SetOfVec::new();
    values.insert(any)?;
    Ok(Attribute { oid, values })
}

/// The `id-aa-signatureTimeStampToken` unsigned attribute (RFC 3161 Appendix A) holding
/// a DER time-stamp token (a `ContentInfo`).
pub fn signature_time_stamp(token_der: &[u8]) -> Result<Attribute, der::Error> {
    let any = Any::from_der(token_der)?;
    let mut values = SetOfVec::new();
    values.insert(any)?;
    Ok(Attribute {
        oid: ID_AA_SIGNATURE_TIME_STAMP_TOKEN,
        values,
    })
}
