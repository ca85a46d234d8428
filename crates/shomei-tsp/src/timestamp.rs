//! The [`TimestampAuthority`] trait and [`TimestampToken`], a parsed RFC 3161 token
//! with its cryptographic checks.
//!
//! A token is a CMS `ContentInfo` whose `SignedData` encapsulates a DER `TSTInfo`
//! (RFC 3161 2.4.2):
//!
//! ```text
//! ContentInfo { id-signedData, SignedData {
//!     encapContentInfo { id-ct-TSTInfo, eContent = DER(TSTInfo) },
//!     certificates (the TSA chain when certReq was true),
//!     signerInfos { exactly one SignerInfo, by the TSA } } }
//! ```

use crate::error::TspError;
use crate::rfc3161::{oid, Accuracy, TstInfo};
use async_trait::async_trait;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode};
use shomei_core::chain::ChainCert;
use shomei_core::cms_raw::{RawCmsError, RawSignedData};
use shomei_core::{Digest, DigestAlgorithm, SignatureAlgorithm, UtcTime};
use std::time::SystemTime;
use x509_cert::attr::Attributes;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier};

pub use crate::http::{HttpTsa, HttpTsaConfig, TsaAuth, DEFAULT_TOKEN_ESTIMATE};

/// A time-stamping authority: something that turns a hash into a signed token.
///
/// Object safe: use it as `Arc<dyn TimestampAuthority>`. Implementations: [`HttpTsa`]
/// (RFC 3161 over HTTP) and, for tests, shomei-test-support's in-process TSA.
#[async_trait]
pub trait TimestampAuthority: Send + Sync {
    /// Time-stamps `imprint` (the hash of the data; the token's messageImprint).
    ///
    /// The returned token has passed [`TimestampToken::verify`] against `imprint`.
    async fn timestamp(&self, imprint: &Digest) -> Result<TimestampToken, TspError>;

    /// Bytes to reserve for the next token: learned from earlier answers (largest
    /// seen + margin), an estimate before the first.
    fn expected_token_len(&self) -> usize;
}

/// Longest certificate path [`TimestampToken::verify_chain_to`] follows. TSA chains
/// are two to four certificates long; the bound keeps the number of signature
/// checks (at most this many times the number of candidate certificates) small
/// whatever a token embeds.
pub const MAX_CHAIN_DEPTH: usize = 8;

/// An RFC 3161 time-stamp token: the DER `ContentInfo` (SignedData with eContent
/// TSTInfo), kept byte for byte, and its decoded parts.
#[derive(Clone, Debug)]
pub struct TimestampToken {
    der: Vec<u8>,
    signed_data: SignedData,
    tst_info: TstInfo,
    /// The eContent octets: the DER TSTInfo the message-digest attribute covers.
    tst_info_der: Vec<u8>,
    /// The signed attributes exactly as received, re-tagged as `SET OF` (RFC 5652
    /// 5.4): the bytes the TSA signed.
    signed_attrs_der: Option<Vec<u8>>,
    imprint: Digest,
}

