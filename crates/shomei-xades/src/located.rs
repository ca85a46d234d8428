//! Finding the XAdES signatures of a document and reading what each one carries
//! (certificates, validation data, time-stamps, the signing certificate).

use crate::references::{
    child, children_named, decode_b64, descendants_named, digest_from_uri, element_named,
};
use crate::uris::{DS_NS, XADES_NS};
use crate::XadesError;
use shomei_core::chain::ChainCert;
use shomei_core::{Digest, DigestAlgorithm};
use shomei_levels::ValidationData;
use shomei_tsp::TimestampToken;
use shomei_xml::{Document, NodeId};

/// One XAdES signature of a document: the `ds:Signature` and its
/// `xades:QualifyingProperties`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Located {
    pub(crate) sig: NodeId,
    pub(crate) qp: NodeId,
}

/// Every `ds:Signature` with XAdES qualifying properties that is not inside another
/// signature (a counter-signature belongs to its master's unsigned properties, which the
/// master's archive time-stamp covers), in document order.
pub(crate) fn xades_signatures(doc: &Document) -> Vec<Located> {
    let inside_signature = |mut n: NodeId| {
        while let Some(p) = doc.parent(n) {
            if element_named(doc, p, DS_NS, "Signature") {
                return true;
            }
            n = p;
        }
        false
    };
    doc.elements_by_name(Some(DS_NS), "Signature")
        .into_iter()
        .filter(|sig| !inside_signature(*sig))
        .filter_map(|sig| {
            children_named(doc, sig, DS_NS, "Object")
                .find_map(|o| child(doc, o, XADES_NS, "QualifyingProperties"))
                .map(|qp| Located { sig, qp })
        })
        .collect()
}

impl Located {
    pub(crate) fn usp(&self, doc: &Document) -> Option<NodeId> {
        child(doc, self.qp, XADES_NS, "UnsignedProperties")
            .and_then(|up| child(doc, up, XADES_NS, "UnsignedSignatureProperties"))
    }

    pub(crate) fn properties<'d>(
        &self,
        doc: &'d Document,
        ns: &'d str,
        local: &'d str,
    ) -> Vec<NodeId> {
        self.usp(doc)
            .map(|usp| children_named(doc, usp, ns, local).collect())
            .unwrap_or_default()
    }

    pub(crate) fn signature_value(&self, doc: &Document) -> Result<NodeId, XadesError> {
        child(doc, self.sig, DS_NS, "SignatureValue")
            .ok_or_else(|| XadesError::Unsupported("ds:Signature without SignatureValue".into()))
    }

    /// A short, stable seed for the Ids of new properties.
    pub(crate) fn seed(&self, doc: &Document) -> String {
        let value = self
            .signature_value(doc)
            .map(|v| doc.text_content(v))
            .unwrap_or_default();
        Digest::compute(DigestAlgorithm::Sha256, value.as_bytes()).to_hex()
    }

    /// Certificates in `ds:KeyInfo` (in order).
    pub(crate) fn key_info_certs(&self, doc: &Document) -> Result<Vec<ChainCert>, XadesError> {
        let mut out = Vec::new();
        if let Some(ki) = child(doc, self.sig, DS_NS, "KeyInfo") {
            for c in descendants_named(doc, ki, DS_NS, "X509Certificate") {
                out.push(ChainCert::from_der(&decode_b64(doc, c)?)?);
            }
        }
        Ok(out)
    }

    /// Every certificate the signature carries (`ds:KeyInfo` first, then those in its
    /// unsigned properties): where chains are completed from before AIA is tried.
    pub(crate) fn cert_pool(&self, doc: &Document) -> Result<Vec<ChainCert>, XadesError> {
        let mut pool = self.key_info_certs(doc)?;
        for der in self.present(doc)?.certs {
            if !pool.iter().any(|c| c.der() == der.as_slice()) {
                if let Ok(c) = ChainCert::from_der(&der) {
                    pool.push(c);
                }
            }
        }
        Ok(pool)
    }

    /// Every certificate, OCSP response and CRL already stored in the signature.
    pub(crate) fn present(&self, doc: &Document) -> Result<ValidationData, XadesError> {
        let mut present = ValidationData::default();
        for c in self.key_info_certs(doc)? {
            present.certs.push(c.der().to_vec());
        }
        if let Some(usp) = self.usp(doc) {
            for (local, list) in [
                ("EncapsulatedX509Certificate", &mut present.certs),
                ("EncapsulatedOCSPValue", &mut present.ocsps),
                ("EncapsulatedCRLValue", &mut present.crls),
            ] {
                for e in descendants_named(doc, usp, XADES_NS, local) {
                    list.push(decode_b64(doc, e)?);
                }
            }
        }
        Ok(present)
    }

    /// The signing certificate: the embedded certificate whose digest the
    /// `SigningCertificateV2` (or v1) property names; else the first in `ds:KeyInfo`.
    pub(crate) fn signer(&self, doc: &Document, pool: &[ChainCert]) -> Option<ChainCert> {
        let named = doc
            .descendants(self.qp)
            .into_iter()
            .filter(|n| element_named(doc, *n, XADES_NS, "CertDigest"))
            .filter_map(|cd| {
                let method = child(doc, cd, DS_NS, "DigestMethod")?;
                let alg = digest_from_uri(doc.attribute(method, None, "Algorithm")?)?;
                let value = decode_b64(doc, child(doc, cd, DS_NS, "DigestValue")?).ok()?;
                pool.iter()
                    .find(|c| Digest::compute(alg, c.der()).as_bytes() == value.as_slice())
                    .cloned()
            })
            .next();
        named.or_else(|| pool.first().cloned())
    }

    /// The tokens of the time-stamp properties `ns:local`; unreadable ones (other
    /// producers' tokens with a SHA-1 imprint, damaged ones) become warnings.
    pub(crate) fn timestamp_tokens(
        &self,
        doc: &Document,
        ns: &str,
        local: &str,
        warnings: &mut Vec<String>,
    ) -> Vec<TimestampToken> {
        let mut out = Vec::new();
        for ts in self.properties(doc, ns, local) {
            let Some(enc) = child(doc, ts, XADES_NS, "EncapsulatedTimeStamp") else {
                continue;
            };
            match decode_b64(doc, enc).and_then(|der| Ok(TimestampToken::from_ber(&der)?)) {
                Ok(t) => out.push(t),
                Err(e) => warnings.push(format!(
                    "{local}: token not usable, its TSA chain gets no validation data: {e}"
                )),
            }
        }
        out
    }
}
