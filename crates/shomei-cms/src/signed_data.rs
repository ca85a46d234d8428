//! Detached CAdES `SignedData` in two phases: [`PreparedCades::new`] gives the bytes
//! to be signed (the DER of the signed attributes), [`PreparedCades::assemble`]
//! completes the `ContentInfo` once the device has signed their digest.
//!
//! ```text
//! SignedData ::= SEQUENCE {
//!   version CMSVersion,
//!   digestAlgorithms DigestAlgorithmIdentifiers,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SignerInfos }
//! ```

use crate::attributes::{self, single_valued};
use crate::CmsError;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use serde::{Deserialize, Serialize};
use shomei_core::ess::{EssCertIdV2, IssuerSerial, SigningCertificateV2};
use shomei_core::{CertificateChain, Digest, DigestAlgorithm, SignatureAlgorithm, SignatureValue};
use spki::AlgorithmIdentifierOwned;
use std::time::SystemTime;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;

/// What goes into the signed attributes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CadesOptions {
    /// The digest over the content and the signed attributes.
    pub digest: DigestAlgorithm,
    /// The signature scheme the device will use.
    pub signature_algorithm: SignatureAlgorithm,
    /// `signing-time` attribute. PAdES forbids it (EN 319 142-1 5.4.2: the time is
    /// in the signature dictionary's /M), so PAdES passes `None`.
    pub signing_time: Option<SystemTime>,
    /// Embed the whole chain in `certificates` (otherwise only the signing cert).
    pub include_chain: bool,
}

impl CadesOptions {
    /// Options for a PAdES signature: no signing-time, whole chain embedded.
    pub fn pades(digest: DigestAlgorithm, signature_algorithm: SignatureAlgorithm) -> Self {
        Self {
            digest,
            signature_algorithm,
            signing_time: None,
            include_chain: true,
        }
    }
}

/// Signed attributes ready to be signed, plus what assembly needs.
/// Serializable so a flow can pause between hashing and signing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreparedCades {
    #[serde(with = "shomei_core::digest::hex_bytes")]
    signed_attrs_der: Vec<u8>,
    chain: CertificateChain,
    digest: DigestAlgorithm,
    signature_algorithm: SignatureAlgorithm,
    include_chain: bool,
}

fn digest_alg_id(d: DigestAlgorithm) -> AlgorithmIdentifierOwned {
    // RFC 5754 3: the parameters of SHA-2 identifiers are preferably absent.
    AlgorithmIdentifierOwned {
        oid: d.oid(),
        parameters: None,
    }
}

