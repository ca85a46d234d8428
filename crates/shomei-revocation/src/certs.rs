//! What the revocation code reads from certificates: extensions, validity, issuance.

use crate::error::RevocationError;
use crate::rfc6960::{oid, tbs_bytes};
use const_oid::ObjectIdentifier;
use der::{Decode, Reader};
use shomei_core::chain::ChainCert;
use std::time::SystemTime;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, BasicConstraints, ExtendedKeyUsage};
use x509_cert::ext::Extension;

/// The extension with `id`, if the certificate has it.
pub(crate) fn extension<'c>(cert: &'c ChainCert, id: &ObjectIdentifier) -> Option<&'c Extension> {
    cert.cert()
        .tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == *id)
}

/// Whether subject and issuer names are equal (a root, or a self-issued certificate).
pub fn is_self_signed(cert: &ChainCert) -> bool {
    let tbs = cert.cert().tbs_certificate();
    tbs.subject() == tbs.issuer()
}

/// Whether `issuer`'s subject is `cert`'s issuer name.
pub(crate) fn names_issuer(cert: &ChainCert, issuer: &ChainCert) -> bool {
    cert.cert().tbs_certificate().issuer() == issuer.cert().tbs_certificate().subject()
}

/// `notBefore`, `notAfter`.
pub fn validity(cert: &ChainCert) -> (SystemTime, SystemTime) {
    let v = cert.cert().tbs_certificate().validity();
    (v.not_before.to_system_time(), v.not_after.to_system_time())
}

/// Refuses a certificate outside its validity period at `now`.
pub fn check_validity(cert: &ChainCert, now: SystemTime) -> Result<(), RevocationError> {
    let (not_before, not_after) = validity(cert);
    if now < not_before {
        return Err(RevocationError::NotYetValid {
            subject: cert.subject(),
            not_before,
        });
    }
    if now > not_after {
        return Err(RevocationError::Expired {
            subject: cert.subject(),
            not_after,
        });
    }
    Ok(())
}

/// Checks that `issuer` issued `cert`: names chain and the signature verifies.
pub fn check_issued_by(cert: &ChainCert, issuer: &ChainCert) -> Result<(), RevocationError> {
    if !names_issuer(cert, issuer) {
        return Err(RevocationError::UnauthorizedResponder(format!(
            "{} is issued by {}, not by {}",
            cert.subject(),
            cert.cert().tbs_certificate().issuer(),
            issuer.subject()
        )));
    }
    let tbs = tbs_bytes(cert.der()).map_err(|e| RevocationError::der("certificate", &e))?;
    let sig = cert.cert().signature().as_bytes().ok_or_else(|| {
        RevocationError::BadResponse(format!(
            "the signature of {} is not a whole number of bytes",
            cert.subject()
        ))
    })?;
    verify_signed(issuer, cert.cert().signature_algorithm(), tbs, sig).map_err(|e| {
        RevocationError::InvalidSignature(format!(
            "{} does not verify with the key of {}: {e}",
            cert.subject(),
            issuer.subject()
        ))
    })
}

/// Verifies a signature over `message` with `signer`'s key, first refusing
/// AlgorithmIdentifier parameters the algorithm does not define (RFC 4055 2.1: NULL or
/// absent for PKCS #1 v1.5; RFC 5758 3.2: absent for ECDSA). The AlgorithmIdentifier
/// is outside the signed bytes, so without this check it could be altered freely.
pub(crate) fn verify_signed(
    signer: &ChainCert,
    alg: &spki::AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use shomei_core::alg::oid as alg_oid;
    let params_ok = match alg.oid {
        o if [
            alg_oid::SHA256_WITH_RSA,
            alg_oid::SHA384_WITH_RSA,
            alg_oid::SHA512_WITH_RSA,
        ]
        .contains(&o) =>
        {
            alg.parameters.as_ref().is_none_or(der::Any::is_null)
        }
        o if [
            alg_oid::ECDSA_WITH_SHA256,
            alg_oid::ECDSA_WITH_SHA384,
            alg_oid::ECDSA_WITH_SHA512,
        ]
        .contains(&o) =>
        {
            alg.parameters.is_none()
        }
        _ => true,
    };
    if !params_ok {
        return Err(format!(
            "unexpected parameters for signature algorithm {}",
            alg.oid
        ));
    }
    shomei_core::verify::verify_message(signer, alg, message, signature).map_err(|e| e.to_string())
}

/// Whether the certificate is a CA (basicConstraints cA TRUE).
pub(crate) fn is_ca(cert: &ChainCert) -> bool {
    extension(cert, &oid::CE_BASIC_CONSTRAINTS)
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|bc| bc.ca)
}

/// The extended key usages, `None` when the extension is absent or unreadable.
pub(crate) fn extended_key_usage(cert: &ChainCert) -> Option<Vec<ObjectIdentifier>> {
    extension(cert, &oid::CE_EXT_KEY_USAGE)
        .and_then(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok())
        .map(|eku| eku.0)
}

/// Whether keyUsage allows `bit` (RFC 5280 numbering); true when the extension is absent.
pub(crate) fn key_usage_allows(cert: &ChainCert, bit: u8) -> bool {
    let Some(ext) = extension(cert, &oid::CE_KEY_USAGE) else {
        return true;
    };
    let Ok(bits) = der::asn1::BitString::from_der(ext.extn_value.as_bytes()) else {
        return false;
    };
    let byte = usize::from(bit / 8);
    let mask = 0x80u8 >> (bit % 8);
    bits.raw_bytes().get(byte).is_some_and(|b| b & mask != 0)
}

