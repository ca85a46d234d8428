//! An in-process CSC service double (axum on 127.0.0.1:0) holding the test PKI's
//! software keys. It checks the field names of its API version strictly (a 1.0.4
//! name sent to the 2.0.0.2 double is refused, and the reverse), counts calls per
//! method, records request bodies, and can be told to misbehave.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions,
    clippy::result_large_err
)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use shomei_core::alg::oid;
use shomei_core::{Digest, DigestAlgorithm, SignatureAlgorithm, SignatureValue};
use shomei_keys::SoftwareSigner;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The credentials the double holds (test PKI names).
pub const EC: &str = "signer-ec";
pub const RSA: &str = "signer-rsa";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Api {
    V1,
    V2,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SadMode {
    Valid,
    /// signHash answers "Invalid parameter SAD".
    Invalid,
    /// signHash answers "SAD expired".
    Expired,
}

/// What the double does; change with [`Double::set`].
#[derive(Clone, Debug)]
pub struct Behaviour {
    pub require_pin: Option<String>,
    pub require_otp: Option<String>,
    pub scal2: bool,
    pub multisign: u64,
    pub sad: SadMode,
    /// The exact `Authorization` header every CSC call must carry.
    pub expected_authorization: Option<String>,
    /// (client_id, client_secret, token issued).
    pub client_credentials: Option<(String, String, String)>,
    pub key_status: String,
    /// Return ECDSA values as r‖s instead of DER.
    pub ecdsa_fixed: bool,
    pub expires_in: Option<u64>,
    /// Drop the last signature of every signHash answer.
    pub drop_last_signature: bool,
    /// Replace the answer of this method (`credentials/info`...) by this body.
    pub corrupt: Option<(String, String)>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            require_pin: None,
            require_otp: None,
            scal2: false,
            multisign: 100,
            sad: SadMode::Valid,
            expected_authorization: None,
            client_credentials: None,
            key_status: "enabled".into(),
            ecdsa_fixed: false,
            expires_in: None,
            drop_last_signature: false,
            corrupt: None,
        }
    }
}

struct SadRecord {
    credential: String,
    num: usize,
    hashes: Option<Vec<Vec<u8>>>,
}

pub struct DoubleState {
    api: Api,
    signers: HashMap<String, SoftwareSigner>,
    behaviour: Mutex<Behaviour>,
    calls: Mutex<HashMap<String, usize>>,
    bodies: Mutex<Vec<(String, Value)>>,
    sads: Mutex<HashMap<String, SadRecord>>,
}

pub struct Double {
    /// `http://127.0.0.1:PORT/csc/v1` or `/csc/v2`.
    pub base_url: String,
    /// `http://127.0.0.1:PORT/oauth2/token`.
    pub token_url: String,
    state: Arc<DoubleState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Double {
    pub async fn start(api: Api) -> Self {
        let signers = [EC, RSA]
            .into_iter()
            .map(|n| (n.to_string(), crate::signers::test_signer(n)))
            .collect();
        let state = Arc::new(DoubleState {
            api,
            signers,
            behaviour: Mutex::new(Behaviour::default()),
            calls: Mutex::new(HashMap::new()),
            bodies: Mutex::new(Vec::new()),
            sads: Mutex::new(HashMap::new()),
        });
        let prefix = match api {
            Api::V1 => "/csc/v1",
            Api::V2 => "/csc/v2",
        };
        let router = Router::new()
            .route(&format!("{prefix}/info"), post(info))
            .route(&format!("{prefix}/credentials/list"), post(list))
            .route(&format!("{prefix}/credentials/info"), post(credential_info))
            .route(&format!("{prefix}/credentials/authorize"), post(authorize))
            .route(&format!("{prefix}/signatures/signHash"), post(sign_hash))
            .route("/oauth2/token", post(token))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Self {
            base_url: format!("http://{addr}{prefix}"),
            token_url: format!("http://{addr}/oauth2/token"),
            state,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn set(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.state.behaviour.lock().unwrap());
    }

    /// Calls received for `method` (`credentials/authorize`, `oauth2/token`...),
    /// refused ones included.
    pub fn calls(&self, method: &str) -> usize {
        *self.state.calls.lock().unwrap().get(method).unwrap_or(&0)
    }

    /// Every body received for `method`, in order.
    pub fn bodies(&self, method: &str) -> Vec<Value> {
        self.state
            .bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, b)| b.clone())
            .collect()
    }

