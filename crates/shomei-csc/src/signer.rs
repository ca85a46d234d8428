//! [`CscSigner`]: a CSC credential behind the [`RemoteSigner`] trait.

use crate::algo::{offers, Offer};
use crate::client::{CallCounts, Client, Method};
use crate::config::{CscAuth, CscConfig, CscVersion};
use crate::error::CscError;
use crate::wire::{self, AuthMode, CredentialInfo, Scal};
use async_trait::async_trait;
use shomei_core::chain::ChainCert;
use shomei_core::{
    CertificateChain, Clock, Digest, HttpTransport, KeyKind, RemoteSigner, SignatureAlgorithm,
    SignatureValue, SignerDescription, SignerError, SystemClock,
};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use zeroize::Zeroizing;

/// Most digests one [`CscSigner::sign`] call accepts. A document batch signs one
/// digest per document; CSC services cap one authorization far lower (`multisign`
/// is typically 1 to 100), so more than this is a caller's mistake, not a batch.
pub const MAX_DIGESTS: usize = 1000;

/// `expiresIn` when `credentials/authorize` gives none (CSC 1.0.4 and 2.0.0.2:
/// "default value is 3600").
pub const DEFAULT_SAD_LIFETIME: u64 = 3600;

/// A credential of a Cloud Signature Consortium service.
///
/// [`CscSigner::connect`] reads the service's `info` and the credential's
/// `credentials/info` once; [`RemoteSigner::sign_digests`] then makes one
/// `credentials/authorize` and one `signatures/signHash` per batch — or, when the
/// credential's `multisign` is smaller than the batch, one pair per `multisign`
/// digests (see [`CscSigner::calls`]).
pub struct CscSigner {
    client: Client,
    config: CscConfig,
    info: CredentialInfo,
    kind: KeyKind,
    offers: Vec<Offer>,
    description: SignerDescription,
}

impl fmt::Debug for CscSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CscSigner")
            .field("config", &self.config)
            .field("key", &self.kind)
            .field("algorithms", &self.description.algorithms)
            .field("calls", &self.client.counts())
            .finish_non_exhaustive()
    }
}

impl CscSigner {
    /// Connects with the system clock: see [`Self::connect_with_clock`].
    pub async fn connect(
        transport: Arc<dyn HttpTransport>,
        config: CscConfig,
    ) -> Result<Self, CscError> {
        Self::connect_with_clock(transport, config, Arc::new(SystemClock)).await
    }

