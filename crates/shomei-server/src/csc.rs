//! The CSC API methods, v2.0.0.2 and v1.0.4 field names side by side.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::Json;
use base64ct::{Base64, Encoding};
use serde_json::{json, Map, Value};
use shomei_core::{Digest, DigestAlgorithm, SignatureAlgorithm};
use shomei_service::{Authorize, SignHashes, User};
use std::net::SocketAddr;

/// Which CSC version a route speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// 1.0.4: `hash`, `hashAlgo`, `PIN`, `OTP`.
    V1,
    /// 2.0.0.2: `hashes`, `hashAlgorithmOID`, `authData`.
    V2,
}

type Answer = Result<Json<Value>, ApiError>;

/// Most hashes one request may carry.
const MAX_HASHES: usize = 1000;

fn version(parts: &Parts) -> Version {
    parts
        .extensions
        .get::<Version>()
        .copied()
        .unwrap_or(Version::V2)
}

pub(crate) fn client(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "-".to_string(), |c| c.0.ip().to_string())
}

fn body(bytes: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(ApiError::invalid("The request body is not a JSON object")),
    }
}

fn string<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    map.get(name).and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid(format!("Missing (or invalid type) string parameter {name}"))
    })
}

fn count(map: &Map<String, Value>, name: &str) -> Result<i64, ApiError> {
    match map.get(name) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::invalid(format!(
            "Missing (or invalid type) integer parameter {name}"
        ))
    })
}

fn base64_list(map: &Map<String, Value>, name: &str) -> Result<Vec<Vec<u8>>, ApiError> {
    let bad = || ApiError::invalid(format!("Invalid parameter {name}"));
    match map.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= MAX_HASHES => items
            .iter()
            .map(|i| {
                i.as_str()
                    .and_then(|s| Base64::decode_vec(s.trim()).ok())
                    .ok_or_else(bad)
            })
            .collect(),
        _ => Err(bad()),
    }
}

fn hash_algorithm(oid: &str) -> Result<DigestAlgorithm, ApiError> {
    oid.parse::<const_oid::ObjectIdentifier>()
        .ok()
        .and_then(|o| DigestAlgorithm::from_oid(&o))
        .ok_or_else(|| ApiError::invalid("Invalid parameter hashAlgorithmOID"))
}

/// The bearer token of the request.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| ApiError::unauthenticated("Missing bearer token"))
}

/// The bearer token's user.
pub(crate) async fn caller(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    Ok(state.service.token_user(bearer(headers)?).await?)
}

pub(crate) async fn ready(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state
        .service
        .ping()
        .await
        .map_err(|_| ApiError::unavailable())?;
    Ok("ready")
}

pub(crate) async fn info(State(state): State<AppState>, parts: Parts) -> Answer {
    let v = version(&parts);
    let specs = match v {
        Version::V1 => "1.0.4.0",
        Version::V2 => "2.0.0.2",
    };
    Ok(Json(json!({
        "specs": specs,
        "name": state.name,
        "logo": "",
        "region": "JP",
        "lang": "en-US",
        "description": "shomei remote signing service",
        "authType": ["basic"],
        "methods": [
            "auth/login", "auth/revoke", "credentials/list", "credentials/info",
            "credentials/authorize", "signatures/signHash", "signatures/timestamp"
        ],
    })))
}

