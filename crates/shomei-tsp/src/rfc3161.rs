//! The RFC 3161 (Time-Stamp Protocol) messages, written from the ASN.1 module of
//! RFC 3161 appendix C (`DEFINITIONS IMPLICIT TAGS`), as amended by RFC 5816.
//!
//! Decoding errors are `der::Error`s, whose message carries the byte position
//! ("… at DER byte 123").

use der::asn1::{BitString, Int, ObjectIdentifier, OctetString};
use der::{
    Any, DecodeValue, EncodeValue, Enumerated, ErrorKind, FixedTag, Header, Length, Reader,
    Sequence, Tag, Writer,
};
use spki::AlgorithmIdentifierOwned;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::Extensions;

/// OIDs of the time-stamp protocol and the CMS attributes a token carries.
pub mod oid {
    use der::asn1::ObjectIdentifier;

    /// id-ct-TSTInfo (RFC 3161 2.4.2): the eContentType of a time-stamp token.
    pub const ID_CT_TST_INFO: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
    /// id-signedData (RFC 5652 5.1).
    pub const ID_SIGNED_DATA: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
    /// id-contentType signed attribute (RFC 5652 11.1).
    pub const ID_CONTENT_TYPE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
    /// id-messageDigest signed attribute (RFC 5652 11.2).
    pub const ID_MESSAGE_DIGEST: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
    /// id-signingTime signed attribute (RFC 5652 11.3).
    pub const ID_SIGNING_TIME: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
    /// id-aa-signingCertificate (RFC 2634 5.4): ESSCertID with SHA-1.
    pub const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
    /// id-aa-signingCertificateV2 (RFC 5035 3): ESSCertIDv2.
    pub const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
    /// id-kp-timeStamping (RFC 5280 4.2.1.12).
    pub const ID_KP_TIME_STAMPING: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
    /// id-ce-extKeyUsage (RFC 5280 4.2.1.12).
    pub const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
    /// id-sha1 (RFC 3279), used only by ESSCertID (v1).
    pub const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
}

/// MIME type of a request (RFC 3161 3.4).
pub const TIMESTAMP_QUERY: &str = "application/timestamp-query";
/// MIME type of a response (RFC 3161 3.4).
pub const TIMESTAMP_REPLY: &str = "application/timestamp-reply";

/// ```text
/// TimeStampReq ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    messageImprint               MessageImprint,
///      --a hash algorithm OID and the hash value of the data to be
///      --time-stamped
///    reqPolicy             TSAPolicyId              OPTIONAL,
///    nonce                 INTEGER                  OPTIONAL,
///    certReq               BOOLEAN                  DEFAULT FALSE,
///    extensions            [0] IMPLICIT Extensions  OPTIONAL  }
///
/// TSAPolicyId ::= OBJECT IDENTIFIER
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampReq {
    /// Always 1.
    pub version: u8,
    /// What is time-stamped.
    pub message_imprint: MessageImprint,
    /// The policy the TSA should use.
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    /// A random number the TSA must echo.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// Asks the TSA to include its certificate in the token.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    /// Request extensions.
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub extensions: Option<Extensions>,
}

/// ```text
/// MessageImprint ::= SEQUENCE  {
///    hashAlgorithm                AlgorithmIdentifier,
///    hashedMessage                OCTET STRING  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash of the time-stamped data.
    pub hashed_message: OctetString,
}

/// ```text
/// TimeStampResp ::= SEQUENCE  {
///    status                  PKIStatusInfo,
///    timeStampToken          TimeStampToken     OPTIONAL  }
///
/// TimeStampToken ::= ContentInfo
///   -- contentType is id-signedData ([CMS])
///   -- content is SignedData ([CMS])
/// ```
///
/// The token is kept as an undecoded value: see
/// [`crate::timestamp::TimestampToken::from_der`].
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    /// Whether the request was granted.
    pub status: PkiStatusInfo,
    /// The token (a CMS `ContentInfo`), present when granted.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<Any>,
}

/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///    status        PKIStatus,
///    statusString  PKIFreeText     OPTIONAL,
///    failInfo      PKIFailureInfo  OPTIONAL  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    /// The outcome.
    pub status: PkiStatus,
    /// Text from the TSA, for people.
    #[asn1(optional = "true")]
    pub status_string: Option<PkiFreeText>,
    /// Why the request failed.
    #[asn1(optional = "true")]
    pub fail_info: Option<PkiFailureInfo>,
}

