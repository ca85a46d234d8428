//! The OCSP messages of RFC 6960 (appendix B.1, `OCSP-2013-88`), written from the
//! RFC's ASN.1 module for der 0.8.
//!
//! The module is `DEFINITIONS EXPLICIT TAGS`, so every context tag below is explicit
//! unless the ASN.1 says `IMPLICIT`. Defaulted `version` fields are read as `OPTIONAL`
//! so that a responder that encodes the default `v1` (not DER, but seen in the wild)
//! still decodes and re-encodes byte for byte; signatures are nevertheless checked
//! over the bytes as received (see [`tbs_bytes`]).

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, Null, OctetString};
use der::{
    Choice, DecodeValue, EncodeValue, Enumerated, FixedTag, Header, Length, Reader, Sequence, Tag,
    Writer,
};
use spki::AlgorithmIdentifierOwned;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::Extensions;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::{Certificate, Version};

/// OIDs of RFC 6960 and RFC 5280 used by the OCSP and CRL code.
pub mod oid {
    use const_oid::ObjectIdentifier;

    /// id-pkix-ocsp-basic (RFC 6960 4.2.1).
    pub const OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
    /// id-pkix-ocsp-nonce (RFC 6960 4.4.1, RFC 8954).
    pub const OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
    /// id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1).
    pub const OCSP_NOCHECK: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");
    /// id-kp-OCSPSigning (RFC 5280 4.2.1.12).
    pub const KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
    /// id-ad-ocsp (RFC 5280 4.2.2.1).
    pub const AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
    /// id-ad-caIssuers (RFC 5280 4.2.2.1).
    pub const AD_CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
    /// id-pe-authorityInfoAccess (RFC 5280 4.2.2.1).
    pub const PE_AIA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
    /// id-ce-keyUsage.
    pub const CE_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
    /// id-ce-extKeyUsage.
    pub const CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
    /// id-ce-basicConstraints.
    pub const CE_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
    /// id-ce-cRLDistributionPoints.
    pub const CE_CRL_DISTRIBUTION_POINTS: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.5.29.31");
    /// id-ce-cRLNumber.
    pub const CE_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
    /// id-ce-cRLReasons (CRL entry extension).
    pub const CE_CRL_REASONS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
    /// id-ce-invalidityDate (CRL entry extension).
    pub const CE_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
    /// id-ce-deltaCRLIndicator.
    pub const CE_DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
    /// id-ce-issuingDistributionPoint.
    pub const CE_ISSUING_DISTRIBUTION_POINT: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.5.29.28");
    /// id-ce-certificateIssuer (CRL entry extension, indirect CRLs).
    pub const CE_CERTIFICATE_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");
    /// id-ce-authorityKeyIdentifier.
    pub const CE_AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("2.5.29.35");
    /// id-sha1 (the CertID hash most responders expect).
    pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
}

/// A request for the status of one or more certificates.
///
/// ```text
/// OCSPRequest ::= SEQUENCE {
///     tbsRequest                  TBSRequest,
///     optionalSignature   [0]     EXPLICIT Signature OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspRequest {
    /// The request proper.
    pub tbs_request: TbsRequest,
    /// A requester signature (shomei never signs requests).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub optional_signature: Option<Signature>,
}

/// ```text
/// TBSRequest ::= SEQUENCE {
///     version             [0]     EXPLICIT Version DEFAULT v1,
///     requestorName       [1]     EXPLICIT GeneralName OPTIONAL,
///     requestList                 SEQUENCE OF Request,
///     requestExtensions   [2]     EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TbsRequest {
    /// `v1` when absent (DER leaves the default out).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub version: Option<Version>,
    /// Who asks.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub requestor_name: Option<GeneralName>,
    /// One entry per certificate.
    pub request_list: Vec<Request>,
    /// Request extensions, such as the nonce.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub request_extensions: Option<Extensions>,
}

/// ```text
/// Signature ::= SEQUENCE {
///     signatureAlgorithm      AlgorithmIdentifier,
///     signature               BIT STRING,
///     certs               [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Signature {
    /// The algorithm.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// The value.
    pub signature: BitString,
    /// Certificates helping to verify it.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub certs: Option<Vec<Certificate>>,
}

/// ```text
/// Request ::= SEQUENCE {
///     reqCert                     CertID,
///     singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Request {
    /// The certificate asked about.
    pub req_cert: CertId,
    /// Per-certificate extensions.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub single_request_extensions: Option<Extensions>,
}

/// Names a certificate by its issuer and serial number.
///
/// ```text
/// CertID ::= SEQUENCE {
///     hashAlgorithm           AlgorithmIdentifier,
///     issuerNameHash          OCTET STRING, -- Hash of issuer's DN
///     issuerKeyHash           OCTET STRING, -- Hash of issuer's public key
///     serialNumber            CertificateSerialNumber }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CertId {
    /// The hash used for both hashes.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// Hash of the DER of the issuer's name.
    pub issuer_name_hash: OctetString,
    /// Hash of the issuer's subjectPublicKey bits.
    pub issuer_key_hash: OctetString,
    /// The certificate's serial number.
    pub serial_number: SerialNumber,
}

