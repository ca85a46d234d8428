//! Reading an existing CMS signature (any producer): its certificates, the signer's
//! certificate, the signature value and its signature time-stamp token — what
//! extension to B-T/B-LT/B-LTA needs.

use crate::attributes::ID_AA_SIGNATURE_TIME_STAMP_TOKEN;
use crate::CmsError;
use cms::cert::CertificateChoices;
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
    let signed: SignedData = info.content.decode_as()?;
    let certificates = certificates_of(&signed);
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
    })
}

/// The X.509 certificates in `SignedData.certificates` (other choices skipped).
pub(crate) fn certificates_of(signed: &SignedData) -> Vec<ChainCert> {
    signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => {
                c.to_der().ok().and_then(|d| ChainCert::from_der(&d).ok())
            }
            _ => None,
        })
        .collect()
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
