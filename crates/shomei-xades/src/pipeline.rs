//! The staged signing pipeline: [`prepare`] → [`Prepared::digest_to_sign`] → remote
//! signature → [`Prepared::finish`].

use crate::splice::{check_encoding, find_insertion, Insertion};
use crate::uris::{
    digest_uri, signature_uri, DS_NS, ENVELOPED, EXC_C14N, SIGNED_PROPERTIES_TYPE, XADES_NS,
};
use crate::{Packaging, XadesError, XadesOptions};
use base64ct::{Base64, Encoding};
use der::Encode;
use serde::{Deserialize, Serialize};
use shomei_core::ess::IssuerSerial;
use shomei_core::{
    CertificateChain, Digest, DigestAlgorithm, KeyKind, RemoteSigner, SignatureAlgorithm,
    SignatureValue, SignerDescription, UtcTime,
};
use shomei_xml::{canonicalize, canonicalize_excluding, C14nMethod, Document};
use x509_cert::ext::pkix::name::GeneralName;

/// Hashed and ready to be signed. Serializable: store it, sign elsewhere, resume with
/// [`Prepared::finish`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    original: Vec<u8>,
    insertion: Insertion,
    /// Signature text up to the content of `ds:SignatureValue`.
    head: String,
    /// Signature text after the content of `ds:SignatureValue`.
    tail: String,
    chain: CertificateChain,
    algorithm: SignatureAlgorithm,
    to_sign: Digest,
}

fn exclusive() -> C14nMethod {
    C14nMethod::Exclusive {
        comments: false,
        inclusive_prefixes: Vec::new(),
    }
}

/// Escapes text for an attribute value or character data.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\n' => out.push_str("&#xA;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
    out
}

/// The Ids of one signature: unpredictable-looking (derived from the document digest,
/// the time and the certificate) but reproducible for the same input.
struct Ids {
    signature: String,
    data_ref: String,
    signed_props: String,
    value: String,
}

impl Ids {
    fn new(doc: &Document, seed: &[u8]) -> Result<Self, XadesError> {
        for attempt in 0u8..8 {
            let mut input = seed.to_vec();
            input.push(attempt);
            let base = Digest::compute(DigestAlgorithm::Sha256, &input).to_hex();
            let short = base.get(..20).unwrap_or(&base);
            let ids = Self {
                signature: format!("id-{short}"),
                data_ref: format!("id-ref-{short}"),
                signed_props: format!("id-xades-{short}"),
                value: format!("id-value-{short}"),
            };
            let mut clash = false;
            for id in [&ids.signature, &ids.data_ref, &ids.signed_props, &ids.value] {
                clash |= doc.find_by_id(id)?.is_some();
            }
            if !clash {
                return Ok(ids);
            }
        }
        Err(XadesError::Unsupported(
            "the document already carries the generated Id values".into(),
        ))
    }
}

fn b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

fn digest_method(d: DigestAlgorithm) -> String {
    format!(
        "<ds:DigestMethod Algorithm=\"{}\"></ds:DigestMethod>",
        digest_uri(d)
    )
}

/// The parts of the `ds:Signature` text that do not depend on the digests.
struct Template {
    ids: Ids,
    signature_method: &'static str,
    digest: DigestAlgorithm,
    data_digest: String,
    key_info: String,
    object: String,
}

impl Template {
    fn signed_info(&self, props_digest: &str) -> String {
        let dm = digest_method(self.digest);
        format!(
            "<ds:SignedInfo>\
             <ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"></ds:CanonicalizationMethod>\
             <ds:SignatureMethod Algorithm=\"{sm}\"></ds:SignatureMethod>\
             <ds:Reference Id=\"{rid}\" URI=\"\"><ds:Transforms>\
             <ds:Transform Algorithm=\"{ENVELOPED}\"></ds:Transform>\
             <ds:Transform Algorithm=\"{EXC_C14N}\"></ds:Transform></ds:Transforms>\
             {dm}<ds:DigestValue>{dd}</ds:DigestValue></ds:Reference>\
             <ds:Reference Type=\"{SIGNED_PROPERTIES_TYPE}\" URI=\"#{pid}\"><ds:Transforms>\
             <ds:Transform Algorithm=\"{EXC_C14N}\"></ds:Transform></ds:Transforms>\
             {dm}<ds:DigestValue>{props_digest}</ds:DigestValue></ds:Reference>\
             </ds:SignedInfo>",
            sm = self.signature_method,
            rid = self.ids.data_ref,
            dd = self.data_digest,
            pid = self.ids.signed_props,
        )
    }