impl PartialEq for TimestampToken {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for TimestampToken {}

impl TimestampToken {
    /// Parses a token (a DER `ContentInfo`). Total: any input gives a token or an
    /// error, never a panic. Errors carry the DER byte position within `der`.
    ///
    /// Structural rules checked here: content type id-signedData, eContentType
    /// id-ct-TSTInfo with the TSTInfo present, exactly one SignerInfo (RFC 3161
    /// 2.4.2), TSTInfo version 1, and a messageImprint hashed with SHA-256/384/512.
    pub fn from_der(der: &[u8]) -> Result<Self, TspError> {
        let raw = RawSignedData::walk(der).map_err(|e| match e {
            RawCmsError::Der(e) => TspError::bad_token("token structure", e),
            other => TspError::BadToken(other.to_string()),
        })?;
        let info = ContentInfo::from_der(der).map_err(|e| TspError::bad_token("ContentInfo", e))?;
        if info.content_type != oid::ID_SIGNED_DATA {
            return Err(TspError::BadToken(format!(
                "content type is {}, not id-signedData",
                info.content_type
            )));
        }
        let signed_data = SignedData::from_der(raw.signed_data)
            .map_err(|e| TspError::bad_token("SignedData", shift(e, der, raw.signed_data)))?;
        let econtent_type = signed_data.encap_content_info.econtent_type;
        if econtent_type != oid::ID_CT_TST_INFO {
            return Err(TspError::BadToken(format!(
                "encapsulated content type is {econtent_type}, not id-ct-TSTInfo"
            )));
        }
        let econtent = raw
            .econtent
            .ok_or_else(|| TspError::BadToken("the TSTInfo (eContent) is missing".into()))?;
        let tst_info = TstInfo::from_der(econtent)
            .map_err(|e| TspError::bad_token("TSTInfo", shift(e, der, econtent)))?;
        if tst_info.version != 1 {
            return Err(TspError::BadToken(format!(
                "TSTInfo version {} (expected 1)",
                tst_info.version
            )));
        }
        let count = signed_data.signer_infos.0.len();
        if count != 1 {
            return Err(TspError::BadToken(format!(
                "{count} signer infos (a token carries exactly the TSA's signature)"
            )));
        }
        let mi = &tst_info.message_imprint;
        let alg = digest_algorithm(&mi.hash_algorithm).ok_or_else(|| {
            TspError::UnsupportedAlgorithm(format!(
                "message imprint hash algorithm {} is not SHA-256/384/512",
                mi.hash_algorithm.oid
            ))
        })?;
        let imprint = Digest::new(alg, mi.hashed_message.as_bytes().to_vec()).ok_or_else(|| {
            TspError::BadToken(format!("message imprint length does not fit {alg}"))
        })?;
        Ok(Self {
            der: der.to_vec(),
            tst_info_der: econtent.to_vec(),
            signed_attrs_der: raw
                .signed_attrs_der()
                .map_err(|e| TspError::bad_token("signedAttrs", e))?,
            signed_data,
            tst_info,
            imprint,
        })
    }

    /// Parses a token taken from a file, where other producers may have written BER
    /// (indefinite lengths, constructed strings): DER is parsed as it is, anything else
    /// is converted to DER first ([`shomei_core::ber`]), and [`Self::der`] then gives
    /// the converted form. Trailing bytes after the token are ignored.
    pub fn from_ber(bytes: &[u8]) -> Result<Self, TspError> {
        match Self::from_der(bytes) {
            Ok(token) => Ok(token),
            Err(der_error) => {
                let der = shomei_core::ber::ber_to_der(bytes)
                    .map_err(|e| TspError::BadToken(format!("{der_error}; as BER: {e}")))?;
                Self::from_der(&der)
            }
        }
    }

    /// The DER `ContentInfo`, as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The decoded TSTInfo.
    pub fn tst_info(&self) -> &TstInfo {
        &self.tst_info
    }

    /// `genTime`: when the TSA made the token.
    pub fn gen_time(&self) -> SystemTime {
        self.tst_info.gen_time.to_system_time()
    }

    /// The time-stamped hash (`messageImprint`: hashAlgorithm + hashedMessage).
    pub fn imprint(&self) -> Digest {
        self.imprint.clone()
    }

    /// `serialNumber`, big-endian two's complement as encoded.
    pub fn serial(&self) -> Vec<u8> {
        self.tst_info.serial_number.as_bytes().to_vec()
    }

    /// The TSA policy the token was issued under.
    pub fn policy(&self) -> ObjectIdentifier {
        self.tst_info.policy
    }

    /// The echoed nonce (big-endian two's complement), if any.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.tst_info.nonce.as_ref().map(|n| n.as_bytes())
    }

    /// `accuracy`, if the TSA stated one.
    pub fn accuracy(&self) -> Option<Accuracy> {
        self.tst_info.accuracy
    }

    /// The certificates embedded in the token (the TSA chain when certReq was true).
    /// Entries that are not plain X.509 certificates are skipped.
    pub fn certificates(&self) -> Vec<ChainCert> {
        self.signed_data
            .certificates
            .iter()
            .flat_map(|set| set.0.iter())
            .filter_map(|c| match c {
                CertificateChoices::Certificate(cert) => ChainCert::from_decoded(cert.clone()).ok(),
                _ => None,
            })
            .collect()
    }

    /// The TSA certificate identified by the SignerInfo's `sid`, among the embedded
    /// certificates.
    pub fn signer_cert(&self) -> Option<ChainCert> {
        self.signer_cert_with(&[])
    }

    /// Like [`Self::signer_cert`], also looking in `extra` (for tokens requested with
    /// certReq false).
    pub fn signer_cert_with(&self, extra: &[ChainCert]) -> Option<ChainCert> {
        let sid = &self.signer_info()?.sid;
        self.certificates()
            .into_iter()
            .chain(extra.iter().cloned())
            .find(|c| identifies(sid, c))
    }