/// ```text
/// OCSPResponse ::= SEQUENCE {
///     responseStatus         OCSPResponseStatus,
///     responseBytes          [0] EXPLICIT ResponseBytes OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct OcspResponse {
    /// Whether the responder could answer.
    pub response_status: OcspResponseStatus,
    /// The answer, present when `successful`.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub response_bytes: Option<ResponseBytes>,
}

/// ```text
/// OCSPResponseStatus ::= ENUMERATED {
///     successful            (0),  -- Response has valid confirmations
///     malformedRequest      (1),  -- Illegal confirmation request
///     internalError         (2),  -- Internal error in issuer
///     tryLater              (3),  -- Try again later
///                                 -- (4) is not used
///     sigRequired           (5),  -- Must sign the request
///     unauthorized          (6)   -- Request unauthorized
/// }
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum OcspResponseStatus {
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

impl OcspResponseStatus {
    /// The RFC's name (`tryLater`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Successful => "successful",
            Self::MalformedRequest => "malformedRequest",
            Self::InternalError => "internalError",
            Self::TryLater => "tryLater",
            Self::SigRequired => "sigRequired",
            Self::Unauthorized => "unauthorized",
        }
    }
}

/// ```text
/// ResponseBytes ::= SEQUENCE {
///     responseType   OBJECT IDENTIFIER,
///     response       OCTET STRING }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ResponseBytes {
    /// `id-pkix-ocsp-basic` for a [`BasicOcspResponse`].
    pub response_type: ObjectIdentifier,
    /// The DER of the response of that type.
    pub response: OctetString,
}

/// ```text
/// BasicOCSPResponse       ::= SEQUENCE {
///    tbsResponseData      ResponseData,
///    signatureAlgorithm   AlgorithmIdentifier,
///    signature            BIT STRING,
///    certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct BasicOcspResponse {
    /// The signed part.
    pub tbs_response_data: ResponseData,
    /// Algorithm of `signature`.
    pub signature_algorithm: AlgorithmIdentifierOwned,
    /// Signature over the DER of `tbs_response_data`.
    pub signature: BitString,
    /// Certificates helping to verify it (the delegated responder's).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub certs: Option<Vec<Certificate>>,
}

/// ```text
/// ResponseData ::= SEQUENCE {
///    version              [0] EXPLICIT Version DEFAULT v1,
///    responderID              ResponderID,
///    producedAt               GeneralizedTime,
///    responses                SEQUENCE OF SingleResponse,
///    responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct ResponseData {
    /// `v1` when absent.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub version: Option<Version>,
    /// Who signed.
    pub responder_id: ResponderId,
    /// When the response was signed.
    pub produced_at: OcspTime,
    /// One per certificate asked about.
    pub responses: Vec<SingleResponse>,
    /// Response extensions, such as the nonce echo.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub response_extensions: Option<Extensions>,
}

/// ```text
/// ResponderID ::= CHOICE {
///    byName   [1] Name,
///    byKey    [2] KeyHash }
///
/// KeyHash ::= OCTET STRING -- SHA-1 hash of responder's public key
///                          -- (i.e., the SHA-1 hash of the value of the
///                          -- BIT STRING subjectPublicKey [excluding
///                          -- the tag, length, and number of unused
///                          -- bits] in the responder's certificate)
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum ResponderId {
    /// The responder certificate's subject.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    ByName(Name),
    /// SHA-1 of the responder's public key bits.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    ByKey(OctetString),
}

/// ```text
/// SingleResponse ::= SEQUENCE {
///    certID                       CertID,
///    certStatus                   CertStatus,
///    thisUpdate                   GeneralizedTime,
///    nextUpdate           [0]     EXPLICIT GeneralizedTime OPTIONAL,
///    singleExtensions     [1]     EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SingleResponse {
    /// Which certificate.
    pub cert_id: CertId,
    /// Its status.
    pub cert_status: CertStatus,
    /// When the status was known to be correct.
    pub this_update: OcspTime,
    /// When newer information will be available.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub next_update: Option<OcspTime>,
    /// Per-certificate extensions.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub single_extensions: Option<Extensions>,
}

/// ```text
/// CertStatus ::= CHOICE {
///     good                [0]     IMPLICIT NULL,
///     revoked             [1]     IMPLICIT RevokedInfo,
///     unknown             [2]     IMPLICIT UnknownInfo }
///
/// UnknownInfo ::= NULL
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Choice)]
pub enum CertStatus {
    /// Not revoked.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    /// Revoked.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    /// The responder does not know the certificate.
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

/// ```text
/// RevokedInfo ::= SEQUENCE {
///     revocationTime              GeneralizedTime,
///     revocationReason    [0]     EXPLICIT CRLReason OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RevokedInfo {
    /// When.
    pub revocation_time: OcspTime,
    /// Why.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub revocation_reason: Option<CrlReason>,
}