/// ```text
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
///     -- text encoded as UTF-8 String (note:  each UTF8String SHOULD
///     -- include an RFC 1766 language tag to indicate the language
///     -- of the contained text)
/// ```
pub type PkiFreeText = Vec<String>;

/// ```text
/// PKIStatus ::= INTEGER {
///    granted                (0),
///    -- when the PKIStatus contains the value zero a TimeStampToken, as
///       requested, is present.
///    grantedWithMods        (1),
///     -- when the PKIStatus contains the value one a TimeStampToken,
///       with modifications, is present.
///    rejection              (2),
///    waiting                (3),
///    revocationWarning      (4),
///     -- this message contains a warning that a revocation is
///     -- imminent
///    revocationNotification (5)
///     -- notification that a revocation has occurred  }
/// ```
#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[asn1(type = "INTEGER")]
#[repr(u8)]
#[non_exhaustive]
pub enum PkiStatus {
    /// A token is present.
    Granted = 0,
    /// A token with modifications is present.
    GrantedWithMods = 1,
    /// Refused.
    Rejection = 2,
    /// Not ready yet.
    Waiting = 3,
    /// A revocation is imminent.
    RevocationWarning = 4,
    /// A revocation has occurred.
    RevocationNotification = 5,
}

impl PkiStatus {
    /// Whether a token comes with this status.
    pub fn is_granted(self) -> bool {
        matches!(self, Self::Granted | Self::GrantedWithMods)
    }

    /// The RFC's name (`grantedWithMods`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::GrantedWithMods => "grantedWithMods",
            Self::Rejection => "rejection",
            Self::Waiting => "waiting",
            Self::RevocationWarning => "revocationWarning",
            Self::RevocationNotification => "revocationNotification",
        }
    }
}

impl fmt::Display for PkiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// ```text
/// PKIFailureInfo ::= BIT STRING {
///    badAlg               (0),
///      -- unrecognized or unsupported Algorithm Identifier
///    badRequest           (2),
///      -- transaction not permitted or supported
///    badDataFormat        (5),
///      -- the data submitted has the wrong format
///    timeNotAvailable    (14),
///      -- the TSA's time source is not available
///    unacceptedPolicy    (15),
///      -- the requested TSA policy is not supported by the TSA
///    unacceptedExtension (16),
///      -- the requested extension is not supported by the TSA
///    addInfoNotAvailable (17)
///      -- the additional information requested could not be understood
///      -- or is not available
///    systemFailure       (25)
///      -- the request cannot be handled due to system failure  }
/// ```
///
/// Bit `n` of the named bits is bit `n` of [`Self::bits`]; bits beyond 31 are dropped.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct PkiFailureInfo {
    bits: u32,
}

impl PkiFailureInfo {
    /// badAlg (0).
    pub const BAD_ALG: u8 = 0;
    /// badRequest (2).
    pub const BAD_REQUEST: u8 = 2;
    /// badDataFormat (5).
    pub const BAD_DATA_FORMAT: u8 = 5;
    /// timeNotAvailable (14).
    pub const TIME_NOT_AVAILABLE: u8 = 14;
    /// unacceptedPolicy (15).
    pub const UNACCEPTED_POLICY: u8 = 15;
    /// unacceptedExtension (16).
    pub const UNACCEPTED_EXTENSION: u8 = 16;
    /// addInfoNotAvailable (17).
    pub const ADD_INFO_NOT_AVAILABLE: u8 = 17;
    /// systemFailure (25).
    pub const SYSTEM_FAILURE: u8 = 25;