    /// Cryptographic checks of the token against the hash the caller time-stamped:
    ///
    /// - the SignerInfo signature over the signed attributes verifies with the TSA
    ///   certificate (found in the token by `sid`);
    /// - the content-type attribute is id-ct-TSTInfo and the message-digest attribute
    ///   equals the hash of the TSTInfo;
    /// - an ESS signing-certificate (ESSCertID, SHA-1) or signing-certificate-v2
    ///   (ESSCertIDv2) attribute names the TSA certificate (RFC 3161 2.4.1, RFC 5816);
    /// - the TSA certificate has a critical extended key usage with only
    ///   id-kp-timeStamping (RFC 3161 2.3);
    /// - the messageImprint equals `expected`.
    ///
    /// Trust is not decided here: see [`Self::verify_chain_to`].
    pub fn verify(&self, expected: &Digest) -> Result<(), TspError> {
        self.verify_with_certs(expected, &[])
    }

    /// [`Self::verify`], also looking for the TSA certificate in `extra`.
    pub fn verify_with_certs(
        &self,
        expected: &Digest,
        extra: &[ChainCert],
    ) -> Result<(), TspError> {
        let signer = self
            .signer_info()
            .ok_or_else(|| TspError::BadToken("no signer info".into()))?;
        let cert = self.signer_cert_with(extra).ok_or_else(|| {
            TspError::BadToken(
                "the TSA certificate named by the signer info is not in the token".into(),
            )
        })?;
        let attrs = signer.signed_attrs.as_ref().ok_or_else(|| {
            TspError::BadToken("no signed attributes (RFC 5652 5.3 requires them)".into())
        })?;
        let content_type: ObjectIdentifier = single_attr(attrs, oid::ID_CONTENT_TYPE)?
            .ok_or_else(|| TspError::BadToken("no content-type attribute".into()))?;
        if content_type != oid::ID_CT_TST_INFO {
            return Err(TspError::BadToken(format!(
                "content-type attribute is {content_type}, not id-ct-TSTInfo"
            )));
        }
        let digest_alg = digest_algorithm(&signer.digest_alg).ok_or_else(|| {
            TspError::UnsupportedAlgorithm(format!(
                "signer digest algorithm {} is not SHA-256/384/512",
                signer.digest_alg.oid
            ))
        })?;
        let message_digest: OctetString = single_attr(attrs, oid::ID_MESSAGE_DIGEST)?
            .ok_or_else(|| TspError::BadToken("no message-digest attribute".into()))?;
        if Digest::compute(digest_alg, &self.tst_info_der).as_bytes() != message_digest.as_bytes() {
            return Err(TspError::BadToken(
                "the message-digest attribute does not match the TSTInfo".into(),
            ));
        }
        self.verify_signature(signer, digest_alg, &cert)?;
        check_ess(attrs, &cert)?;
        check_timestamping_eku(&cert)?;
        if &self.imprint != expected {
            return Err(TspError::ImprintMismatch);
        }
        Ok(())
    }

    /// Checks a simple path from the TSA certificate through the embedded
    /// certificates to one of `roots`: each certificate's issuer name matches the
    /// next one's subject, its signature verifies with the next one's key,
    /// intermediate certificates are CAs, and every certificate (roots included) is
    /// valid at `at`. Returns the path, TSA certificate first, root last.
    ///
    /// This is not full RFC 5280 path validation (no revocation, policies, name
    /// constraints): that is the validator's job.
    pub fn verify_chain_to(
        &self,
        roots: &[ChainCert],
        at: SystemTime,
    ) -> Result<Vec<ChainCert>, TspError> {
        self.verify_chain_with(roots, &[], at)
    }