    pub fn last_body(&self, method: &str) -> Value {
        self.bodies(method).pop().expect("no body for method")
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn bad(description: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Counts, checks the `Authorization` header, parses the body and checks that
/// it holds only the names of this API version. `Err` is the answer to give.
fn enter(
    s: &DoubleState,
    method: &str,
    headers: &HeaderMap,
    body: &[u8],
    v1_names: &[&str],
    v2_names: &[&str],
) -> Result<Map<String, Value>, Response> {
    *s.calls
        .lock()
        .unwrap()
        .entry(method.to_string())
        .or_default() += 1;
    let expected = s.behaviour.lock().unwrap().expected_authorization.clone();
    if let Some(expected) = expected {
        let got = headers.get("authorization").and_then(|v| v.to_str().ok());
        if got != Some(expected.as_str()) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "missing or wrong access token",
            ));
        }
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| bad("body is not JSON"))?;
    let Value::Object(map) = value else {
        return Err(bad("body is not a JSON object"));
    };
    s.bodies
        .lock()
        .unwrap()
        .push((method.to_string(), Value::Object(map.clone())));
    let allowed = match s.api {
        Api::V1 => v1_names,
        Api::V2 => v2_names,
    };
    if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(&format!("Unknown parameter {unknown}")));
    }
    Ok(map)
}

fn corrupt(s: &DoubleState, method: &str) -> Option<Response> {
    let b = s.behaviour.lock().unwrap();
    match &b.corrupt {
        Some((m, body)) if m == method => Some(
            (
                StatusCode::OK,
                [("content-type", "application/json")],
                body.clone(),
            )
                .into_response(),
        ),
        _ => None,
    }
}

async fn info(State(s): State<Arc<DoubleState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = enter(&s, "info", &headers, &body, &["lang"], &["lang"]) {
        return r;
    }
    let specs = match s.api {
        Api::V1 => "1.0.4.0",
        Api::V2 => "2.0.0.2",
    };
    Json(json!({
        "specs": specs, "name": "shomei CSC double", "logo": "", "region": "XX",
        "lang": "en", "description": "test double", "authType": ["basic", "oauth2client"],
        "methods": ["credentials/list", "credentials/info", "credentials/authorize",
                    "signatures/signHash"]
    }))
    .into_response()
}

async fn list(State(s): State<Arc<DoubleState>>, headers: HeaderMap, body: Bytes) -> Response {
    let v1 = ["userID", "maxResults", "pageToken", "clientData"];
    let v2 = [
        "userID",
        "credentialInfo",
        "certificates",
        "certInfo",
        "authInfo",
        "onlyValid",
        "lang",
        "clientData",
    ];
    if let Err(r) = enter(&s, "credentials/list", &headers, &body, &v1, &v2) {
        return r;
    }
    let mut ids: Vec<&String> = s.signers.keys().collect();
    ids.sort();
    Json(json!({ "credentialIDs": ids })).into_response()
}

async fn credential_info(
    State(s): State<Arc<DoubleState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let names = [
        "credentialID",
        "certificates",
        "certInfo",
        "authInfo",
        "lang",
        "clientData",
    ];
    let map = match enter(&s, "credentials/info", &headers, &body, &names, &names) {
        Ok(m) => m,
        Err(r) => return r,
    };
    if let Some(r) = corrupt(&s, "credentials/info") {
        return r;
    }
    let Some(id) = map.get("credentialID").and_then(Value::as_str) else {
        return bad("Missing parameter credentialID");
    };
    let Some(signer) = s.signers.get(id) else {
        return bad("Invalid parameter credentialID");
    };
    if map.get("certificates").and_then(Value::as_str) != Some("chain") {
        return bad("the double expects certificates=chain");
    }
    let b = s.behaviour.lock().unwrap().clone();
    let kind = signer.key_kind();
    let (algo, len): (Vec<String>, u32) = match kind {
        shomei_core::KeyKind::Rsa { bits } => (
            vec![oid::RSA_ENCRYPTION.to_string(), oid::RSASSA_PSS.to_string()],
            bits,
        ),
        _ => (
            vec![
                oid::ECDSA_WITH_SHA256.to_string(),
                oid::ECDSA_WITH_SHA384.to_string(),
                oid::ECDSA_WITH_SHA512.to_string(),
            ],
            256,
        ),
    };
    let certs: Vec<String> = signer
        .chain()
        .certs()
        .iter()
        .map(|c| B64.encode(c.der()))
        .collect();
    let explicit = b.require_pin.is_some() || b.require_otp.is_some();
    let mut answer = json!({
        "key": {"status": b.key_status, "algo": algo, "len": len},
        "cert": {"status": "valid", "certificates": certs},
        "SCAL": if b.scal2 { "2" } else { "1" },
        "multisign": b.multisign,
    });
    let obj = answer.as_object_mut().unwrap();
    match s.api {
        Api::V1 => {
            obj.insert(
                "authMode".into(),
                json!(if explicit { "explicit" } else { "implicit" }),
            );
            obj.insert(
                "PIN".into(),
                json!({"presence": if b.require_pin.is_some() { "true" } else { "false" },
                       "format": "N", "label": "PIN"}),
            );
            obj.insert(
                "OTP".into(),
                json!({"presence": if b.require_otp.is_some() { "true" } else { "false" },
                       "type": "offline"}),
            );
        }
        Api::V2 => {
            let mut objects = Vec::new();
            if b.require_pin.is_some() {
                objects
                    .push(json!({"type": "Password", "id": "PIN", "format": "N", "label": "PIN"}));
            }
            if b.require_otp.is_some() {
                objects.push(json!({"type": "OTP", "id": "OTP", "format": "N", "label": "OTP"}));
            }
            let expression = match (b.require_pin.is_some(), b.require_otp.is_some()) {
                (true, true) => "PIN AND OTP",
                (true, false) => "PIN",
                (false, true) => "OTP",
                _ => "",
            };
            obj.insert(
                "auth".into(),
                json!({"mode": if explicit { "explicit" } else { "implicit" },
                       "expression": expression, "objects": objects}),
            );
        }
    }
    Json(answer).into_response()
}