pub(crate) async fn login(State(state): State<AppState>, parts: Parts) -> Answer {
    let basic = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| Base64::decode_vec(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .map(zeroize::Zeroizing::new)
        .ok_or_else(|| ApiError::unauthenticated("HTTP Basic authentication is required"))?;
    let (name, password) = basic
        .split_once(':')
        .ok_or_else(|| ApiError::unauthenticated("Malformed Basic credentials"))?;
    let session = state.service.login(name, password, &client(&parts)).await?;
    Ok(Json(json!({
        "access_token": session.token.as_str(),
        "expires_in": session.expires_in,
    })))
}

pub(crate) async fn revoke(State(state): State<AppState>, parts: Parts, bytes: Bytes) -> Answer {
    let map = body(&bytes)?;
    let bearer = bearer(&parts.headers)?;
    // A token named in the body must be the caller's own.
    let token = map.get("token").and_then(Value::as_str).unwrap_or(bearer);
    let caller = state.service.token_user(bearer).await?;
    let owner = state.service.token_user(token).await?;
    if caller != owner {
        return Err(ApiError::invalid("Invalid parameter token"));
    }
    state.service.revoke_token(token).await?;
    Ok(Json(json!({})))
}

pub(crate) async fn list(State(state): State<AppState>, parts: Parts) -> Answer {
    let user = caller(&state, &parts.headers).await?;
    let ids: Vec<String> = state
        .service
        .credentials_of(&user)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    Ok(Json(json!({ "credentialIDs": ids })))
}

fn generalized(t: &x509_cert::time::Time) -> String {
    format!(
        "{}Z",
        shomei_core::time::generalized_digits(&t.to_date_time())
    )
}

pub(crate) async fn credential_info(
    State(state): State<AppState>,
    parts: Parts,
    bytes: Bytes,
) -> Answer {
    let v = version(&parts);
    let user = caller(&state, &parts.headers).await?;
    let map = body(&bytes)?;
    let id = string(&map, "credentialID")?;
    let info = state.service.credential_info(&user, id).await?;
    let which = map
        .get("certificates")
        .and_then(Value::as_str)
        .unwrap_or("single");
    let cert_info = map
        .get("certInfo")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut key = Map::new();
    key.insert(
        "status".into(),
        json!(if info.state == "active" {
            "enabled"
        } else {
            "disabled"
        }),
    );
    let mut cert = Map::new();
    cert.insert(
        "status".into(),
        json!(if info.chain.is_some() {
            "valid"
        } else {
            "expired"
        }),
    );
    if let Some(chain) = &info.chain {
        let signing = chain.signing_cert();
        let kind = signing
            .key_kind()
            .map_err(|e| ApiError::from(shomei_service::ServiceError::Internal(e.to_string())))?;
        let mut algos: Vec<String> = Vec::new();
        for a in kind.signature_algorithms() {
            let oid = a.oid().to_string();
            if !algos.contains(&oid) {
                algos.push(oid);
            }
        }
        key.insert("algo".into(), json!(algos));
        let len = match kind {
            shomei_core::KeyKind::Rsa { bits } => bits,
            shomei_core::KeyKind::EcP256 => 256,
            _ => 384,
        };
        key.insert("len".into(), json!(len));
        let certs: Vec<String> = match which {
            "none" => Vec::new(),
            "chain" => chain
                .certs()
                .iter()
                .map(|c| Base64::encode_string(c.der()))
                .collect(),
            _ => vec![Base64::encode_string(signing.der())],
        };
        cert.insert("certificates".into(), json!(certs));
        if cert_info {
            let tbs = signing.cert().tbs_certificate();
            cert.insert("subjectDN".into(), json!(signing.subject()));
            cert.insert("issuerDN".into(), json!(tbs.issuer().to_string()));
            cert.insert(
                "serialNumber".into(),
                json!(tbs.serial_number().to_string()),
            );
            cert.insert(
                "validFrom".into(),
                json!(generalized(&tbs.validity().not_before)),
            );
            cert.insert(
                "validTo".into(),
                json!(generalized(&tbs.validity().not_after)),
            );
        }
    }
    let mut out = Map::new();
    out.insert(
        "description".into(),
        json!(format!("{} key of {}", info.key.name(), user.name)),
    );
    out.insert("key".into(), Value::Object(key));
    out.insert("cert".into(), Value::Object(cert));
    out.insert("SCAL".into(), json!(info.scal.to_string()));
    out.insert("multisign".into(), json!(info.multisign));
    out.insert("lang".into(), json!("en-US"));
    match v {
        Version::V1 => {
            out.insert("authMode".into(), json!("explicit"));
            out.insert(
                "PIN".into(),
                json!({ "presence": "true", "format": "N", "label": "PIN" }),
            );
            out.insert(
                "OTP".into(),
                json!({
                    "presence": "true", "type": "offline", "format": "N", "ID": "totp",
                    "provider": "shomei", "label": "One-time password (authenticator app)"
                }),
            );
        }
        Version::V2 => {
            out.insert(
                "auth".into(),
                json!({
                    "mode": "explicit",
                    "expression": "PIN AND OTP",
                    "objects": [
                        { "type": "Password", "id": "PIN", "format": "N", "label": "PIN" },
                        { "type": "OTP", "id": "OTP", "format": "N", "generator": "totp",
                          "label": "One-time password (authenticator app)" }
                    ]
                }),
            );
        }
    }
    Ok(Json(Value::Object(out)))
}

pub(crate) async fn authorize(State(state): State<AppState>, parts: Parts, bytes: Bytes) -> Answer {
    let v = version(&parts);
    let user = caller(&state, &parts.headers).await?;
    let map = body(&bytes)?;
    let id = string(&map, "credentialID")?.to_owned();
    let num = count(&map, "numSignatures")?;
    let (hashes, algorithm, pin, otp) = match v {
        Version::V1 => {
            let hashes = base64_list(&map, "hash")?;
            // 1.0.4 names no hash algorithm here: it follows from the hash length.
            let algorithm = hashes.first().and_then(|h| {
                DigestAlgorithm::ALL
                    .into_iter()
                    .find(|a| a.output_len() == h.len())
            });
            let pin = map.get("PIN").and_then(Value::as_str).unwrap_or("");
            let otp = map.get("OTP").and_then(Value::as_str).unwrap_or("");
            (hashes, algorithm, pin.to_owned(), otp.to_owned())
        }
        Version::V2 => {
            let hashes = base64_list(&map, "hashes")?;
            let algorithm = match map.get("hashAlgorithmOID").and_then(Value::as_str) {
                Some(oid) => Some(hash_algorithm(oid)?),
                None if hashes.is_empty() => None,
                None => return Err(ApiError::invalid("Missing parameter hashAlgorithmOID")),
            };
            let mut pin = String::new();
            let mut otp = String::new();
            if let Some(Value::Array(items)) = map.get("authData") {
                for item in items {
                    let id = item.get("id").and_then(Value::as_str).unwrap_or("");
                    let value = item.get("value").and_then(Value::as_str).unwrap_or("");
                    match id {
                        "PIN" => pin = value.to_owned(),
                        "OTP" => otp = value.to_owned(),
                        _ => {}
                    }
                }
            }
            (hashes, algorithm, pin, otp)
        }
    };
    let (pin, otp) = (zeroize::Zeroizing::new(pin), zeroize::Zeroizing::new(otp));
    let sad = state
        .service
        .authorize(
            &user,
            &Authorize {
                credential_id: &id,
                pin: &pin,
                otp: &otp,
                possession_verified: false,
                hash_algorithm: algorithm,
                hashes: &hashes,
                num_signatures: num,
                client: &client(&parts),
            },
        )
        .await?;
    Ok(Json(
        json!({ "SAD": sad.sad.as_str(), "expiresIn": sad.expires_in }),
    ))
}

/// The signature algorithm a `signAlgo` OID (with its parameters) and the hash name.
fn signature_algorithm(
    sign_algo: &str,
    params: Option<&str>,
    hash: DigestAlgorithm,
) -> Result<SignatureAlgorithm, ApiError> {
    use shomei_core::alg::oid;
    let bad = || ApiError::invalid("Invalid parameter signAlgo");
    let o: const_oid::ObjectIdentifier = sign_algo.parse().map_err(|_| bad())?;
    if o == oid::RSA_ENCRYPTION {
        return Ok(SignatureAlgorithm::RsaPkcs1v15(hash));
    }
    if o == oid::EC_PUBLIC_KEY {
        return Ok(SignatureAlgorithm::Ecdsa(hash));
    }
    let parameters = match params {
        Some(b64) => {
            let der = Base64::decode_vec(b64.trim())
                .map_err(|_| ApiError::invalid("Invalid parameter signAlgoParams"))?;
            Some(
                <der::asn1::Any as der::Decode>::from_der(&der)
                    .map_err(|_| ApiError::invalid("Invalid parameter signAlgoParams"))?,
            )
        }
        None => None,
    };
    let id = spki_id(o, parameters);
    let alg = shomei_core::verify::algorithm_from_identifier(&id).map_err(|_| bad())?;
    if alg.digest() != hash {
        return Err(ApiError::invalid(
            "Invalid parameter signAlgo: its hash is not hashAlgorithmOID",
        ));
    }
    Ok(alg)
}

fn spki_id(
    oid: const_oid::ObjectIdentifier,
    parameters: Option<der::asn1::Any>,
) -> spki::AlgorithmIdentifierOwned {
    spki::AlgorithmIdentifierOwned { oid, parameters }
}

pub(crate) async fn sign_hash(State(state): State<AppState>, parts: Parts, bytes: Bytes) -> Answer {
    let v = version(&parts);
    // The token is checked with the credential and the SAD, in the group commit.
    let token = bearer(&parts.headers)?;
    let map = body(&bytes)?;
    let id = string(&map, "credentialID")?.to_owned();
    let sad = zeroize::Zeroizing::new(string(&map, "SAD")?.to_owned());
    let (hash_field, alg_field) = match v {
        Version::V1 => ("hash", "hashAlgo"),
        Version::V2 => ("hashes", "hashAlgorithmOID"),
    };
    let hashes = base64_list(&map, hash_field)?;
    if hashes.is_empty() {
        return Err(ApiError::invalid(format!("Missing parameter {hash_field}")));
    }
    let hash = hash_algorithm(string(&map, alg_field)?)?;
    let algorithm = signature_algorithm(
        string(&map, "signAlgo")?,
        map.get("signAlgoParams").and_then(Value::as_str),
        hash,
    )?;
    let signatures = state
        .service
        .sign_hashes_with_token(
            token,
            &SignHashes {
                credential_id: &id,
                sad: &sad,
                hashes: &hashes,
                algorithm,
            },
        )
        .await?;
    state
        .metrics
        .signatures
        .inc_by(u64::try_from(signatures.len()).unwrap_or(0));
    let out: Vec<String> = signatures
        .iter()
        .map(|s| Base64::encode_string(s))
        .collect();
    Ok(Json(json!({ "signatures": out })))
}

pub(crate) async fn timestamp(State(state): State<AppState>, parts: Parts, bytes: Bytes) -> Answer {
    let v = version(&parts);
    let _user = caller(&state, &parts.headers).await?;
    let map = body(&bytes)?;
    let tsa = state
        .tsa
        .as_ref()
        .ok_or_else(|| ApiError::invalid("No time-stamping authority is configured"))?;
    let alg_field = match v {
        Version::V1 => "hashAlgo",
        Version::V2 => "hashAlgorithmOID",
    };
    let alg = hash_algorithm(string(&map, alg_field)?)?;
    let hash = Base64::decode_vec(string(&map, "hash")?.trim())
        .map_err(|_| ApiError::invalid("Invalid parameter hash"))?;
    let digest =
        Digest::new(alg, hash).ok_or_else(|| ApiError::invalid("Invalid parameter hash"))?;
    let token = tsa.timestamp(&digest).await.map_err(|e| {
        eprintln!("shomei-server: time-stamping authority: {e}");
        ApiError::invalid("The time-stamping authority failed")
    })?;
    Ok(Json(
        json!({ "timestamp": Base64::encode_string(token.der()) }),
    ))
}

/// Largest `signatures/signDoc` body: the documents travel base64-encoded in the JSON.
pub(crate) const MAX_SIGN_DOC_BODY: usize = 64 << 20;

/// `signatures/signDoc` (v2): the service builds PAdES (`signature_format` `P`) or
/// XAdES (`X`) signatures at `conformance_level` `Ades-B-B` … `Ades-B-LTA`, under a
/// SAD bound to the documents' hashes (`hashAlgorithmOID`, SHA-256 by default, over
/// each document's bytes, in order). Answers `DocumentWithSignature`.
pub(crate) async fn sign_doc(State(state): State<AppState>, parts: Parts, bytes: Bytes) -> Answer {
    use shomei_service::documents::SignDocRequest;
    let token = bearer(&parts.headers)?;
    let desk = state
        .documents
        .clone()
        .ok_or_else(|| ApiError::invalid("This service does not sign documents"))?;
    let map = body(&bytes)?;
    let id = string(&map, "credentialID")?.to_owned();
    let sad = zeroize::Zeroizing::new(string(&map, "SAD")?.to_owned());
    let hash = match map.get("hashAlgorithmOID").and_then(Value::as_str) {
        Some(oid) => hash_algorithm(oid)?,
        None => DigestAlgorithm::Sha256,
    };
    let items = match map.get("documents") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(ApiError::invalid("Missing parameter documents")),
    };
    let mut docs = Vec::with_capacity(items.len());
    for item in items {
        let field = |name: &str| item.get(name).and_then(Value::as_str);
        let data = field("document")
            .and_then(|d| Base64::decode_vec(d.trim()).ok())
            .ok_or_else(|| ApiError::invalid("Invalid parameter document"))?;
        let pdf = match field("signature_format") {
            Some("P") => true,
            Some("X") => false,
            _ => {
                return Err(ApiError::invalid(
                    "Invalid parameter signature_format: P (PAdES) or X (XAdES)",
                ))
            }
        };
        let level = match field("conformance_level").unwrap_or("Ades-B-B") {
            "Ades-B-B" | "AdES-B-B" => shomei_core::Level::BB,
            "Ades-B-T" | "AdES-B-T" => shomei_core::Level::BT,
            "Ades-B-LT" | "AdES-B-LT" => shomei_core::Level::BLT,
            "Ades-B-LTA" | "AdES-B-LTA" => shomei_core::Level::BLTA,
            _ => return Err(ApiError::invalid(
                "Invalid parameter conformance_level: Ades-B-B, Ades-B-T, Ades-B-LT or Ades-B-LTA",
            )),
        };
        let packaging = match field("signed_envelope_property") {
            None | Some("Enveloped") | Some("Certification") | Some("Revision") => None,
            Some("Enveloping") if !pdf => Some("enveloping".to_string()),
            Some("Detached") if !pdf => Some("detached".to_string()),
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "Invalid parameter signed_envelope_property: {other}"
                )))
            }
        };
        docs.push(SignDocRequest {
            data,
            pdf,
            level,
            packaging,
        });
    }
    let signed = state
        .service
        .sign_documents(token, &desk, &id, &sad, hash, &docs)
        .await?;
    state
        .metrics
        .signatures
        .inc_by(u64::try_from(signed.len()).unwrap_or(0));
    let out: Vec<String> = signed.iter().map(|d| Base64::encode_string(d)).collect();
    Ok(Json(
        json!({ "DocumentWithSignature": out, "SignatureObject": [] }),
    ))
}