    /// [`Self::verify_chain_to`] with `extra` certificates available for the path
    /// (and for finding the TSA certificate).
    pub fn verify_chain_with(
        &self,
        roots: &[ChainCert],
        extra: &[ChainCert],
        at: SystemTime,
    ) -> Result<Vec<ChainCert>, TspError> {
        let tsa = self
            .signer_cert_with(extra)
            .ok_or_else(|| TspError::UntrustedTsa("the TSA certificate is not available".into()))?;
        let mut pool = self.certificates();
        pool.extend(extra.iter().cloned());
        let mut path = vec![tsa];
        while path.len() <= MAX_CHAIN_DEPTH {
            let Some(current) = path.last() else { break };
            check_validity(current, at)?;
            if roots.iter().any(|r| r.der() == current.der()) {
                return Ok(path);
            }
            if let Some(root) = roots.iter().find(|r| issued(current, r)) {
                check_validity(root, at)?;
                path.push(root.clone());
                return Ok(path);
            }
            let next = pool
                .iter()
                .find(|c| !path.contains(c) && is_ca(c) && issued(current, c))
                .cloned();
            match next {
                Some(c) => path.push(c),
                None => {
                    return Err(TspError::UntrustedTsa(format!(
                        "no trusted issuer found for {}",
                        current.subject()
                    )))
                }
            }
        }
        Err(TspError::UntrustedTsa(format!(
            "no path to a trusted root within {MAX_CHAIN_DEPTH} certificates"
        )))
    }

    fn signer_info(&self) -> Option<&SignerInfo> {
        self.signed_data.signer_infos.0.iter().next()
    }

    fn verify_signature(
        &self,
        signer: &SignerInfo,
        digest_alg: DigestAlgorithm,
        cert: &ChainCert,
    ) -> Result<(), TspError> {
        let signed = self
            .signed_attrs_der
            .as_ref()
            .ok_or_else(|| TspError::BadToken("no signed attributes".into()))?;
        // Many TSAs (OpenSSL among them) name the key, rsaEncryption, rather than the
        // signature scheme; the hash is then the SignerInfo's digestAlgorithm.
        let alg = if signer.signature_algorithm.oid == shomei_core::alg::oid::RSA_ENCRYPTION {
            SignatureAlgorithm::RsaPkcs1v15(digest_alg)
        } else {
            shomei_core::verify::algorithm_from_identifier(&signer.signature_algorithm)
                .map_err(|e| TspError::bad_token("signature algorithm", e))?
        };
        let digest = Digest::compute(alg.digest(), signed);
        shomei_core::verify::verify_digest_signature(
            cert,
            alg,
            &digest,
            signer.signature.as_bytes(),
        )
        .map_err(|e| TspError::bad_token("the TSA signature does not verify", e))
    }
}

/// Moves an error's position from `part`'s frame to `whole`'s (`part` lies in `whole`).
fn shift(e: der::Error, whole: &[u8], part: &[u8]) -> der::Error {
    shomei_core::cms_raw::shift(e, whole, part)
}

/// SHA-2 identified by an AlgorithmIdentifier whose parameters are absent or NULL.
fn digest_algorithm(id: &spki::AlgorithmIdentifierOwned) -> Option<DigestAlgorithm> {
    let params_ok = id.parameters.as_ref().is_none_or(|p| p.is_null());
    DigestAlgorithm::from_oid(&id.oid).filter(|_| params_ok)
}

/// The value of the attribute `oid`, which must appear at most once with one value.
fn single_attr<T>(attrs: &Attributes, oid: ObjectIdentifier) -> Result<Option<T>, TspError>
where
    T: for<'a> Decode<'a, Error = der::Error>,
{
    shomei_cms::attributes::single_attr(attrs, oid).map_err(TspError::BadToken)
}

/// Whether `sid` names `cert`.
fn identifies(sid: &SignerIdentifier, cert: &ChainCert) -> bool {
    let tbs = cert.cert().tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            &isn.issuer == tbs.issuer() && &isn.serial_number == tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if own == *ski)
        }
    }
}

/// ESS signing-certificate(-v2): the first ESSCertID must be the TSA certificate.
fn check_ess(attrs: &Attributes, cert: &ChainCert) -> Result<(), TspError> {
    use shomei_cms::ess_check::{check_signing_certificate, EssFailure};
    match check_signing_certificate(attrs, cert) {
        Ok(_) => Ok(()),
        Err(EssFailure::Absent) => Err(TspError::BadToken(
            "no ESS signing-certificate(-v2) attribute (RFC 3161 2.4.1, RFC 5816)".into(),
        )),
        Err(EssFailure::OtherCertificate(_)) => Err(TspError::BadToken(format!(
            "the ESS signing-certificate attribute does not name the TSA certificate {}",
            cert.subject()
        ))),
        Err(other) => Err(TspError::BadToken(other.to_string())),
    }
}