/// `http://` URIs of the AIA access descriptions with `method`, in certificate order.
pub(crate) fn aia_urls(cert: &ChainCert, method: &ObjectIdentifier) -> Vec<String> {
    let Some(ext) = extension(cert, &oid::PE_AIA) else {
        return Vec::new();
    };
    let Ok(aia) = AuthorityInfoAccessSyntax::from_der(ext.extn_value.as_bytes()) else {
        return Vec::new();
    };
    aia.0
        .iter()
        .filter(|ad| ad.access_method == *method)
        .filter_map(|ad| http_uri(&ad.access_location))
        .collect()
}

/// The URI of a GeneralName when it is plain `http` (RFC 5280 4.2.1.13 and 4.2.2.1:
/// revocation data is signed, so TLS adds nothing and would need its own revocation check).
pub(crate) fn http_uri(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(uri) => {
            let s = uri.as_str();
            s.get(..7)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
                .then(|| s.to_string())
        }
        _ => None,
    }
}

/// The serial number as lower-case hex, for messages.
pub(crate) fn serial_hex(cert: &ChainCert) -> String {
    shomei_core::digest::hex_bytes::encode(cert.cert().tbs_certificate().serial_number().as_bytes())
}

/// Parses certificates published at a caIssuers URL: one DER certificate, PEM blocks,
/// or a certs-only CMS SignedData (`.p7c`, RFC 5280 4.2.2.1).
pub(crate) fn parse_published_certs(bytes: &[u8]) -> Result<Vec<ChainCert>, RevocationError> {
    if let Ok(one) = ChainCert::from_der(bytes) {
        return Ok(vec![one]);
    }
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return shomei_core::chain::parse_certificates(bytes)
            .map_err(|e| RevocationError::BadResponse(format!("certificate file: {e}")));
    }
    certs_only_p7c(bytes).map_err(|e| {
        RevocationError::BadResponse(format!(
            "neither a DER certificate nor a certs-only PKCS#7: {e}"
        ))
    })
}

/// The certificates of a certs-only SignedData, read without sorting constraints (many
/// published `.p7c` files do not sort their SET OF as DER would require).
fn certs_only_p7c(bytes: &[u8]) -> der::Result<Vec<ChainCert>> {
    const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
    let mut reader = der::SliceReader::new(bytes)?;
    let certs = reader.sequence(|ci| {
        let content_type = ObjectIdentifier::decode(ci)?;
        if content_type != ID_SIGNED_DATA {
            return Err(der::Error::from(der::Tag::ObjectIdentifier.value_error()));
        }
        let explicit = der::Header::decode(ci)?;
        ci.read_nested(explicit.length(), |inner| {
            inner.sequence(|sd| {
                // version, digestAlgorithms, encapContentInfo
                for _ in 0..3 {
                    sd.tlv_bytes()?;
                }
                let mut out = Vec::new();
                if der::Tag::peek(sd)?.is_context_specific() {
                    let header = der::Header::decode(sd)?;
                    sd.read_nested(header.length(), |set| {
                        while !set.is_finished() {
                            let tlv = set.tlv_bytes()?;
                            if let Ok(c) = ChainCert::from_der(tlv) {
                                out.push(c);
                            }
                        }
                        Ok::<_, der::Error>(())
                    })?;
                }
                let rest = sd.remaining_len();
                sd.drain(rest)?;
                Ok::<_, der::Error>(out)
            })
        })
    })?;
    reader.finish()?;
    Ok(certs)
}

/// DER of a certificate decoded by x509-cert (responder certificates in OCSP responses).
pub(crate) fn chain_cert(c: &x509_cert::Certificate) -> Result<ChainCert, RevocationError> {
    ChainCert::from_decoded(c.clone()).map_err(|e| RevocationError::der("certificate", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(name: &str) -> ChainCert {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/pki/");
        let pem = std::fs::read(format!("{path}{name}.cert.pem")).unwrap();
        shomei_core::chain::parse_certificates(&pem)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn key_usage_bits_follow_rfc5280_numbering() {
        let intermediate = cert("intermediate"); // keyCertSign (5), cRLSign (6)
        assert!(key_usage_allows(&intermediate, 5));
        assert!(key_usage_allows(&intermediate, 6));
        assert!(!key_usage_allows(&intermediate, 0));
        let signer = cert("signer-rsa"); // digitalSignature (0), nonRepudiation (1)
        assert!(key_usage_allows(&signer, 0));
        assert!(key_usage_allows(&signer, 1));
        assert!(!key_usage_allows(&signer, 6));
    }

    #[test]
    fn issuance_and_self_signature() {
        let root = cert("root");
        let intermediate = cert("intermediate");
        assert!(is_self_signed(&root));
        assert!(check_issued_by(&root, &root).is_ok());
        assert!(check_issued_by(&intermediate, &root).is_ok());
        assert!(check_issued_by(&cert("signer-ec"), &intermediate).is_ok());
        assert!(check_issued_by(&cert("signer-ec"), &root).is_err());
        assert!(is_ca(&intermediate) && !is_ca(&cert("signer-ec")));
    }
}
