//! Reading an existing CMS signature (any producer): its certificates, the signer's
//! certificate, the signature value and its signature time-stamp token — what
//! extension to B-T/B-LT/B-LTA needs.

use crate::attributes::ID_AA_SIGNATURE_TIME_STAMP_TOKEN;
use crate::CmsError;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use der::{Decode, Encode};
use shomei_core::chain::ChainCert;

/// What an existing signature holds.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignatureSummary {
    /// Certificates in `SignedData.certificates`.
    pub certificates: Vec<ChainCert>,
    /// The certificate the (first) SignerInfo names, if it is among them.
    pub signer: Option<ChainCert>,
    /// The SignerInfo's signature value.
    pub signature_value: Vec<u8>,
    /// The signature time-stamp token (`id-aa-signatureTimeStampToken`), DER.
    pub signature_timestamp: Option<Vec<u8>>,
    /// Whether the ESS signing-certificate(-v2) signed attribute names `signer`;
    /// `None` without signer certificate or signed attributes.
    pub ess: Option<Result<crate::ess_check::EssVersion, crate::ess_check::EssFailure>>,
    /// CRLs the CMS carries (`SignedData.crls`, and Adobe's `revocationInfoArchival`
    /// signed attribute), DER.
    pub crls: Vec<Vec<u8>>,
    /// OCSP responses carried in `SignedData.crls` (RFC 5940) and in Adobe's
    /// `revocationInfoArchival` signed attribute, DER.
    pub ocsps: Vec<Vec<u8>>,
}

/// Adobe's `adbe-revocationInfoArchival` signed attribute (ISO 32000-1 12.8.3.3.2).
const ADBE_REVOCATION_INFO_ARCHIVAL: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113583.1.1.8");

/// The TLVs (whole encodings) inside the content of a constructed DER value.
fn children(content: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while let Some(rest) = content.get(at..).filter(|r| !r.is_empty()) {
        let Ok(mut reader) = der::SliceReader::new(rest) else {
            break;
        };
        let Ok(header) = der::Header::decode(&mut reader) else {
            break;
        };
        let (Ok(h), Ok(b)) = (
            usize::try_from(header.encoded_len().unwrap_or_default()),
            usize::try_from(header.length()),
        ) else {
            break;
        };
        let Some(whole) = h.checked_add(b).and_then(|n| rest.get(..n)) else {
            break;
        };
        out.push(whole);
        at += whole.len();
    }
    out
}

/// The content of a DER TLV.
fn content_of(tlv: &[u8]) -> &[u8] {
    der::SliceReader::new(tlv)
        .ok()
        .and_then(|mut r| {
            let h = der::Header::decode(&mut r).ok()?;
            let start = usize::try_from(h.encoded_len().ok()?).ok()?;
            tlv.get(start..)
        })
        .unwrap_or_default()
}

/// CRLs and OCSP responses of a `RevocationInfoArchival` (DER of the SEQUENCE).
fn revocation_info_archival(der: &[u8], crls: &mut Vec<Vec<u8>>, ocsps: &mut Vec<Vec<u8>>) {
    for field in children(content_of(der)) {
        // [0] EXPLICIT SEQUENCE OF CertificateList, [1] EXPLICIT SEQUENCE OF OCSPResponse.
        let list = match field.first() {
            Some(0xA0) => &mut *crls,
            Some(0xA1) => &mut *ocsps,
            _ => continue,
        };
        for seq in children(content_of(field)) {
            list.extend(children(content_of(seq)).into_iter().map(<[u8]>::to_vec));
        }
    }
}

/// `id-ri-ocsp-response` (RFC 5940): an OCSP response as other revocation information.
const ID_RI_OCSP_RESPONSE: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.16.2");

/// A `SignedData` as [`decode_signed_data`] reads it.
pub(crate) struct DecodedSignedData {
    /// The SignedData, without its certificates and without revocation data in
    /// other formats (both below).
    pub signed: SignedData,
    /// Its certificates, each with the bytes it was received as.
    pub certificates: Vec<ChainCert>,
    /// OCSP responses in `RevocationInfoChoices` (RFC 5940 `other` form), DER.
    pub ocsps: Vec<Vec<u8>>,
}