    fn open(&self) -> String {
        format!(
            "<ds:Signature xmlns:ds=\"{DS_NS}\" xmlns:xades=\"{XADES_NS}\" Id=\"{}\">",
            self.ids.signature
        )
    }

    /// `(head, tail)` around the SignatureValue content.
    fn split(&self, props_digest: &str) -> (String, String) {
        let head = format!(
            "{}{}<ds:SignatureValue Id=\"{}\">",
            self.open(),
            self.signed_info(props_digest),
            self.ids.value
        );
        let tail = format!(
            "</ds:SignatureValue>{}{}</ds:Signature>",
            self.key_info, self.object
        );
        (head, tail)
    }

    /// Parses the whole signature standalone and canonicalizes one of its elements.
    /// Exclusive C14N does not depend on the ancestors' namespace declarations, so the
    /// result is the same once the signature sits inside the document.
    fn canonical_element(
        &self,
        props_digest: &str,
        pick: impl Fn(&Document) -> Result<Option<shomei_xml::NodeId>, XadesError>,
    ) -> Result<Vec<u8>, XadesError> {
        let (head, tail) = self.split(props_digest);
        let text = format!("{head}{tail}");
        let doc = Document::parse(text.as_bytes())?;
        let node = pick(&doc)?.ok_or_else(|| {
            XadesError::Unsupported("internal: element missing from the signature".into())
        })?;
        let mut out = Vec::new();
        canonicalize(&doc, Some(node), &exclusive(), &mut out)?;
        Ok(out)
    }
}

fn signing_certificate_v2(
    chain: &CertificateChain,
    d: DigestAlgorithm,
) -> Result<String, XadesError> {
    let cert = chain.signing_cert();
    let tbs = cert.cert().tbs_certificate();
    let issuer_serial = IssuerSerial {
        issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
        serial_number: tbs.serial_number().clone(),
    };
    Ok(format!(
        "<xades:SigningCertificateV2><xades:Cert><xades:CertDigest>{}<ds:DigestValue>{}</ds:DigestValue>\
         </xades:CertDigest><xades:IssuerSerialV2>{}</xades:IssuerSerialV2></xades:Cert>\
         </xades:SigningCertificateV2>",
        digest_method(d),
        b64(Digest::compute(d, cert.der()).as_bytes()),
        b64(&issuer_serial.to_der()?),
    ))
}

/// Stage 1: parses the document, digests it and builds the SignedInfo to be signed.
pub fn prepare(
    xml: &[u8],
    description: &SignerDescription,
    options: &XadesOptions,
) -> Result<Prepared, XadesError> {
    let Packaging::Enveloped = options.packaging;
    let doc = Document::parse(xml)?;
    check_encoding(&doc)?;
    let insertion = find_insertion(xml, &doc)?;
    let algorithm = description
        .choose_algorithm(options.digest, options.rsa_pss)
        .map_err(XadesError::Options)?;
    let digest = algorithm.digest();
    let signature_method = signature_uri(algorithm)
        .ok_or_else(|| XadesError::Options(format!("no XMLDSig URI for {algorithm}")))?;
    let time = UtcTime::from_system_time(options.signing_time)
        .ok_or_else(|| XadesError::Options("signing time out of range".into()))?;

    // The enveloped-signature transform removes the signature, which does not exist yet:
    // the reference covers the original document as it is.
    let mut canonical = Vec::new();
    canonicalize_excluding(&doc, None, None, &exclusive(), &mut canonical)?;
    let data_digest = Digest::compute(digest, &canonical);

    let chain = description.chain.clone();
    let mut seed = data_digest.as_bytes().to_vec();
    seed.extend_from_slice(time.to_xml_datetime().as_bytes());
    seed.extend_from_slice(chain.signing_cert().der());
    let ids = Ids::new(&doc, &seed)?;

    let key_info = format!(
        "<ds:KeyInfo><ds:X509Data>{}</ds:X509Data></ds:KeyInfo>",
        chain
            .certs()
            .iter()
            .map(|c| format!("<ds:X509Certificate>{}</ds:X509Certificate>", b64(c.der())))
            .collect::<String>()
    );
    let object = format!(
        "<ds:Object><xades:QualifyingProperties Target=\"#{sig}\">\
         <xades:SignedProperties Id=\"{sp}\"><xades:SignedSignatureProperties>\
         <xades:SigningTime>{time}</xades:SigningTime>{scv2}</xades:SignedSignatureProperties>\
         <xades:SignedDataObjectProperties><xades:DataObjectFormat ObjectReference=\"#{rid}\">\
         <xades:MimeType>{mime}</xades:MimeType></xades:DataObjectFormat>\
         </xades:SignedDataObjectProperties></xades:SignedProperties>\
         </xades:QualifyingProperties></ds:Object>",
        sig = ids.signature,
        sp = ids.signed_props,
        time = time.to_xml_datetime(),
        scv2 = signing_certificate_v2(&chain, digest)?,
        rid = ids.data_ref,
        mime = escape(&options.mime_type),
    );
    let template = Template {
        signature_method,
        digest,
        data_digest: b64(data_digest.as_bytes()),
        key_info,
        object,
        ids,
    };

    let props_id = template.ids.signed_props.clone();
    let props = template.canonical_element("", |d| Ok(d.find_by_id(&props_id)?))?;
    let props_digest = b64(Digest::compute(digest, &props).as_bytes());
    let signed_info = template.canonical_element(&props_digest, |d| {
        Ok(d.elements_by_name(Some(DS_NS), "SignedInfo")
            .first()
            .copied())
    })?;
    let to_sign = Digest::compute(digest, &signed_info);
    let (head, tail) = template.split(&props_digest);
    Ok(Prepared {
        original: xml.to_vec(),
        insertion,
        head,
        tail,
        chain,
        algorithm,
        to_sign,
    })
}