    const NAMES: [(u8, &'static str); 8] = [
        (Self::BAD_ALG, "badAlg"),
        (Self::BAD_REQUEST, "badRequest"),
        (Self::BAD_DATA_FORMAT, "badDataFormat"),
        (Self::TIME_NOT_AVAILABLE, "timeNotAvailable"),
        (Self::UNACCEPTED_POLICY, "unacceptedPolicy"),
        (Self::UNACCEPTED_EXTENSION, "unacceptedExtension"),
        (Self::ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"),
        (Self::SYSTEM_FAILURE, "systemFailure"),
    ];

    /// The set with the given named bits (numbers above 31 are ignored).
    pub fn from_bits(bits: &[u8]) -> Self {
        let bits = bits
            .iter()
            .filter_map(|b| 1u32.checked_shl(u32::from(*b)))
            .fold(0, |acc, b| acc | b);
        Self { bits }
    }

    /// Bit `n` set means named bit `n`.
    pub fn bits(self) -> u32 {
        self.bits
    }

    /// Whether named bit `bit` is set.
    pub fn contains(self, bit: u8) -> bool {
        1u32.checked_shl(u32::from(bit))
            .is_some_and(|m| self.bits & m != 0)
    }

    /// The RFC's names of the set bits (unnamed bits as `bit<n>`).
    pub fn names(self) -> Vec<String> {
        (0u8..32)
            .filter(|b| self.contains(*b))
            .map(|b| {
                Self::NAMES
                    .iter()
                    .find(|(n, _)| *n == b)
                    .map_or_else(|| format!("bit{b}"), |(_, name)| (*name).to_string())
            })
            .collect()
    }

    fn to_bit_string(self) -> der::Result<BitString> {
        // DER (X.690 11.2.2): a named bit list drops its trailing zero bits. Named bit
        // `n` is in byte n/8 at mask 0x80 >> n%8.
        let used = 32 - self.bits.leading_zeros();
        let byte_len = used.div_ceil(8);
        let mut bytes = vec![0u8; usize::try_from(byte_len)?];
        for n in (0..used).filter(|n| self.bits & (1u32 << n) != 0) {
            if let Some(b) = bytes.get_mut(usize::try_from(n / 8)?) {
                *b |= 0x80u8 >> (n % 8);
            }
        }
        BitString::new(u8::try_from(byte_len * 8 - used)?, bytes)
    }
}

impl fmt::Display for PkiFailureInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

impl FixedTag for PkiFailureInfo {
    const TAG: Tag = Tag::BitString;
}

impl<'a> DecodeValue<'a> for PkiFailureInfo {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let bs = BitString::decode_value(reader, header)?;
        let bits = bs
            .bits()
            .take(32)
            .enumerate()
            .filter(|(_, set)| *set)
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .fold(0u32, |acc, i| acc | (1 << i));
        Ok(Self { bits })
    }
}

impl EncodeValue for PkiFailureInfo {
    fn value_len(&self) -> der::Result<Length> {
        self.to_bit_string()?.value_len()
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.to_bit_string()?.encode_value(writer)
    }
}

/// ```text
/// TSTInfo ::= SEQUENCE  {
///    version                      INTEGER  { v1(1) },
///    policy                       TSAPolicyId,
///    messageImprint               MessageImprint,
///      -- MUST have the same value as the similar field in
///      -- TimeStampReq
///    serialNumber                 INTEGER,
///     -- Time-Stamping users MUST be ready to accommodate integers
///     -- up to 160 bits.
///    genTime                      GeneralizedTime,
///    accuracy                     Accuracy                 OPTIONAL,
///    ordering                     BOOLEAN             DEFAULT FALSE,
///    nonce                        INTEGER                  OPTIONAL,
///      -- MUST be present if the similar field was present
///      -- in TimeStampReq.  In that case it MUST have the same value.
///    tsa                          [0] GeneralName          OPTIONAL,
///    extensions                   [1] IMPLICIT Extensions   OPTIONAL  }
/// ```
///
/// `tsa` is explicitly tagged: `GeneralName` is a CHOICE (X.680 31.2.7).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TstInfo {
    /// Always 1.
    pub version: u8,
    /// The policy under which the token was issued.
    pub policy: ObjectIdentifier,
    /// The time-stamped hash.
    pub message_imprint: MessageImprint,
    /// Unique per TSA.
    pub serial_number: Int,
    /// When the token was made.
    pub gen_time: GenTime,
    /// How far `gen_time` may be from UTC.
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    /// Whether tokens from this TSA can be ordered by `gen_time` alone.
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    /// The request's nonce, echoed.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// The TSA's name.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    /// Token extensions.
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub extensions: Option<Extensions>,
}

/// ```text
/// Accuracy ::= SEQUENCE {
///    seconds        INTEGER           OPTIONAL,
///    millis     [0] INTEGER  (1..999) OPTIONAL,
///    micros     [1] INTEGER  (1..999) OPTIONAL  }
/// ```
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, Sequence)]
pub struct Accuracy {
    /// Whole seconds.
    #[asn1(optional = "true")]
    pub seconds: Option<u32>,
    /// Milliseconds.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    /// Microseconds.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

impl Accuracy {
    /// The accuracy as a duration.
    pub fn to_duration(self) -> Duration {
        Duration::from_secs(u64::from(self.seconds.unwrap_or(0)))
            + Duration::from_millis(u64::from(self.millis.unwrap_or(0)))
            + Duration::from_micros(u64::from(self.micros.unwrap_or(0)))
    }
}

/// `genTime` of a TSTInfo: a `GeneralizedTime` that, unlike RFC 5280's, may carry a
/// fraction of a second (RFC 3161 2.4.2).
///
/// ```text
/// YYYYMMDDhhmmss[.s...]Z
/// ```
///
/// Decoding accepts up to nine fraction digits (nanoseconds) and refuses trailing
/// zeros in the fraction, as DER requires (X.690 11.7.3); encoding writes the
/// shortest fraction.
#[derive(Clone, Copy, Debug, Eq, PartialEq, PartialOrd, Ord)]
pub struct GenTime(SystemTime);

impl GenTime {
    /// Longest value accepted: 14 digits, '.', 9 digits, 'Z'.
    const MAX_LEN: usize = 25;