fn hashes_of(map: &Map<String, Value>, name: &str) -> Result<Option<Vec<Vec<u8>>>, Response> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .and_then(|t| B64.decode(t).ok())
                    .ok_or_else(|| bad(&format!("Invalid parameter {name}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad(&format!("Invalid parameter {name}"))),
    }
}

async fn authorize(State(s): State<Arc<DoubleState>>, headers: HeaderMap, body: Bytes) -> Response {
    let v1 = [
        "credentialID",
        "numSignatures",
        "hash",
        "PIN",
        "OTP",
        "description",
        "clientData",
    ];
    let v2 = [
        "credentialID",
        "numSignatures",
        "hashes",
        "hashAlgorithmOID",
        "authData",
        "description",
        "clientData",
    ];
    let map = match enter(&s, "credentials/authorize", &headers, &body, &v1, &v2) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let b = s.behaviour.lock().unwrap().clone();
    let Some(id) = map.get("credentialID").and_then(Value::as_str) else {
        return bad("Missing parameter credentialID");
    };
    if !s.signers.contains_key(id) {
        return bad("Invalid parameter credentialID");
    }
    let Some(num) = map.get("numSignatures").and_then(Value::as_u64) else {
        return bad("Missing parameter numSignatures");
    };
    if num == 0 || num > b.multisign {
        return bad("Invalid parameter numSignatures");
    }
    let secret = |name: &str| -> Option<String> {
        match s.api {
            Api::V1 => map.get(name).and_then(Value::as_str).map(str::to_string),
            Api::V2 => map
                .get("authData")
                .and_then(Value::as_array)?
                .iter()
                .find(|o| o.get("id").and_then(Value::as_str) == Some(name))
                .and_then(|o| o.get("value"))
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    };
    if let Some(pin) = &b.require_pin {
        if secret("PIN").as_ref() != Some(pin) {
            return bad("Invalid PIN");
        }
    }
    if let Some(otp) = &b.require_otp {
        if secret("OTP").as_ref() != Some(otp) {
            return bad("Invalid OTP");
        }
    }
    let hash_name = match s.api {
        Api::V1 => "hash",
        Api::V2 => "hashes",
    };
    let hashes = match hashes_of(&map, hash_name) {
        Ok(h) => h,
        Err(r) => return r,
    };
    if b.scal2 && hashes.is_none() {
        return bad(&format!("Missing parameter {hash_name}"));
    }
    if let Some(h) = &hashes {
        if h.len() as u64 != num {
            return bad("numSignatures does not match the hashes");
        }
        if s.api == Api::V2
            && map
                .get("hashAlgorithmOID")
                .and_then(Value::as_str)
                .is_none()
        {
            return bad("Missing parameter hashAlgorithmOID");
        }
    }
    let mut sads = s.sads.lock().unwrap();
    let sad = format!("sad-{}", sads.len() + 1);
    sads.insert(
        sad.clone(),
        SadRecord {
            credential: id.to_string(),
            num: num as usize,
            hashes,
        },
    );
    let mut answer = json!({ "SAD": sad });
    if let Some(e) = b.expires_in {
        answer["expiresIn"] = json!(e);
    }
    Json(answer).into_response()
}

fn digest_from_oid(oid_text: &str) -> Option<DigestAlgorithm> {
    DigestAlgorithm::ALL
        .into_iter()
        .find(|d| d.oid().to_string() == oid_text)
}

async fn sign_hash(State(s): State<Arc<DoubleState>>, headers: HeaderMap, body: Bytes) -> Response {
    let v1 = [
        "credentialID",
        "SAD",
        "hash",
        "hashAlgo",
        "signAlgo",
        "signAlgoParams",
        "clientData",
    ];
    let v2 = [
        "credentialID",
        "SAD",
        "hashes",
        "hashAlgorithmOID",
        "signAlgo",
        "signAlgoParams",
        "operationMode",
        "validity_period",
        "response_uri",
        "clientData",
    ];
    let map = match enter(&s, "signatures/signHash", &headers, &body, &v1, &v2) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let b = s.behaviour.lock().unwrap().clone();
    match b.sad {
        SadMode::Valid => {}
        SadMode::Invalid => return bad("Invalid parameter SAD"),
        SadMode::Expired => return bad("SAD expired"),
    }
    let Some(id) = map.get("credentialID").and_then(Value::as_str) else {
        return bad("Missing parameter credentialID");
    };
    let Some(signer) = s.signers.get(id) else {
        return bad("Invalid parameter credentialID");
    };
    let Some(sad) = map.get("SAD").and_then(Value::as_str) else {
        return bad("Missing parameter SAD");
    };
    let (hash_name, hash_algo_name) = match s.api {
        Api::V1 => ("hash", "hashAlgo"),
        Api::V2 => ("hashes", "hashAlgorithmOID"),
    };
    let hashes = match hashes_of(&map, hash_name) {
        Ok(Some(h)) => h,
        Ok(None) => return bad(&format!("Missing parameter {hash_name}")),
        Err(r) => return r,
    };
    {
        let sads = s.sads.lock().unwrap();
        let Some(record) = sads.get(sad) else {
            return bad("Invalid parameter SAD");
        };
        if record.credential != id || hashes.len() > record.num {
            return bad("Invalid parameter SAD");
        }
        if let Some(pinned) = &record.hashes {
            if hashes.iter().any(|h| !pinned.contains(h)) {
                return bad("Invalid parameter hash: not authorized by the SAD");
            }
        }
    }
    let hash_algo = map
        .get(hash_algo_name)
        .and_then(Value::as_str)
        .and_then(digest_from_oid);
    if s.api == Api::V2 && hash_algo.is_none() {
        return bad("Missing parameter hashAlgorithmOID");
    }
    let Some(sign_algo) = map.get("signAlgo").and_then(Value::as_str) else {
        return bad("Missing parameter signAlgo");
    };
    let params = map.get("signAlgoParams").and_then(Value::as_str);
    let algorithm = {
        use DigestAlgorithm::*;
        let table = [
            (
                oid::SHA256_WITH_RSA,
                SignatureAlgorithm::RsaPkcs1v15(Sha256),
            ),
            (
                oid::SHA384_WITH_RSA,
                SignatureAlgorithm::RsaPkcs1v15(Sha384),
            ),
            (
                oid::SHA512_WITH_RSA,
                SignatureAlgorithm::RsaPkcs1v15(Sha512),
            ),
            (oid::ECDSA_WITH_SHA256, SignatureAlgorithm::Ecdsa(Sha256)),
            (oid::ECDSA_WITH_SHA384, SignatureAlgorithm::Ecdsa(Sha384)),
            (oid::ECDSA_WITH_SHA512, SignatureAlgorithm::Ecdsa(Sha512)),
        ];
        if let Some((_, a)) = table.iter().find(|(o, _)| o.to_string() == sign_algo) {
            *a
        } else if sign_algo == oid::RSA_ENCRYPTION.to_string() {
            match hash_algo {
                Some(d) => SignatureAlgorithm::RsaPkcs1v15(d),
                None => return bad("Missing parameter hashAlgo"),
            }
        } else if sign_algo == oid::RSASSA_PSS.to_string() {
            let Some(d) = hash_algo else {
                return bad("Missing parameter hashAlgo");
            };
            let alg = SignatureAlgorithm::RsaPss(d);
            let expected = B64.encode(alg.pss_params_der().unwrap());
            if params != Some(expected.as_str()) {
                return bad("Invalid parameter signAlgoParams");
            }
            alg
        } else {
            return bad("Invalid parameter signAlgo");
        }
    };
    if !matches!(algorithm, SignatureAlgorithm::RsaPss(_)) && params.is_some() {
        return bad("Unexpected parameter signAlgoParams");
    }
    let digests: Option<Vec<Digest>> = hashes
        .into_iter()
        .map(|h| Digest::new(algorithm.digest(), h))
        .collect();
    let Some(digests) = digests else {
        return bad("Invalid parameter hash: wrong length");
    };
    let values = match signer.sign_digests_blocking(algorithm, &digests) {
        Ok(v) => v,
        Err(e) => return bad(&format!("signing failed: {e}")),
    };
    let mut signatures: Vec<String> = values
        .iter()
        .map(|v| {
            let bytes = match (v, b.ecdsa_fixed) {
                (SignatureValue::Rsa(r), _) => r.clone(),
                (ecdsa, true) => ecdsa.to_xmldsig(32).unwrap(),
                (ecdsa, false) => ecdsa.to_cms().unwrap(),
            };
            B64.encode(bytes)
        })
        .collect();
    if b.drop_last_signature {
        signatures.pop();
    }
    Json(json!({ "signatures": signatures })).into_response()
}

fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

async fn token(State(s): State<Arc<DoubleState>>, headers: HeaderMap, body: Bytes) -> Response {
    *s.calls
        .lock()
        .unwrap()
        .entry("oauth2/token".to_string())
        .or_default() += 1;
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct != "application/x-www-form-urlencoded" {
        return bad("expected a form");
    }
    let text = std::str::from_utf8(&body).unwrap();
    let form: HashMap<String, String> = text
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (form_decode(k), form_decode(v)))
        .collect();
    let b = s.behaviour.lock().unwrap().clone();
    let Some((id, secret, token)) = b.client_credentials else {
        return error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "");
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "");
    }
    if form.get("client_id") != Some(&id) || form.get("client_secret") != Some(&secret) {
        return error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    }
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})).into_response()
}

