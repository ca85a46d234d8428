//! Algorithm and namespace URIs (XMLDSig, RFC 6931, XAdES).

use shomei_core::{DigestAlgorithm, SignatureAlgorithm};

/// The XMLDSig namespace.
pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The XAdES 1.3.2 namespace.
pub const XADES_NS: &str = "http://uri.etsi.org/01903/v1.3.2#";
/// Exclusive C14N 1.0 without comments.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
/// The enveloped-signature transform.
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// `Type` of the Reference to the SignedProperties.
pub const SIGNED_PROPERTIES_TYPE: &str = "http://uri.etsi.org/01903#SignedProperties";

/// The `DigestMethod` URI of a digest algorithm (XML Encryption, RFC 6931).
pub fn digest_uri(d: DigestAlgorithm) -> &'static str {
    match d {
        DigestAlgorithm::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
        DigestAlgorithm::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        _ => "http://www.w3.org/2001/04/xmlenc#sha256",
    }
}

/// The `SignatureMethod` URI of a signature algorithm (RFC 6931). RSA-PSS uses the
/// MGF1 URIs of RFC 6931 2.3.10, whose defaults (MGF1 over the same hash, salt as long
/// as the hash, trailer 1) are exactly what [`SignatureAlgorithm::RsaPss`] means.
pub fn signature_uri(a: SignatureAlgorithm) -> Option<&'static str> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    Some(match a {
        SignatureAlgorithm::RsaPkcs1v15(Sha256) => {
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        }
        SignatureAlgorithm::RsaPkcs1v15(Sha384) => {
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
        }
        SignatureAlgorithm::RsaPkcs1v15(Sha512) => {
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
        }
        SignatureAlgorithm::RsaPss(Sha256) => {
            "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"
        }
        SignatureAlgorithm::RsaPss(Sha384) => {
            "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1"
        }
        SignatureAlgorithm::RsaPss(Sha512) => {
            "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1"
        }
        SignatureAlgorithm::Ecdsa(Sha256) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        SignatureAlgorithm::Ecdsa(Sha384) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        SignatureAlgorithm::Ecdsa(Sha512) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
        _ => return None,
    })
}