impl PreparedCades {
    /// Builds content-type, message-digest, ESS signing-certificate-v2 and (if asked)
    /// signing-time over `content_digest`, the digest of the detached content.
    pub fn new(
        chain: &CertificateChain,
        content_digest: &Digest,
        options: &CadesOptions,
    ) -> Result<Self, CmsError> {
        if content_digest.algorithm() != options.digest {
            return Err(CmsError::Algorithm(format!(
                "content digest is {} but the signature uses {}",
                content_digest.algorithm(),
                options.digest
            )));
        }
        if options.signature_algorithm.digest() != options.digest {
            return Err(CmsError::Algorithm(format!(
                "{} does not sign {} digests",
                options.signature_algorithm, options.digest
            )));
        }
        let signing = chain.signing_cert();
        let mut attrs: SetOfVec<Attribute> = SetOfVec::new();
        attrs.insert(single_valued(
            attributes::ID_CONTENT_TYPE,
            &attributes::ID_DATA,
        )?)?;
        attrs.insert(single_valued(
            attributes::ID_MESSAGE_DIGEST,
            &OctetString::new(content_digest.as_bytes())?,
        )?)?;
        if let Some(t) = options.signing_time {
            let time = x509_cert::time::Time::try_from(t)?;
            attrs.insert(single_valued(attributes::ID_SIGNING_TIME, &time)?)?;
        }
        let tbs = signing.cert().tbs_certificate();
        let ess = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                hash_algorithm: None,
                cert_hash: OctetString::new(
                    Digest::compute(DigestAlgorithm::Sha256, signing.der()).as_bytes(),
                )?,
                issuer_serial: Some(IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                    serial_number: tbs.serial_number().clone(),
                }),
            }],
            policies: None,
        };
        attrs.insert(single_valued(
            attributes::ID_AA_SIGNING_CERTIFICATE_V2,
            &ess,
        )?)?;
        Ok(Self {
            signed_attrs_der: attrs.to_der()?,
            chain: chain.clone(),
            digest: options.digest,
            signature_algorithm: options.signature_algorithm,
            include_chain: options.include_chain,
        })
    }

    /// The DER of the signed attributes (`SET OF Attribute`), which is what is signed.
    pub fn to_be_signed(&self) -> &[u8] {
        &self.signed_attrs_der
    }

    /// The digest the device signs.
    pub fn digest_to_sign(&self) -> Digest {
        Digest::compute(self.digest, &self.signed_attrs_der)
    }

    /// The signature scheme.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.signature_algorithm
    }

    /// The chain that will be embedded.
    pub fn chain(&self) -> &CertificateChain {
        &self.chain
    }

    /// Size in bytes of the assembled `ContentInfo` for a signature value of
    /// `signature_len` bytes and no unsigned attributes: the exact figure used to size
    /// a placeholder.
    pub fn assembled_len(&self, signature_len: usize) -> Result<usize, CmsError> {
        let info = self.content_info(vec![0x01; signature_len.max(1)], Vec::new())?;
        Ok(info.encoded_len()?.try_into()?)
    }

    /// Verifies `value` against the signing certificate and assembles the DER
    /// `ContentInfo`. `unsigned` attributes (e.g. a signature time-stamp) are optional.
    pub fn assemble(
        &self,
        value: &SignatureValue,
        unsigned: Vec<Attribute>,
    ) -> Result<Vec<u8>, CmsError> {
        let sig = value.to_cms().ok_or(CmsError::BadEcdsaEncoding)?;
        shomei_core::verify::verify_digest_signature(
            self.chain.signing_cert(),
            self.signature_algorithm,
            &self.digest_to_sign(),
            &sig,
        )?;
        Ok(self.content_info(sig, unsigned)?.to_der()?)
    }

    fn content_info(
        &self,
        sig: Vec<u8>,
        unsigned: Vec<Attribute>,
    ) -> Result<ContentInfo, CmsError> {
        let signing = self.chain.signing_cert();
        let tbs = signing.cert().tbs_certificate();
        let signed_attrs = SetOfVec::<Attribute>::from_der(&self.signed_attrs_der)?;
        let unsigned_attrs = if unsigned.is_empty() {
            None
        } else {
            Some(SetOfVec::try_from(unsigned)?)
        };
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: digest_alg_id(self.digest),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: self.signature_algorithm.algorithm_identifier(),
            signature: OctetString::new(sig)?,
            unsigned_attrs,
        };
        let mut certs = SetOfVec::new();
        let embedded: Vec<_> = if self.include_chain {
            self.chain.certs().iter().collect()
        } else {
            vec![signing]
        };
        for c in embedded {
            certs.insert(CertificateChoices::Certificate(c.cert().clone()))?;
        }
        let mut digest_algorithms = SetOfVec::new();
        digest_algorithms.insert(digest_alg_id(self.digest))?;
        let mut signer_infos = SetOfVec::new();
        signer_infos.insert(signer)?;
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: attributes::ID_DATA,
                econtent: None,
            },
            certificates: Some(CertificateSet(certs)),
            crls: None,
            signer_infos: SignerInfos(signer_infos),
        };
        Ok(ContentInfo {
            content_type: attributes::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data)?,
        })
    }
}