/// Decodes the `SignedData` of a ContentInfo. Two fields are read here rather than by
/// the cms crate: the certificates, each decoded once from its own bytes (the crate
/// would decode, sort and re-encode them), and the revocation information, whose
/// RFC 5940 `other` form (an OCSP response) the crate cannot decode — it reads
/// OtherRevocationInfoFormat as an algorithm identifier. OCSP responses are taken
/// out, CRLs kept, other formats dropped: none of it is signed (only the signed
/// attributes are), so the signature is checked all the same.
pub(crate) fn decode_signed_data(content: &der::Any) -> Result<DecodedSignedData, der::Error> {
    if der::Tagged::tag(content) != der::Tag::Sequence {
        return content
            .decode_as::<SignedData>()
            .map(|signed| DecodedSignedData {
                signed,
                certificates: Vec::new(),
                ocsps: Vec::new(),
            });
    }
    let mut body = Vec::with_capacity(content.value().len());
    let mut certificates = Vec::new();
    let mut ocsps = Vec::new();
    for field in children(content.value()) {
        match field.first() {
            // certificates [0] IMPLICIT CertificateSet
            Some(0xA0) => {
                for choice in children(content_of(field)) {
                    // Certificate; the other choices (attribute certificates…) are
                    // not used.
                    if choice.first() == Some(&0x30) {
                        certificates.push(ChainCert::from_der(choice)?);
                    }
                }
            }
            // crls [1] IMPLICIT RevocationInfoChoices
            Some(0xA1) => {
                let mut kept = Vec::new();
                for choice in children(content_of(field)) {
                    match choice.first() {
                        // CertificateList
                        Some(0x30) => kept.extend_from_slice(choice),
                        // other [1] IMPLICIT OtherRevocationInfoFormat: an OID, then
                        // the value.
                        Some(0xA1) => {
                            let parts = children(content_of(choice));
                            let format = parts
                                .first()
                                .and_then(|oid| der::asn1::ObjectIdentifier::from_der(oid).ok());
                            if let (Some(ID_RI_OCSP_RESPONSE), Some(value)) = (format, parts.get(1))
                            {
                                ocsps.push(value.to_vec());
                            }
                        }
                        _ => {}
                    }
                }
                if !kept.is_empty() {
                    let tag = der::Tag::ContextSpecific {
                        constructed: true,
                        number: der::TagNumber(1),
                    };
                    body.extend_from_slice(&der::Any::new(tag, kept)?.to_der()?);
                }
            }
            _ => body.extend_from_slice(field),
        }
    }
    let signed = der::Any::new(der::Tag::Sequence, body)?.decode_as::<SignedData>()?;
    Ok(DecodedSignedData {
        signed,
        certificates,
        ocsps,
    })
}

/// The DER value at the start of `bytes` (a PDF `/Contents` is zero padded).
pub fn der_prefix(bytes: &[u8]) -> Result<&[u8], CmsError> {
    let mut reader = der::SliceReader::new(bytes)?;
    let header = der::Header::decode(&mut reader)?;
    let header_len = usize::try_from(header.encoded_len()?)?;
    let body_len = usize::try_from(header.length())?;
    let total = header_len
        .checked_add(body_len)
        .ok_or_else(|| CmsError::Certificate("length overflow".into()))?;
    bytes
        .get(..total)
        .ok_or(CmsError::Der(der::Error::incomplete(der::Length::ZERO)))
}

/// Decodes a `ContentInfo` holding `SignedData` (trailing zero padding allowed).
pub fn summarize(bytes: &[u8]) -> Result<SignatureSummary, CmsError> {
    let info = match der_prefix(bytes).and_then(|d| Ok(ContentInfo::from_der(d)?)) {
        Ok(info) => info,
        // Many producers write BER (indefinite lengths, constructed strings).
        Err(_) => ContentInfo::from_der(&crate::ber::ber_to_der(bytes)?)?,
    };
    let decoded = decode_signed_data(&info.content)?;
    summary_of(&decoded.signed, decoded.certificates, decoded.ocsps)
}