    /// Wraps a time (years 1970..=9999 encode).
    pub fn new(time: SystemTime) -> Self {
        Self(time)
    }

    /// The time.
    pub fn to_system_time(self) -> SystemTime {
        self.0
    }

    fn text(self) -> der::Result<String> {
        let since = self
            .0
            .duration_since(UNIX_EPOCH)
            .map_err(|_| ErrorKind::DateTime)?;
        let dt = der::DateTime::from_unix_duration(Duration::from_secs(since.as_secs()))?;
        let mut s = shomei_core::time::generalized_digits(&dt);
        let nanos = since.subsec_nanos();
        if nanos != 0 {
            let frac = format!("{nanos:09}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        s.push('Z');
        Ok(s)
    }

    fn parse(bytes: &[u8]) -> Option<SystemTime> {
        let (whole, rest) = shomei_core::time::generalized_time_seconds(bytes)?;
        let nanos = match rest {
            [b'Z'] => 0,
            [b'.', frac @ .., b'Z'] => {
                if frac.is_empty()
                    || frac.len() > 9
                    || frac.last() == Some(&b'0')
                    || !frac.iter().all(u8::is_ascii_digit)
                {
                    return None;
                }
                let value = frac
                    .iter()
                    .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
                let scale = 10u32.checked_pow(u32::try_from(9 - frac.len()).ok()?)?;
                value.checked_mul(scale)?
            }
            _ => return None,
        };
        Some(UNIX_EPOCH + whole + Duration::from_nanos(u64::from(nanos)))
    }
}

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let len = usize::try_from(header.length())?;
        if len > Self::MAX_LEN {
            return Err(reader.error(Self::TAG.length_error()));
        }
        let bytes = reader.read_slice(header.length())?;
        Self::parse(bytes)
            .map(Self)
            .ok_or_else(|| reader.error(Self::TAG.value_error()))
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.text()?.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.text()?.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn gen_time_with_fraction_round_trips() {
        // 2026-11-27T04:14:25.3945Z, as certomancer writes it.
        let der = b"\x18\x1420261127041425.3945Z";
        let t = GenTime::from_der(der).unwrap();
        let since = t.to_system_time().duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(since.subsec_nanos(), 394_500_000);
        assert_eq!(t.to_der().unwrap(), der);
        let whole = GenTime::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        assert_eq!(whole.to_der().unwrap(), b"\x18\x0f20231114221320Z");
    }

    #[test]
    fn gen_time_refuses_bad_forms() {
        for bad in [
            &b"\x18\x1320261127041425.390Z"[..],
            b"\x18\x1020261127041425.Z",
            b"\x18\x0e20261127041425",
            b"\x18\x0f2026112704142aZ",
            b"\x18\x0f20261327041425Z",
        ] {
            assert!(GenTime::from_der(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn failure_info_bits() {
        let f =
            PkiFailureInfo::from_bits(&[PkiFailureInfo::BAD_ALG, PkiFailureInfo::SYSTEM_FAILURE]);
        let der = f.to_der().unwrap();
        // 26 bits used: 4 bytes, 6 unused bits.
        assert_eq!(der, [0x03, 0x05, 0x06, 0x80, 0x00, 0x00, 0x40]);
        let back = PkiFailureInfo::from_der(&der).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.names(), ["badAlg", "systemFailure"]);
        let empty = PkiFailureInfo::default().to_der().unwrap();
        assert_eq!(empty, [0x03, 0x01, 0x00]);
    }

    #[test]
    fn status_info_with_text() {
        let info = PkiStatusInfo {
            status: PkiStatus::Rejection,
            status_string: Some(vec!["unsupported policy".into()]),
            fail_info: Some(PkiFailureInfo::from_bits(&[
                PkiFailureInfo::UNACCEPTED_POLICY,
            ])),
        };
        let der = info.to_der().unwrap();
        assert_eq!(PkiStatusInfo::from_der(&der).unwrap(), info);
    }
}