/// RFC 3161 2.3: the TSA certificate has exactly one extended key usage,
/// id-kp-timeStamping, and the extension is critical.
fn check_timestamping_eku(cert: &ChainCert) -> Result<(), TspError> {
    let subject = cert.subject();
    let not = |why: &str| TspError::NotTimestampingCert(format!("{subject}: {why}"));
    let mut ekus = cert
        .cert()
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == oid::ID_CE_EXT_KEY_USAGE);
    let ext = ekus
        .next()
        .ok_or_else(|| not("no extended key usage extension"))?;
    if ekus.next().is_some() {
        return Err(not("duplicate extended key usage extensions"));
    }
    if !ext.critical {
        return Err(not("the extended key usage extension is not critical"));
    }
    let eku = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
        .map_err(|e| not(&format!("extended key usage: {e}")))?;
    if eku.0 != [oid::ID_KP_TIME_STAMPING] {
        let list: Vec<String> = eku.0.iter().map(ToString::to_string).collect();
        return Err(not(&format!(
            "extended key usage is [{}], not only id-kp-timeStamping",
            list.join(", ")
        )));
    }
    Ok(())
}

fn issued(child: &ChainCert, issuer: &ChainCert) -> bool {
    let c = child.cert();
    if c.tbs_certificate().issuer() != issuer.cert().tbs_certificate().subject() {
        return false;
    }
    let Ok(tbs) = c.tbs_certificate().to_der() else {
        return false;
    };
    shomei_core::verify::verify_message(
        issuer,
        c.signature_algorithm(),
        &tbs,
        c.signature().raw_bytes(),
    )
    .is_ok()
}

fn is_ca(cert: &ChainCert) -> bool {
    matches!(
        cert.cert().tbs_certificate().get_extension::<BasicConstraints>(),
        Ok(Some((_, bc))) if bc.ca
    )
}

