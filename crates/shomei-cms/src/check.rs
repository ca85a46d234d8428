//! Is an existing CMS signature over detached content intact? Extension asks before it
//! time-stamps or archives a signature: the content's digest must match what the
//! signature binds to, and the signature value must verify with the signer's
//! certificate. Covers CAdES / `adbe.pkcs7.detached` (signed attributes or none),
//! `adbe.pkcs7.sha1` (the SHA-1 of the content as encapsulated data) and RFC 3161
//! document time-stamps (the TSTInfo's message imprint).

use crate::inspect::{der_prefix, signer_certificate};
use cms::content_info::ContentInfo;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader};
use shomei_core::check::{verify_existing_digest, CheckHash, CheckScheme};
use shomei_core::cms_raw::RawSignedData;

/// id-messageDigest (RFC 5652 11.2).
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-ct-TSTInfo (RFC 3161).
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// Why an existing signature is not intact, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckFailure {
    /// The signed content does not have the digest the signature binds to (EN 319
    /// 102-1 HASH_FAILURE): the content was changed after signing.
    #[error("the digest of the signed content does not match: {0}")]
    Digest(String),
    /// The signature value does not verify with the signer's certificate
    /// (SIG_CRYPTO_FAILURE).
    #[error("the signature value does not verify with the signer's certificate")]
    SignatureValue,
    /// The signature could not be checked (unreadable CMS, signer certificate not
    /// embedded, an algorithm not supported): nothing can be said of it.
    #[error("cannot be checked: {0}")]
    Unchecked(String),
    /// The signer's certificate is not in the signature, so nothing can be checked
    /// (NO_SIGNING_CERTIFICATE_FOUND).
    #[error("cannot be checked: the signer's certificate is not in the signature")]
    NoSignerCertificate,
    /// An algorithm or key shomei cannot check (a digest, signature scheme or key type
    /// it does not support, or a key it cannot decode).
    #[error("cannot be checked: {0}")]
    Unsupported(String),
    /// The SignerInfo does not follow CMS (RFC 5652): a signature algorithm where its
    /// digest algorithm belongs (FORMAT_FAILURE).
    #[error("malformed: {0}")]
    Malformed(String),
}

impl CheckFailure {
    /// Whether the signature is shown broken (its digest or value does not verify), as
    /// opposed to not checkable.
    pub fn is_broken(&self) -> bool {
        matches!(
            self,
            Self::Digest(_) | Self::SignatureValue | Self::Malformed(_)
        )
    }
}

fn unsupported(e: impl std::fmt::Display) -> CheckFailure {
    CheckFailure::Unsupported(e.to_string())
}

fn unchecked(e: impl std::fmt::Display) -> CheckFailure {
    CheckFailure::Unchecked(e.to_string())
}

/// `messageImprint` of a DER TSTInfo: (hash algorithm, hashed message).
fn tst_imprint(tst_info: &[u8]) -> Result<(ObjectIdentifier, Vec<u8>), der::Error> {
    let mut reader = der::SliceReader::new(tst_info)?;
    reader.sequence(|r| {
        let _version: der::asn1::Int = r.decode()?;
        let _policy: ObjectIdentifier = r.decode()?;
        let imprint = r.sequence(|mi| {
            let alg: spki::AlgorithmIdentifierOwned = mi.decode()?;
            let hashed: OctetString = mi.decode()?;
            Ok::<_, der::Error>((alg.oid, hashed.as_bytes().to_vec()))
        })?;
        let rest = r.remaining_len();
        r.read_slice(rest)?;
        Ok::<_, der::Error>(imprint)
    })
}

/// Checks the CMS `cms` (DER or BER, trailing zero padding allowed) over detached
/// content whose digest `content_digest` computes for the hash asked.
pub fn check_detached(
    cms: &[u8],
    content_digest: &mut dyn FnMut(CheckHash) -> std::io::Result<Vec<u8>>,
) -> Result<(), CheckFailure> {
    check_detached_summarized(cms, content_digest).0
}

/// [`check_detached`], also handing back what the signature holds (as
/// [`crate::inspect::summarize`] reads it) from the same decoding, when the CMS could
/// be decoded.
pub fn check_detached_summarized(
    cms: &[u8],
    content_digest: &mut dyn FnMut(CheckHash) -> std::io::Result<Vec<u8>>,
) -> (
    Result<(), CheckFailure>,
    Option<crate::inspect::SignatureSummary>,
) {
    let mut summary = None;
    let verdict = check_inner(cms, content_digest, &mut summary);
    (verdict, summary)
}