impl Prepared {
    /// What the signer must sign: the digest of the canonical `ds:SignedInfo`.
    pub fn digest_to_sign(&self) -> Digest {
        self.to_sign.clone()
    }

    /// The signature scheme to ask the signer for.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// Byte range `(start, end)` of the original document that the signature replaces
    /// (empty unless the document element was self-closed): every byte before `start`
    /// and from `end` on is kept as it was.
    pub fn insertion_range(&self) -> (usize, usize) {
        (self.insertion.prefix_end, self.insertion.suffix_start)
    }

    /// Stage 2: verifies `value` against the signing certificate, converts ECDSA to
    /// `r‖s` and returns the signed document.
    pub fn finish(&self, value: &SignatureValue) -> Result<Vec<u8>, XadesError> {
        let cert = self.chain.signing_cert();
        let cms = value
            .to_cms()
            .ok_or(shomei_core::verify::VerifyError::Invalid)?;
        shomei_core::verify::verify_digest_signature(cert, self.algorithm, &self.to_sign, &cms)?;
        let field_len = match cert.key_kind()? {
            KeyKind::EcP256 => 32,
            KeyKind::EcP384 => 48,
            _ => 0,
        };
        let raw = value
            .to_xmldsig(field_len)
            .ok_or(shomei_core::verify::VerifyError::Invalid)?;
        let prefix = self.original.get(..self.insertion.prefix_end);
        let suffix = self.original.get(self.insertion.suffix_start..);
        let (Some(prefix), Some(suffix)) = (prefix, suffix) else {
            return Err(XadesError::Unsupported(
                "internal: insertion point out of range".into(),
            ));
        };
        let value_b64 = b64(&raw);
        let mut out = Vec::with_capacity(
            self.original.len() + self.head.len() + self.tail.len() + value_b64.len() + 64,
        );
        out.extend_from_slice(prefix);
        out.extend_from_slice(self.insertion.open.as_bytes());
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(value_b64.as_bytes());
        out.extend_from_slice(self.tail.as_bytes());
        out.extend_from_slice(self.insertion.close.as_bytes());
        out.extend_from_slice(suffix);
        Ok(out)
    }
}

/// Runs every stage: describe the signer, prepare, sign remotely, finish.
pub async fn sign_xml(
    signer: &dyn RemoteSigner,
    xml: &[u8],
    options: &XadesOptions,
) -> Result<Vec<u8>, XadesError> {
    let description = signer.describe().await?;
    let prepared = prepare(xml, &description, options)?;
    let value = signer
        .sign_digest(prepared.signature_algorithm(), &prepared.digest_to_sign())
        .await?;
    prepared.finish(&value)
}