    /// Calls `info` and `credentials/info`: learns the certificate chain, the key's
    /// algorithms, the authorization mode, SCAL and `multisign`. `clock` times the
    /// SAD and the OAuth 2.0 token.
    ///
    /// # Errors
    /// [`CscError::Unreachable`] when the service cannot be reached;
    /// [`CscError::Config`] when it speaks another API version than configured;
    /// [`CscError::UnknownCredential`]; [`CscError::KeyUnusable`] for a disabled
    /// key, a certificate that is not valid, no certificate, or no algorithm this
    /// library signs with; [`CscError::Server`] / [`CscError::Unauthorized`] for
    /// other HTTP errors (with the server's `error_description`);
    /// [`CscError::BadResponse`] for a malformed answer.
    pub async fn connect_with_clock(
        transport: Arc<dyn HttpTransport>,
        config: CscConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CscError> {
        let client = Client::new(
            transport,
            &config.base_url,
            config.version,
            config.auth.clone(),
            clock,
        )?;
        let secrets = config.secrets();
        check_service(&client, &secrets).await?;

        let id = config.credential_id.as_str();
        let body = to_json(&wire::InfoRequest {
            credential_id: id,
            certificates: "chain",
            auth_info: true,
        })?;
        let answer = client
            .call(Method::CredentialsInfo, body, Some(id), &secrets)
            .await?;
        let info = wire::parse_credential_info(config.version, &answer)?;
        let unusable = |reason: String| CscError::KeyUnusable {
            credential_id: id.to_string(),
            reason,
        };

        if !info.key_status.eq_ignore_ascii_case("enabled") {
            return Err(unusable(format!("key status \"{}\"", info.key_status)));
        }
        if let Some(status) = &info.cert_status {
            if !status.eq_ignore_ascii_case("valid") {
                return Err(unusable(format!("certificate status \"{status}\"")));
            }
        }
        match &info.auth_mode {
            AuthMode::Implicit | AuthMode::Explicit => {}
            AuthMode::OAuth2Code => {
                return Err(CscError::Config(format!(
                    "credential {id} is authorized through an OAuth 2.0 authorization code \
                     (authMode oauth2code), which needs a user at a browser; this client \
                     supports implicit and explicit (PIN/OTP) authorization"
                )))
            }
            AuthMode::Other(m) => {
                return Err(CscError::Config(format!(
                    "credential {id} uses the unknown authorization mode \"{m}\""
                )))
            }
        }
        if info.certificates.is_empty() {
            return Err(unusable("the service returned no certificate".into()));
        }
        let certs = info
            .certificates
            .iter()
            .enumerate()
            .map(|(i, der)| {
                ChainCert::from_der(der).map_err(|e| CscError::BadResponse {
                    method: Method::CredentialsInfo.path(),
                    message: format!("cert.certificates[{i}] is not an X.509 certificate: {e}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let chain = CertificateChain::new(certs).map_err(|e| unusable(e.to_string()))?;
        let kind = chain
            .signing_cert()
            .key_kind()
            .map_err(|e| unusable(e.to_string()))?;
        let offers = offers(&info.key_algorithms, kind);
        if offers.is_empty() {
            return Err(unusable(format!(
                "none of its algorithms [{}] is one shomei signs with for a {kind} key",
                info.key_algorithms.join(", ")
            )));
        }
        let max_len = max_signature_len(info.key_len, kind);
        let description =
            SignerDescription::new(chain, offers.iter().map(|o| o.algorithm).collect(), max_len);
        Ok(Self {
            client,
            config,
            info,
            kind,
            offers,
            description,
        })
    }

    /// How many calls this signer made so far, `connect` included.
    pub fn calls(&self) -> CallCounts {
        self.client.counts()
    }

    /// What `credentials/info` said about the credential.
    pub fn credential(&self) -> &CredentialInfo {
        &self.info
    }

    /// The configuration.
    pub fn config(&self) -> &CscConfig {
        &self.config
    }

    /// Signs `digests` with `algorithm`: [`RemoteSigner::sign_digests`] with the
    /// typed error.
    ///
    /// One `credentials/authorize` (`numSignatures` = the number of digests; the
    /// hashes too when the credential is SCAL 2) and one `signatures/signHash`
    /// under the SAD it returns. When the credential's `multisign` is smaller than
    /// the batch, the batch is cut into chunks of `multisign` digests, each with
    /// its own authorization. When the SAD's `expiresIn` has passed before
    /// `signHash`, the client authorizes once more if that needs no OTP, and
    /// fails with [`CscError::SadExpired`] otherwise. Neither call is ever retried.
    ///
    /// # Errors
    /// [`CscError::UnsupportedAlgorithm`], [`CscError::DigestMismatch`],
    /// [`CscError::TooManyDigests`] before any call; [`CscError::SecretMissing`],
    /// [`CscError::WrongPinOrOtp`], [`CscError::SadInvalid`],
    /// [`CscError::SadExpired`], [`CscError::CountMismatch`],
    /// [`CscError::BadSignature`] and the HTTP errors of [`Self::connect`].
    pub async fn sign(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, CscError> {
        if digests.len() > MAX_DIGESTS {
            return Err(CscError::TooManyDigests {
                requested: digests.len(),
                limit: MAX_DIGESTS,
            });
        }
        let offer = self
            .offers
            .iter()
            .find(|o| o.algorithm == algorithm)
            .ok_or(CscError::UnsupportedAlgorithm(algorithm))?;
        let wanted = algorithm.digest();
        if digests
            .iter()
            .any(|d| d.algorithm() != wanted || d.as_bytes().len() != wanted.output_len())
        {
            return Err(CscError::DigestMismatch(wanted));
        }
        let chunk_len = self.info.multisign.clamp(1, MAX_DIGESTS);
        let mut out = Vec::with_capacity(digests.len());
        for chunk in digests.chunks(chunk_len) {
            let mut activation = self.authorize(algorithm, chunk).await?;
            if self.client.clock.now() >= activation.expires_at {
                if activation.used_otp {
                    return Err(CscError::SadExpired);
                }
                activation = self.authorize(algorithm, chunk).await?;
                if self.client.clock.now() >= activation.expires_at {
                    return Err(CscError::SadExpired);
                }
            }
            let raw = self.sign_hash(offer, chunk, &activation.sad).await?;
            for (i, value) in raw.into_iter().enumerate() {
                let index = out.len().saturating_add(i);
                out.push(self.signature_value(index, value)?);
            }
        }
        Ok(out)
    }

    /// `credentials/authorize` for `chunk`.
    async fn authorize(
        &self,
        algorithm: SignatureAlgorithm,
        chunk: &[Digest],
    ) -> Result<Activation, CscError> {
        let id = self.config.credential_id.as_str();
        let (pin, otp) = self.secrets_to_send()?;
        let hashes = (self.info.scal == Scal::Two).then(|| {
            chunk
                .iter()
                .map(|d| wire::encode_base64(d.as_bytes()))
                .collect::<Vec<_>>()
        });
        let body = match self.config.version {
            CscVersion::V1 => to_json(&wire::AuthorizeV1 {
                credential_id: id,
                num_signatures: chunk.len(),
                hash: hashes,
                pin: pin.map(|(_, v)| v),
                otp: otp.map(|(_, v)| v),
            })?,
            CscVersion::V2 => {
                let hash_algorithm_oid = hashes
                    .as_ref()
                    .map(|_| algorithm.digest().oid().to_string());
                let auth_data = pin
                    .iter()
                    .chain(otp.iter())
                    .map(|(id, value)| wire::AuthData { id, value })
                    .collect();
                to_json(&wire::AuthorizeV2 {
                    credential_id: id,
                    num_signatures: chunk.len(),
                    hashes,
                    hash_algorithm_oid,
                    auth_data,
                })?
            }
        };
        let body = Zeroizing::new(body);
        let answer = self
            .client
            .call(
                Method::Authorize,
                body.to_vec(),
                Some(id),
                &self.config.secrets(),
            )
            .await?;
        let authorization = wire::parse_authorize(&answer)?;
        let lifetime =
            Duration::from_secs(authorization.expires_in.unwrap_or(DEFAULT_SAD_LIFETIME));
        let now = self.client.clock.now();
        Ok(Activation {
            sad: authorization.sad,
            expires_at: now.checked_add(lifetime).unwrap_or(now),
            used_otp: otp.is_some(),
        })
    }

    /// The PIN and OTP to send, with the ids they go under, for explicit mode.
    #[allow(clippy::type_complexity)]
    fn secrets_to_send(&self) -> Result<(Option<(&str, &str)>, Option<(&str, &str)>), CscError> {
        if self.info.auth_mode != AuthMode::Explicit {
            return Ok((None, None));
        }
        let missing = |what| CscError::SecretMissing {
            credential_id: self.config.credential_id.clone(),
            what,
        };
        let pin = pick(&self.info.pin, &self.config.pin).ok_or_else(|| missing("a PIN"))?;
        let otp = pick(&self.info.otp, &self.config.otp).ok_or_else(|| missing("an OTP"))?;
        if pin.is_none() && otp.is_none() {
            return Err(missing(
                if self.info.pin.is_some() || self.info.otp.is_none() {
                    "a PIN"
                } else {
                    "an OTP"
                },
            ));
        }
        Ok((pin, otp))
    }

    /// `signatures/signHash` for `chunk` under `sad`.
    async fn sign_hash(
        &self,
        offer: &Offer,
        chunk: &[Digest],
        sad: &Zeroizing<String>,
    ) -> Result<Vec<Vec<u8>>, CscError> {
        let id = self.config.credential_id.as_str();
        let hashes: Vec<String> = chunk
            .iter()
            .map(|d| wire::encode_base64(d.as_bytes()))
            .collect();
        let hash_oid = offer.algorithm.digest().oid().to_string();
        let sign_algo = offer.sign_algo.clone();
        let sign_algo_params = offer
            .algorithm
            .pss_params_der()
            .map(|der| wire::encode_base64(&der));
        let body = match self.config.version {
            CscVersion::V1 => to_json(&wire::SignHashV1 {
                credential_id: id,
                sad,
                hash: hashes,
                hash_algo: hash_oid,
                sign_algo,
                sign_algo_params,
            })?,
            CscVersion::V2 => to_json(&wire::SignHashV2 {
                credential_id: id,
                sad,
                hashes,
                hash_algorithm_oid: hash_oid,
                sign_algo,
                sign_algo_params,
            })?,
        };
        let body = Zeroizing::new(body);
        let mut secrets = self.config.secrets();
        secrets.push(sad.as_str());
        let answer = self
            .client
            .call(Method::SignHash, body.to_vec(), Some(id), &secrets)
            .await?;
        wire::parse_sign_hash(&answer, chunk.len())
    }

    /// Types a raw value: RSA as is; ECDSA as DER when it parses as
    /// `Ecdsa-Sig-Value`, as `r‖s` when it has twice the field length.
    fn signature_value(&self, index: usize, value: Vec<u8>) -> Result<SignatureValue, CscError> {
        let bad = |message: String| CscError::BadSignature { index, message };
        match self.kind {
            KeyKind::Rsa { bits } => {
                let modulus = usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX);
                if value.is_empty() || value.len() > modulus {
                    return Err(bad(format!("{} bytes for an RSA-{bits} key", value.len())));
                }
                Ok(SignatureValue::Rsa(value))
            }
            KeyKind::EcP256 | KeyKind::EcP384 => {
                let field = if self.kind == KeyKind::EcP256 { 32 } else { 48 };
                if shomei_core::ecdsa::der_to_fixed(&value, field).is_some() {
                    Ok(SignatureValue::EcdsaDer(value))
                } else if value.len() == field * 2 {
                    Ok(SignatureValue::EcdsaFixed(value))
                } else {
                    Err(bad(format!(
                        "{} bytes are neither an ECDSA DER signature nor r‖s for {}",
                        value.len(),
                        self.kind
                    )))
                }
            }
            other => Err(bad(format!("unsupported key {other}"))),
        }
    }
}

/// The id and value to send for one secret: `Some(None)` when it is neither asked
/// for nor given (or optional and not given), `None` when it is required but missing.
#[allow(clippy::type_complexity)]
fn pick<'a>(
    input: &'a Option<wire::AuthInput>,
    value: &'a Option<Zeroizing<String>>,
) -> Option<Option<(&'a str, &'a str)>> {
    match (input, value) {
        (Some(input), Some(value)) => Some(Some((input.id.as_str(), value.as_str()))),
        (Some(input), None) if input.required => None,
        _ => Some(None),
    }
}

/// A SAD and when it runs out.
struct Activation {
    sad: Zeroizing<String>,
    expires_at: SystemTime,
    used_otp: bool,
}

/// `info`: checks the version the service speaks and that it signs hashes.
async fn check_service(client: &Client, secrets: &[&str]) -> Result<(), CscError> {
    let answer = client
        .call(Method::Info, b"{}".to_vec(), None, secrets)
        .await?;
    let info = wire::parse_info(&answer)?;
    if let Some(specs) = &info.specs {
        let major = specs.trim().split('.').next().unwrap_or_default();
        if !major.is_empty() && major != client.version.major() {
            return Err(CscError::Config(format!(
                "{} speaks CSC API {} but {} was configured",
                client.base_url(),
                crate::error::clean(specs, secrets),
                client.version
            )));
        }
    }
    if !info.methods.is_empty() && !info.methods.iter().any(|m| m == "signatures/signHash") {
        return Err(CscError::Config(format!(
            "{} does not offer signatures/signHash",
            client.base_url()
        )));
    }
    Ok(())
}

/// Longest signature value, from `key.len` and the certificate's key (the larger).
fn max_signature_len(key_len: Option<u32>, kind: KeyKind) -> usize {
    let from_cert = kind.max_signature_len();
    let from_len = key_len
        .filter(|bits| (160..=16384).contains(bits))
        .and_then(|bits| usize::try_from(bits.div_ceil(8)).ok())
        .map(|bytes| match kind {
            KeyKind::Rsa { .. } => bytes,
            // SEQUENCE of two INTEGERs, each up to the field size plus a sign byte.
            _ => bytes.saturating_add(1).saturating_mul(2).saturating_add(6),
        })
        .unwrap_or(0);
    from_cert.max(from_len)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, CscError> {
    serde_json::to_vec(value).map_err(|e| CscError::Config(format!("request encoding: {e}")))
}

/// The credential IDs the service lists for the authorized user
/// (`credentials/list`, following 1.0.4's `nextPageToken` pages).
///
/// # Errors
/// As for [`CscSigner::connect`].
pub async fn list_credentials(
    transport: Arc<dyn HttpTransport>,
    base_url: &str,
    version: CscVersion,
    auth: &CscAuth,
) -> Result<Vec<String>, CscError> {
    let client = Client::new(
        transport,
        base_url,
        version,
        auth.clone(),
        Arc::new(SystemClock),
    )?;
    let mut ids: Vec<String> = Vec::new();
    let mut page: Option<String> = None;
    // Bounded: a service that keeps sending page tokens stops at the ID limit.
    for _ in 0..100 {
        let body = to_json(&wire::ListRequest {
            max_results: None,
            page_token: page.as_deref(),
        })?;
        let answer = client
            .call(Method::CredentialsList, body, None, &[])
            .await?;
        let (more, next) = wire::parse_credential_list(&answer)?;
        ids.extend(more);
        if ids.len() > wire::MAX_CREDENTIAL_IDS {
            return Err(CscError::BadResponse {
                method: Method::CredentialsList.path(),
                message: format!("more than {} credentials", wire::MAX_CREDENTIAL_IDS),
            });
        }
        match next {
            Some(token) if version == CscVersion::V1 && page.as_deref() != Some(&token) => {
                page = Some(token);
            }
            _ => break,
        }
    }
    Ok(ids)
}

#[async_trait]
impl RemoteSigner for CscSigner {
    async fn describe(&self) -> Result<SignerDescription, SignerError> {
        Ok(self.description.clone())
    }

    async fn sign_digests(
        &self,
        algorithm: SignatureAlgorithm,
        digests: &[Digest],
    ) -> Result<Vec<SignatureValue>, SignerError> {
        self.sign(algorithm, digests)
            .await
            .map_err(SignerError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_lengths() {
        assert_eq!(
            max_signature_len(Some(2048), KeyKind::Rsa { bits: 2048 }),
            256
        );
        assert_eq!(max_signature_len(Some(256), KeyKind::EcP256), 72);
        assert_eq!(max_signature_len(Some(384), KeyKind::EcP384), 104);
        assert_eq!(max_signature_len(None, KeyKind::Rsa { bits: 3072 }), 384);
        assert_eq!(
            max_signature_len(Some(4096), KeyKind::Rsa { bits: 2048 }),
            512
        );
        assert_eq!(max_signature_len(Some(u32::MAX), KeyKind::EcP256), 72);
    }
}