fn check_inner(
    cms: &[u8],
    content_digest: &mut dyn FnMut(CheckHash) -> std::io::Result<Vec<u8>>,
    summary: &mut Option<crate::inspect::SignatureSummary>,
) -> Result<(), CheckFailure> {
    let converted;
    let decoded = der_prefix(cms)
        .ok()
        .and_then(|d| ContentInfo::from_der(d).ok().map(|info| (d, info)));
    let (der, info): (&[u8], ContentInfo) = match decoded {
        Some(found) => found,
        // Many producers write BER (indefinite lengths, constructed strings).
        None => {
            converted = shomei_core::ber::ber_to_der(cms).map_err(unchecked)?;
            let info = ContentInfo::from_der(&converted).map_err(unchecked)?;
            (&converted, info)
        }
    };
    // The signed attributes and eContent exactly as encoded: re-encoding may reorder.
    let raw = RawSignedData::walk(der).map_err(unchecked)?;
    let decoded = crate::inspect::decode_signed_data(&info.content).map_err(unchecked)?;
    let signed = decoded.signed;
    let signer = signed
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or_else(|| unchecked("the CMS has no SignerInfo"))?;
    let certificates = decoded.certificates;
    let cert = signer_certificate(&certificates, &signer.sid);
    *summary = crate::inspect::summary_of(&signed, certificates, decoded.ocsps).ok();
    let cert = cert.ok_or(CheckFailure::NoSignerCertificate)?;
    let hash = CheckHash::from_oid(&signer.digest_alg.oid).ok_or_else(|| {
        let oid = signer.digest_alg.oid.to_string();
        // PKCS #1 signature schemes and ecdsa-with-*: signature algorithms, not digests.
        if oid.starts_with("1.2.840.113549.1.1.") || oid.starts_with("1.2.840.10045.4.") {
            CheckFailure::Malformed(format!(
                "the SignerInfo names the signature algorithm {oid} as its digest algorithm"
            ))
        } else {
            unsupported(format!("digest algorithm {oid} is not supported"))
        }
    })?;
    let digest_of = |f: &mut dyn FnMut(CheckHash) -> std::io::Result<Vec<u8>>, h: CheckHash| {
        f(h).map_err(|e| unchecked(format!("reading the signed content: {e}")))
    };

    // What the signature binds to: the content's digest, or the encapsulated data
    // (adbe.pkcs7.sha1: the SHA-1 of the content; a time-stamp: the TSTInfo).
    let econtent = raw.econtent;
    let bound_digest = match &econtent {
        None => digest_of(content_digest, hash)?,
        Some(data) => {
            if signed.encap_content_info.econtent_type == ID_CT_TST_INFO {
                let (alg, hashed) = tst_imprint(data).map_err(unchecked)?;
                let imprint_hash = CheckHash::from_oid(&alg).ok_or_else(|| {
                    unsupported(format!(
                        "time-stamp imprint algorithm {alg} is not supported"
                    ))
                })?;
                if digest_of(content_digest, imprint_hash)? != hashed {
                    return Err(CheckFailure::Digest(format!(
                        "the time-stamp's message imprint ({}) is not the {} of the \
                         time-stamped bytes",
                        imprint_hash.name(),
                        imprint_hash.name()
                    )));
                }
            } else if digest_of(content_digest, CheckHash::Sha1)?.as_slice() != *data {
                return Err(CheckFailure::Digest(
                    "the signature encapsulates content that is not the SHA-1 of the signed \
                     bytes (only adbe.pkcs7.sha1 encapsulates anything, and then that SHA-1)"
                        .into(),
                ));
            }
            hash.digest(data)
        }
    };
    let scheme = CheckScheme::from_cms(&signer.signature_algorithm, &signer.digest_alg.oid)
        .map_err(unsupported)?;
    let signature = signer.signature.as_bytes();
    match &signer.signed_attrs {
        Some(attrs) => {
            let md = attrs
                .iter()
                .find(|a| a.oid == ID_MESSAGE_DIGEST)
                .and_then(|a| a.values.iter().next())
                .ok_or_else(|| unchecked("no message-digest attribute"))?;
            let md = OctetString::from_der(&md.to_der().map_err(unchecked)?).map_err(unchecked)?;
            if md.as_bytes() != bound_digest.as_slice() {
                return Err(CheckFailure::Digest(format!(
                    "the message-digest attribute is not the {} of the signed bytes",
                    hash.name()
                )));
            }
            // The signature covers the attributes as encoded, re-tagged SET OF (RFC
            // 5652 5.4).
            let der = raw
                .signed_attrs_der()
                .map_err(unchecked)?
                .ok_or_else(|| unchecked("the signed attributes could not be located"))?;
            let attrs_digest = scheme.hash().digest(&der);
            verify_existing_digest(&cert, scheme, &attrs_digest, signature)
        }
        None => verify_existing_digest(&cert, scheme, &bound_digest, signature),
    }
    .map_err(|e| match e {
        shomei_core::verify::VerifyError::Invalid => CheckFailure::SignatureValue,
        key @ shomei_core::verify::VerifyError::Key(_) => unsupported(key),
        other => unchecked(other),
    })
}