/// ```text
/// CRLReason ::= ENUMERATED {
///     unspecified             (0),
///     keyCompromise           (1),
///     cACompromise            (2),
///     affiliationChanged      (3),
///     superseded              (4),
///     cessationOfOperation    (5),
///     certificateHold         (6),
///          -- value 7 is not used
///     removeFromCRL           (8),
///     privilegeWithdrawn      (9),
///     aACompromise           (10) }
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[repr(u32)]
#[allow(missing_docs)]
pub enum CrlReason {
    Unspecified = 0,
    KeyCompromise = 1,
    CaCompromise = 2,
    AffiliationChanged = 3,
    Superseded = 4,
    CessationOfOperation = 5,
    CertificateHold = 6,
    RemoveFromCrl = 8,
    PrivilegeWithdrawn = 9,
    AaCompromise = 10,
}

impl CrlReason {
    /// The RFC's name (`keyCompromise`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "keyCompromise",
            Self::CaCompromise => "cACompromise",
            Self::AffiliationChanged => "affiliationChanged",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessationOfOperation",
            Self::CertificateHold => "certificateHold",
            Self::RemoveFromCrl => "removeFromCRL",
            Self::PrivilegeWithdrawn => "privilegeWithdrawn",
            Self::AaCompromise => "aACompromise",
        }
    }
}

/// An OCSP `GeneralizedTime` that keeps its encoding byte for byte.
///
/// der's `GeneralizedTime` refuses fractional seconds, but X.690 11.7 allows them in
/// DER and real responders send them (certomancer, and so the conformance kit, writes
/// `20261127041410.861924Z`). The fraction is dropped from [`Self::to_system_time`]
/// (so a `thisUpdate` is never later than written) and kept in the encoding, so the
/// signed bytes are never altered.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct OcspTime {
    raw: Vec<u8>,
    since_epoch: Duration,
}

impl OcspTime {
    /// Whole seconds of `t`, encoded `YYYYMMDDHHMMSSZ`.
    pub fn from_system_time(t: SystemTime) -> der::Result<Self> {
        let dt = der::DateTime::from_system_time(t)?;
        let raw = format!("{}Z", shomei_core::time::generalized_digits(&dt)).into_bytes();
        Ok(Self {
            raw,
            since_epoch: dt.unix_duration(),
        })
    }

    /// The time, whole seconds.
    pub fn to_system_time(&self) -> SystemTime {
        UNIX_EPOCH + self.since_epoch
    }

    /// The encoded value as received (`YYYYMMDDHHMMSS[.fff]Z`).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn parse(raw: &[u8]) -> Option<Duration> {
        let (whole, rest) = shomei_core::time::generalized_time_seconds(raw)?;
        match rest {
            [b'Z'] => Some(whole),
            [b'.' | b',', fraction @ .., b'Z']
                if !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit) =>
            {
                Some(whole)
            }
            _ => None,
        }
    }
}

impl FixedTag for OcspTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for OcspTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let raw = reader.read_vec(header.length())?;
        let since_epoch =
            Self::parse(&raw).ok_or_else(|| reader.error(der::ErrorKind::DateTime))?;
        Ok(Self { raw, since_epoch })
    }
}

impl EncodeValue for OcspTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.raw.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.raw)
    }
}

/// The complete TLV of the first element of the SEQUENCE `der` — the signed part of a
/// `BasicOCSPResponse`, a `CertificateList` or a `Certificate`, exactly as received.
pub fn tbs_bytes(der: &[u8]) -> der::Result<&[u8]> {
    let mut reader = der::SliceReader::new(der)?;
    reader.sequence(|inner| {
        let tbs = inner.tlv_bytes()?;
        let rest = inner.remaining_len();
        inner.drain(rest)?;
        Ok(tbs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn time_round_trips_whole_seconds() {
        let t =
            OcspTime::from_system_time(UNIX_EPOCH + Duration::from_secs(1_748_736_000)).unwrap();
        assert_eq!(t.as_bytes(), b"20250601000000Z");
        let der = t.to_der().unwrap();
        assert_eq!(OcspTime::from_der(&der).unwrap(), t);
    }

    #[test]
    fn time_with_comma_fraction_is_read() {
        let t = OcspTime::from_der(b"\x18\x1120250601000000,5Z").unwrap();
        assert_eq!(
            t.to_system_time(),
            UNIX_EPOCH + Duration::from_secs(1_748_736_000)
        );
    }

    #[test]
    fn tbs_bytes_is_the_first_element_as_received() {
        // SEQUENCE { SEQUENCE { INTEGER 1 }, NULL }
        let der = [0x30, 0x07, 0x30, 0x03, 0x02, 0x01, 0x01, 0x05, 0x00];
        assert_eq!(tbs_bytes(&der).unwrap(), &der[2..7]);
        assert!(tbs_bytes(&der[..6]).is_err());
        assert!(tbs_bytes(&[0x04, 0x00]).is_err());
    }
}