// ---- helpers shared by the test files ------------------------------------------

use async_trait::async_trait;
use shomei_core::{
    chain::ChainCert, Clock, HttpRequest, HttpResponse, HttpTransport, TransportError,
};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

/// The production transport over loopback.
pub fn transport() -> Arc<dyn HttpTransport> {
    Arc::new(shomei_http::ReqwestTransport::new(Duration::from_secs(10)).unwrap())
}

/// `n` distinct digests.
pub fn digests(alg: DigestAlgorithm, n: usize) -> Vec<Digest> {
    (0..n)
        .map(|i| Digest::compute(alg, format!("document {i}").as_bytes()))
        .collect()
}

/// Checks every value against the signing certificate.
pub fn verify_all(
    cert: &ChainCert,
    alg: SignatureAlgorithm,
    digests: &[Digest],
    values: &[SignatureValue],
) {
    assert_eq!(digests.len(), values.len());
    for (i, (d, v)) in digests.iter().zip(values).enumerate() {
        let cms = v.to_cms().expect("CMS encoding");
        shomei_core::verify::verify_digest_signature(cert, alg, d, &cms)
            .unwrap_or_else(|e| panic!("signature {i} ({alg}): {e}"));
    }
}

/// Fails requests whose URL contains `needle` with "unreachable", `times` times.
pub struct Flaky {
    pub inner: Arc<dyn HttpTransport>,
    pub needle: String,
    pub times: AtomicUsize,
    pub sent: AtomicUsize,
}