fn check_validity(cert: &ChainCert, at: SystemTime) -> Result<(), TspError> {
    let v = cert.cert().tbs_certificate().validity();
    if at < v.not_before.to_system_time() || at > v.not_after.to_system_time() {
        let when = UtcTime::from_system_time(at)
            .map_or_else(|| "the given time".to_string(), UtcTime::to_xml_datetime);
        return Err(TspError::UntrustedTsa(format!(
            "certificate {} is not valid at {when}",
            cert.subject()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc3161::TimeStampResp;

    // A real token from the conformance kit's certomancer TSA: tests/data/README.md.
    const KIT_TOKEN: &[u8] = include_bytes!("../tests/data/kit-token.der");
    const KIT_RESPONSE: &[u8] = include_bytes!("../tests/data/kit-response.tsr");
    const KIT_DATA: &[u8] = include_bytes!("../tests/data/kit-data.txt");
    const KIT_ROOT: &[u8] = include_bytes!("../tests/data/kit-root.cert.pem");

    fn kit_imprint() -> Digest {
        Digest::compute(DigestAlgorithm::Sha256, KIT_DATA)
    }

    /// The same value with every constructed type in indefinite-length form, as many
    /// Java producers write tokens.
    fn der_to_ber(der: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < der.len() {
            let (tag, first) = (der[pos], der[pos + 1]);
            let (len, head) = if first & 0x80 != 0 {
                let n = usize::from(first & 0x7f);
                let len = der[pos + 2..pos + 2 + n]
                    .iter()
                    .fold(0usize, |l, b| l * 256 + usize::from(*b));
                (len, 2 + n)
            } else {
                (usize::from(first), 2)
            };
            let body = &der[pos + head..pos + head + len];
            if tag & 0x20 != 0 {
                out.extend([tag, 0x80]);
                out.extend(der_to_ber(body));
                out.extend([0, 0]);
            } else {
                out.extend_from_slice(&der[pos..pos + head + len]);
            }
            pos += head + len;
        }
        out
    }

    /// Issue 9, point 4: a token written in BER is read (and verifies), not refused.
    #[test]
    fn issue9_ber_token_is_read_and_verifies() {
        let ber = der_to_ber(KIT_TOKEN);
        assert_ne!(ber, KIT_TOKEN);
        assert!(TimestampToken::from_der(&ber).is_err(), "BER is not DER");
        let token = TimestampToken::from_ber(&ber).unwrap();
        assert_eq!(token.der(), KIT_TOKEN, "converted back to the original DER");
        token.verify(&kit_imprint()).unwrap();
        assert!(!token.certificates().is_empty());
        // DER goes through unchanged, and garbage is still an error.
        assert_eq!(
            TimestampToken::from_ber(KIT_TOKEN).unwrap().der(),
            KIT_TOKEN
        );
        assert!(TimestampToken::from_ber(&ber[..ber.len() / 2]).is_err());
    }

    #[test]
    fn kit_token_parses_and_verifies() {
        let token = TimestampToken::from_der(KIT_TOKEN).unwrap();
        assert_eq!(token.der(), KIT_TOKEN);
        assert_eq!(token.imprint(), kit_imprint());
        token.verify(&kit_imprint()).unwrap();
        assert_eq!(
            token.serial(),
            [0x01, 0x62, 0x6e, 0xe3, 0x31, 0x3e, 0x2b, 0xca]
        );
        assert_eq!(token.nonce().map(<[u8]>::len), Some(8));
        let unix = token
            .gen_time()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert_eq!(unix.subsec_micros(), 557_897, "fractional genTime kept");
        let signer = token.signer_cert().unwrap();
        assert!(
            signer.subject().contains("Kit Test TSA"),
            "{}",
            signer.subject()
        );
        assert!(!token.certificates().is_empty());
        let root = shomei_core::CertificateChain::from_pem_or_der(KIT_ROOT).unwrap();
        let path = token
            .verify_chain_to(root.certs(), token.gen_time())
            .unwrap();
        assert_eq!(path.first(), Some(&signer));
        assert_eq!(path.last(), root.certs().first());
    }

    #[test]
    fn kit_response_carries_the_same_token() {
        let resp = TimeStampResp::from_der(KIT_RESPONSE).unwrap();
        assert!(resp.status.status.is_granted());
        let token = resp.time_stamp_token.unwrap().to_der().unwrap();
        assert_eq!(token, KIT_TOKEN);
    }

    #[test]
    fn kit_token_for_another_hash_is_an_imprint_mismatch() {
        let token = TimestampToken::from_der(KIT_TOKEN).unwrap();
        let other = Digest::compute(DigestAlgorithm::Sha256, b"other data");
        assert!(matches!(
            token.verify(&other),
            Err(TspError::ImprintMismatch)
        ));
        let other_alg = Digest::compute(DigestAlgorithm::Sha384, KIT_DATA);
        assert!(matches!(
            token.verify(&other_alg),
            Err(TspError::ImprintMismatch)
        ));
    }

    #[test]
    fn truncations_never_panic() {
        for len in 0..KIT_TOKEN.len() {
            let cut = KIT_TOKEN.get(..len).unwrap();
            assert!(
                TimestampToken::from_der(cut).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
        for len in 0..KIT_RESPONSE.len() {
            let cut = KIT_RESPONSE.get(..len).unwrap();
            assert!(
                TimeStampResp::from_der(cut).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
    }

    #[test]
    fn flipped_bytes_never_panic_and_signed_bytes_never_verify() {
        let token = TimestampToken::from_der(KIT_TOKEN).unwrap();
        let tst = token.tst_info_der.clone();
        let tst_at = KIT_TOKEN
            .windows(tst.len())
            .position(|w| w == tst.as_slice())
            .unwrap();
        for i in 0..KIT_TOKEN.len() {
            let mut bad = KIT_TOKEN.to_vec();
            bad[i] ^= 0x01;
            let verdict = TimestampToken::from_der(&bad).and_then(|t| t.verify(&kit_imprint()));
            // Bytes the TSA signed (TSTInfo) or the signature itself must never pass;
            // others (e.g. the unsigned digestAlgorithms set) may.
            if (tst_at..tst_at + tst.len()).contains(&i) || i >= KIT_TOKEN.len() - 256 {
                assert!(verdict.is_err(), "flipped byte {i} still verifies");
            }
        }
    }

    #[test]
    fn error_positions_count_from_the_token_start() {
        // Break the TSTInfo's inner SEQUENCE tag: the error must point into the token,
        // past the CMS wrapper, not at the start of the TSTInfo.
        let token = TimestampToken::from_der(KIT_TOKEN).unwrap();
        let tst = token.tst_info_der.clone();
        let tst_at = KIT_TOKEN
            .windows(tst.len())
            .position(|w| w == tst.as_slice())
            .unwrap();
        let mut bad = KIT_TOKEN.to_vec();
        bad[tst_at + 2] = 0x05; // version INTEGER → NULL
        let err = TimestampToken::from_der(&bad).unwrap_err().to_string();
        assert!(err.contains("TSTInfo"), "{err}");
        let pos: usize = err
            .rsplit("at DER byte ")
            .next()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no position in {err}"));
        assert!(pos >= tst_at, "{err} (TSTInfo starts at {tst_at})");
    }
}