/// The summary of a decoded `SignedData` whose certificates are `certificates`.
pub(crate) fn summary_of(
    signed: &SignedData,
    certificates: Vec<ChainCert>,
    other_ocsps: Vec<Vec<u8>>,
) -> Result<SignatureSummary, CmsError> {
    let Some(signer_info) = signed.signer_infos.0.iter().next() else {
        return Err(CmsError::Certificate("the CMS has no SignerInfo".into()));
    };
    let signer = signer_certificate(&certificates, &signer_info.sid);
    let mut signature_timestamp = None;
    if let Some(unsigned) = &signer_info.unsigned_attrs {
        for attr in unsigned.iter() {
            if attr.oid == ID_AA_SIGNATURE_TIME_STAMP_TOKEN {
                if let Some(v) = attr.values.iter().next() {
                    signature_timestamp = Some(v.to_der()?);
                }
            }
        }
    }
    let mut crls: Vec<Vec<u8>> = signed
        .crls
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            cms::revocation::RevocationInfoChoice::Crl(c) => c.to_der().ok(),
            _ => None,
        })
        .collect();
    let mut ocsps = other_ocsps;
    if let Some(signed_attrs) = &signer_info.signed_attrs {
        for attr in signed_attrs.iter() {
            if attr.oid == ADBE_REVOCATION_INFO_ARCHIVAL {
                for v in attr.values.iter() {
                    if let Ok(der) = v.to_der() {
                        revocation_info_archival(&der, &mut crls, &mut ocsps);
                    }
                }
            }
        }
    }
    let ess = match (&signer, &signer_info.signed_attrs) {
        (Some(cert), Some(attrs)) => Some(crate::ess_check::check_signing_certificate(attrs, cert)),
        _ => None,
    };
    Ok(SignatureSummary {
        ess,
        certificates,
        signer,
        signature_value: signer_info.signature.as_bytes().to_vec(),
        signature_timestamp,
        crls,
        ocsps,
    })
}

/// The certificate a SignerInfo's `sid` names, among `certificates`.
pub(crate) fn signer_certificate(
    certificates: &[ChainCert],
    sid: &SignerIdentifier,
) -> Option<ChainCert> {
    certificates
        .iter()
        .find(|c| {
            let tbs = c.cert().tbs_certificate();
            match sid {
                SignerIdentifier::IssuerAndSerialNumber(ias) => {
                    tbs.issuer() == &ias.issuer && tbs.serial_number() == &ias.serial_number
                }
                SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
                    .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                    .ok()
                    .flatten()
                    .is_some_and(|(_, k)| k.0 == ski.0),
            }
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use der::Encode;

    fn token_der() -> &'static [u8] {
        include_bytes!("../../shomei-tsp/tests/data/kit-token.der")
    }

    /// A time-stamp token (a SignedData) with `crls` inserted before its SignerInfos.
    fn with_crls(choices: &[u8]) -> der::Any {
        let token = include_bytes!("../../shomei-tsp/tests/data/kit-token.der");
        let info = ContentInfo::from_der(token).unwrap();
        let fields = children(info.content.value());
        let (last, rest) = fields.split_last().unwrap();
        let mut body: Vec<u8> = rest.concat();
        let tag = der::Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber(1),
        };
        body.extend(
            der::Any::new(tag, choices.to_vec())
                .unwrap()
                .to_der()
                .unwrap(),
        );
        body.extend_from_slice(last);
        der::Any::new(der::Tag::Sequence, body).unwrap()
    }

    #[test]
    fn ocsp_responses_in_rfc_5940_form_are_read_beside_crls() {
        // other [1] { id-ri-ocsp-response, an OCSPResponse (here a stand-in) }
        let response = [0x30, 0x03, 0x0A, 0x01, 0x00];
        let oid = ID_RI_OCSP_RESPONSE.to_der().unwrap();
        let other = [oid.as_slice(), &response].concat();
        let tag = der::Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber(1),
        };
        let choice = der::Any::new(tag, other).unwrap().to_der().unwrap();
        let any = with_crls(&choice);
        // The cms crate alone refuses it.
        assert!(any.decode_as::<SignedData>().is_err());
        let decoded = decode_signed_data(&any).unwrap();
        assert_eq!(decoded.ocsps, vec![response.to_vec()]);
        assert!(decoded.signed.crls.is_none());
        assert_eq!(decoded.signed.signer_infos.0.len(), 1);
        // The certificates come out with the bytes they were received as.
        let certs = decode_signed_data(&ContentInfo::from_der(token_der()).unwrap().content)
            .unwrap()
            .certificates;
        assert!(!certs.is_empty());
        for c in &certs {
            assert!(token_der().windows(c.der().len()).any(|w| w == c.der()));
        }
        // Without the `other` form nothing is taken out.
        let token = include_bytes!("../../shomei-tsp/tests/data/kit-token.der");
        let plain = ContentInfo::from_der(token).unwrap().content;
        assert!(decode_signed_data(&plain).unwrap().ocsps.is_empty());
    }
}