impl Flaky {
    pub fn new(inner: Arc<dyn HttpTransport>, needle: &str, times: usize) -> Self {
        Self {
            inner,
            needle: needle.to_string(),
            times: AtomicUsize::new(times),
            sent: AtomicUsize::new(0),
        }
    }
}

#[async_trait]
impl HttpTransport for Flaky {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        if request.url.contains(&self.needle)
            && self
                .times
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| t.checked_sub(1))
                .is_ok()
        {
            return Err(TransportError::Unreachable {
                url: request.url,
                message: "connection reset (simulated)".into(),
            });
        }
        self.inner.send(request).await
    }
}

/// A clock that answers the scripted offsets (seconds after a fixed start) one
/// read at a time, then keeps the last one.
pub struct ScriptedClock {
    start: SystemTime,
    script: Mutex<VecDeque<u64>>,
    last: Mutex<u64>,
}

impl ScriptedClock {
    pub fn new(offsets: &[u64]) -> Self {
        Self {
            start: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            script: Mutex::new(offsets.iter().copied().collect()),
            last: Mutex::new(0),
        }
    }
}

impl Clock for ScriptedClock {
    fn now(&self) -> SystemTime {
        let mut last = self.last.lock().unwrap();
        if let Some(next) = self.script.lock().unwrap().pop_front() {
            *last = next;
        }
        self.start + Duration::from_secs(*last)
    }
}
