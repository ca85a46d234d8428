//! The JSON of the CSC API: request bodies (crate-private) and the parsers of the
//! answers (public, so a fuzz target can call them).
//!
//! Every parser takes the raw body, as untrusted bytes, and returns a typed value or
//! [`CscError::BadResponse`] naming the JSON path that was wrong; none panics.
//! Nesting is bounded by serde_json's recursion limit (128), sizes by the transport
//! and by the limits below.

use crate::config::CscVersion;
use crate::error::CscError;
use base64::engine::general_purpose::{STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT};
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use zeroize::Zeroizing;

/// Most certificates accepted in a credential's chain. Real chains hold 2 to 4;
/// the bound keeps a hostile answer from making us parse thousands.
pub const MAX_CHAIN_CERTS: usize = 16;

/// Most credential IDs accepted from `credentials/list` (all pages together).
pub const MAX_CREDENTIAL_IDS: usize = 10_000;

/// How the credential is authorized (CSC 1.0.4 `authMode`, 2.0.0.2 `auth.mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// The service authorizes on its own (`implicit`): no PIN or OTP is sent.
    Implicit,
    /// The client sends PIN and/or OTP to `credentials/authorize` (`explicit`).
    Explicit,
    /// Authorization through an OAuth 2.0 authorization code flow (`oauth2code`):
    /// needs a user at a browser, which this client does not drive.
    OAuth2Code,
    /// Any other value.
    Other(String),
}

/// One secret the credential asks for in explicit mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthInput {
    /// The identifier the value is sent under (2.0.0.2 `authData[].id`; `PIN`
    /// or `OTP` in 1.0.4).
    pub id: String,
    /// Whether it must be given (`presence: "true"`), or may be (`"optional"`).
    pub required: bool,
}

/// Signature activation data binding (CSC "SCAL"): whether the SAD is bound to
/// the hashes, which must then be sent to `credentials/authorize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scal {
    /// SCAL 1: the SAD is not bound to hashes.
    One,
    /// SCAL 2: the hashes go to `credentials/authorize` too.
    Two,
}

/// What `credentials/info` tells about a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialInfo {
    /// `key.status` (`enabled`, `disabled`); `enabled` when absent.
    pub key_status: String,
    /// `key.algo`: signature or key algorithm OIDs, dotted.
    pub key_algorithms: Vec<String>,
    /// `key.len`: key length in bits.
    pub key_len: Option<u32>,
    /// `key.curve`: the curve OID, for EC keys.
    pub key_curve: Option<String>,
    /// `cert.status` (`valid`, `expired`, `revoked`, `suspended`).
    pub cert_status: Option<String>,
    /// `cert.certificates`, decoded: signing certificate first.
    pub certificates: Vec<Vec<u8>>,
    /// The authorization mode.
    pub auth_mode: AuthMode,
    /// The PIN, if the credential takes one.
    pub pin: Option<AuthInput>,
    /// The OTP, if the credential takes one.
    pub otp: Option<AuthInput>,
    /// `SCAL`; 1 when absent (the specification's default).
    pub scal: Scal,
    /// `multisign`: most signatures one authorization may cover; at least 1.
    pub multisign: usize,
}

/// What `info` tells about the service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServiceInfo {
    /// `specs`: the API version (`1.0.4.0`, `2.0.0.2`).
    pub specs: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `methods`: the methods the service implements.
    pub methods: Vec<String>,
}

/// What `credentials/authorize` returns.
#[non_exhaustive]
pub struct Authorization {
    /// The signature activation data.
    pub sad: Zeroizing<String>,
    /// `expiresIn`, seconds; the specification's default is 3600.
    pub expires_in: Option<u64>,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("sad", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What an OAuth 2.0 token endpoint returns (RFC 6749 5.1).
#[non_exhaustive]
pub struct AccessToken {
    /// `access_token`.
    pub token: Zeroizing<String>,
    /// `expires_in`, seconds.
    pub expires_in: Option<u64>,
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

struct Reader {
    method: &'static str,
}

impl Reader {
    fn bad(&self, message: impl Into<String>) -> CscError {
        CscError::BadResponse {
            method: self.method,
            message: message.into(),
        }
    }

    fn object(&self, body: &[u8]) -> Result<serde_json::Map<String, Value>, CscError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(self.bad("the body is not a JSON object")),
            Err(e) => Err(self.bad(format!("not JSON: {e}"))),
        }
    }

    fn string(&self, v: Option<&Value>, path: &str) -> Result<Option<String>, CscError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.bad(format!("`{path}` is not a string"))),
        }
    }

    fn strings(
        &self,
        v: Option<&Value>,
        path: &str,
        limit: usize,
    ) -> Result<Vec<String>, CscError> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                if items.len() > limit {
                    return Err(self.bad(format!(
                        "`{path}` has {} entries, more than the {limit} accepted",
                        items.len()
                    )));
                }
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        item.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| self.bad(format!("`{path}[{i}]` is not a string")))
                    })
                    .collect()
            }
            Some(_) => Err(self.bad(format!("`{path}` is not an array"))),
        }
    }

    /// A non-negative integer, also accepted as a decimal string.
    fn number(&self, v: Option<&Value>, path: &str) -> Result<Option<u64>, CscError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.bad(format!("`{path}` is not a non-negative integer"))),
            Some(Value::String(s)) => s
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| self.bad(format!("`{path}` is not a non-negative integer"))),
            Some(_) => Err(self.bad(format!("`{path}` is not a number"))),
        }
    }

    fn base64(&self, text: &str, path: &str) -> Result<Vec<u8>, CscError> {
        decode_base64(text).ok_or_else(|| self.bad(format!("`{path}` is not base64")))
    }
}

/// Decodes base64 in the standard or URL-safe alphabet, padded or not, ignoring
/// ASCII whitespace (some services wrap long values).
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD_PAD_INDIFFERENT
        .decode(&compact)
        .or_else(|_| URL_SAFE_PAD_INDIFFERENT.decode(&compact))
        .ok()
}

/// Standard padded base64.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Parses the answer of `info`.
pub fn parse_info(body: &[u8]) -> Result<ServiceInfo, CscError> {
    let r = Reader { method: "info" };
    let map = r.object(body)?;
    Ok(ServiceInfo {
        specs: r.string(map.get("specs"), "specs")?,
        name: r.string(map.get("name"), "name")?,
        methods: r.strings(map.get("methods"), "methods", 1000)?,
    })
}

/// Parses the answer of `credentials/list`: the IDs and the next page token (1.0.4).
pub fn parse_credential_list(body: &[u8]) -> Result<(Vec<String>, Option<String>), CscError> {
    let r = Reader {
        method: "credentials/list",
    };
    let map = r.object(body)?;
    if !map.contains_key("credentialIDs") {
        return Err(r.bad("`credentialIDs` is missing"));
    }
    let ids = r.strings(
        map.get("credentialIDs"),
        "credentialIDs",
        MAX_CREDENTIAL_IDS,
    )?;
    let next = r
        .string(map.get("nextPageToken"), "nextPageToken")?
        .filter(|t| !t.is_empty());
    Ok((ids, next))
}

/// Parses the answer of `credentials/info` in the field names of `version`.
pub fn parse_credential_info(version: CscVersion, body: &[u8]) -> Result<CredentialInfo, CscError> {
    let r = Reader {
        method: "credentials/info",
    };
    let map = r.object(body)?;

    let key = match map.get("key") {
        Some(Value::Object(k)) => k,
        Some(_) => return Err(r.bad("`key` is not an object")),
        None => return Err(r.bad("`key` is missing")),
    };
    let key_status = r
        .string(key.get("status"), "key.status")?
        .unwrap_or_else(|| "enabled".to_string());
    let key_algorithms = r.strings(key.get("algo"), "key.algo", 100)?;
    let key_len = r
        .number(key.get("len"), "key.len")?
        .map(|n| u32::try_from(n).map_err(|_| r.bad("`key.len` is too large")))
        .transpose()?;
    let key_curve = r.string(key.get("curve"), "key.curve")?;

    let (cert_status, certificates) = match map.get("cert") {
        Some(Value::Object(c)) => {
            let status = r.string(c.get("status"), "cert.status")?;
            let texts = r.strings(c.get("certificates"), "cert.certificates", MAX_CHAIN_CERTS)?;
            let ders = texts
                .iter()
                .enumerate()
                .map(|(i, t)| r.base64(t, &format!("cert.certificates[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            (status, ders)
        }
        None | Some(Value::Null) => (None, Vec::new()),
        Some(_) => return Err(r.bad("`cert` is not an object")),
    };

    let (auth_mode, pin, otp) = match version {
        CscVersion::V1 => auth_v1(&r, &map)?,
        CscVersion::V2 => auth_v2(&r, &map)?,
    };

    let scal = match map.get("SCAL") {
        None | Some(Value::Null) => Scal::One,
        Some(Value::String(s)) if s.trim() == "1" => Scal::One,
        Some(Value::String(s)) if s.trim() == "2" => Scal::Two,
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Scal::One,
        Some(Value::Number(n)) if n.as_u64() == Some(2) => Scal::Two,
        Some(_) => return Err(r.bad("`SCAL` is neither \"1\" nor \"2\"")),
    };

    // 1.0.4 gives a number; some services (and ETSI TS 119 432) a boolean.
    let multisign = match map.get("multisign") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => 1,
        Some(Value::Bool(true)) => crate::MAX_DIGESTS,
        other => {
            let n = r.number(other, "multisign")?.unwrap_or(1);
            usize::try_from(n).unwrap_or(usize::MAX).max(1)
        }
    };

    Ok(CredentialInfo {
        key_status,
        key_algorithms,
        key_len,
        key_curve,
        cert_status,
        certificates,
        auth_mode,
        pin,
        otp,
        scal,
        multisign,
    })
}

type AuthParts = (AuthMode, Option<AuthInput>, Option<AuthInput>);

fn auth_mode(text: &str) -> AuthMode {
    match text.trim() {
        "implicit" => AuthMode::Implicit,
        "explicit" => AuthMode::Explicit,
        "oauth2code" => AuthMode::OAuth2Code,
        other => AuthMode::Other(other.to_string()),
    }
}

/// 1.0.4: `authMode`, `PIN{presence}`, `OTP{presence}`.
fn auth_v1(r: &Reader, map: &serde_json::Map<String, Value>) -> Result<AuthParts, CscError> {
    let mode = r
        .string(map.get("authMode"), "authMode")?
        .map_or(AuthMode::Implicit, |m| auth_mode(&m));
    let input = |name: &str| -> Result<Option<AuthInput>, CscError> {
        let presence = match map.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(o)) => o.get("presence"),
            Some(_) => return Err(r.bad(format!("`{name}` is not an object"))),
        };
        let required = match presence {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::String(s)) => match s.trim() {
                "true" => Some(true),
                "optional" => Some(false),
                "false" => None,
                _ => return Err(r.bad(format!("`{name}.presence` is \"{}\"", s.trim()))),
            },
            Some(_) => return Err(r.bad(format!("`{name}.presence` is not a string"))),
        };
        Ok(match required {
            Some(true) => Some(AuthInput {
                id: name.to_string(),
                required: true,
            }),
            Some(false) => Some(AuthInput {
                id: name.to_string(),
                required: false,
            }),
            None => None,
        })
    };
    Ok((mode, input("PIN")?, input("OTP")?))
}

/// 2.0.0.2: `auth{mode, expression, objects[{type, id}]}`; objects of type
/// `Password` carry the PIN, of type `OTP` the one-time password. When the
/// expression offers a choice (`PIN OR OTP`), neither is required on its own.
fn auth_v2(r: &Reader, map: &serde_json::Map<String, Value>) -> Result<AuthParts, CscError> {
    let auth = match map.get("auth") {
        Some(Value::Object(a)) => a,
        None | Some(Value::Null) => {
            // A 1.0.4-style answer from a 2.x service: read it as such.
            return auth_v1(r, map);
        }
        Some(_) => return Err(r.bad("`auth` is not an object")),
    };
    let mode = r
        .string(auth.get("mode"), "auth.mode")?
        .map_or(AuthMode::Implicit, |m| auth_mode(&m));
    let expression = r
        .string(auth.get("expression"), "auth.expression")?
        .unwrap_or_default();
    let required = !crate::error::words(&expression).iter().any(|w| w == "or");
    let mut pin = None;
    let mut otp = None;
    match auth.get("objects") {
        None | Some(Value::Null) => {}
        Some(Value::Array(objects)) => {
            if objects.len() > 16 {
                return Err(r.bad("`auth.objects` has more than 16 entries"));
            }
            for (i, o) in objects.iter().enumerate() {
                let Value::Object(o) = o else {
                    return Err(r.bad(format!("`auth.objects[{i}]` is not an object")));
                };
                let kind = r
                    .string(o.get("type"), &format!("auth.objects[{i}].type"))?
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let id = r.string(o.get("id"), &format!("auth.objects[{i}].id"))?;
                let is_pin = kind == "password"
                    || kind == "pin"
                    || id.as_deref().is_some_and(|i| i.eq_ignore_ascii_case("pin"));
                let is_otp =
                    kind == "otp" || id.as_deref().is_some_and(|i| i.eq_ignore_ascii_case("otp"));
                if is_pin && pin.is_none() {
                    pin = Some(AuthInput {
                        id: id.unwrap_or_else(|| "PIN".to_string()),
                        required,
                    });
                } else if is_otp && otp.is_none() {
                    otp = Some(AuthInput {
                        id: id.unwrap_or_else(|| "OTP".to_string()),
                        required,
                    });
                }
            }
        }
        Some(_) => return Err(r.bad("`auth.objects` is not an array")),
    }
    if mode == AuthMode::Explicit && pin.is_none() && otp.is_none() {
        // Explicit without objects: the usual case is a PIN.
        pin = Some(AuthInput {
            id: "PIN".to_string(),
            required: true,
        });
    }
    Ok((mode, pin, otp))
}

/// Parses the answer of `credentials/authorize`.
pub fn parse_authorize(body: &[u8]) -> Result<Authorization, CscError> {
    let r = Reader {
        method: "credentials/authorize",
    };
    let map = r.object(body)?;
    let sad = match map.get("SAD") {
        Some(Value::String(s)) if !s.is_empty() => Zeroizing::new(s.clone()),
        Some(_) => return Err(r.bad("`SAD` is not a non-empty string")),
        None => return Err(r.bad("`SAD` is missing")),
    };
    Ok(Authorization {
        sad,
        expires_in: r.number(map.get("expiresIn"), "expiresIn")?,
    })
}

/// Parses the answer of `signatures/signHash`: the decoded signature values.
/// `expected` bounds the array (more entries are refused before decoding).
pub fn parse_sign_hash(body: &[u8], expected: usize) -> Result<Vec<Vec<u8>>, CscError> {
    let r = Reader {
        method: "signatures/signHash",
    };
    let map = r.object(body)?;
    let Some(Value::Array(items)) = map.get("signatures") else {
        return Err(r.bad("`signatures` is missing or not an array"));
    };
    if items.len() != expected {
        return Err(CscError::CountMismatch {
            sent: expected,
            got: items.len(),
        });
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = item
                .as_str()
                .ok_or_else(|| r.bad(format!("`signatures[{i}]` is not a string")))?;
            r.base64(text, &format!("signatures[{i}]"))
        })
        .collect()
}

/// Parses an OAuth 2.0 access token response (RFC 6749 5.1).
pub fn parse_token(body: &[u8]) -> Result<AccessToken, CscError> {
    let r = Reader { method: "token" };
    let map = r.object(body)?;
    let token = match map.get("access_token") {
        Some(Value::String(s)) if !s.is_empty() => Zeroizing::new(s.clone()),
        _ => return Err(r.bad("`access_token` is missing or not a non-empty string")),
    };
    if let Some(kind) = r.string(map.get("token_type"), "token_type")? {
        if !kind.eq_ignore_ascii_case("bearer") {
            return Err(r.bad(format!("token_type \"{kind}\" is not Bearer")));
        }
    }
    Ok(AccessToken {
        token,
        expires_in: r.number(map.get("expires_in"), "expires_in")?,
    })
}

/// Calls every parser on `body`, for fuzzing: none may panic, whatever the bytes.
pub fn parse_any(body: &[u8]) {
    let _ = parse_info(body);
    let _ = parse_credential_list(body);
    let _ = parse_credential_info(CscVersion::V1, body);
    let _ = parse_credential_info(CscVersion::V2, body);
    let _ = parse_authorize(body);
    let _ = parse_sign_hash(body, 3);
    let _ = parse_token(body);
    let _ = crate::error::read_error_body(body, &["secret"]);
}

// ---- request bodies -------------------------------------------------------

/// `credentials/list` (both versions).
#[derive(Serialize)]
pub(crate) struct ListRequest<'a> {
    #[serde(rename = "maxResults", skip_serializing_if = "Option::is_none")]
    pub(crate) max_results: Option<u32>,
    #[serde(rename = "pageToken", skip_serializing_if = "Option::is_none")]
    pub(crate) page_token: Option<&'a str>,
}

/// `credentials/info` (both versions). `certInfo` is not asked for: the client
/// does not need it, and some services refuse it.
#[derive(Serialize)]
pub(crate) struct InfoRequest<'a> {
    #[serde(rename = "credentialID")]
    pub(crate) credential_id: &'a str,
    pub(crate) certificates: &'static str,
    #[serde(rename = "authInfo")]
    pub(crate) auth_info: bool,
}

/// `credentials/authorize`, 1.0.4.
#[derive(Serialize)]
pub(crate) struct AuthorizeV1<'a> {
    #[serde(rename = "credentialID")]
    pub(crate) credential_id: &'a str,
    #[serde(rename = "numSignatures")]
    pub(crate) num_signatures: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hash: Option<Vec<String>>,
    #[serde(rename = "PIN", skip_serializing_if = "Option::is_none")]
    pub(crate) pin: Option<&'a str>,
    #[serde(rename = "OTP", skip_serializing_if = "Option::is_none")]
    pub(crate) otp: Option<&'a str>,
}

/// One `authData` entry, 2.0.0.2.
#[derive(Serialize)]
pub(crate) struct AuthData<'a> {
    pub(crate) id: &'a str,
    pub(crate) value: &'a str,
}

/// `credentials/authorize`, 2.0.0.2.
#[derive(Serialize)]
pub(crate) struct AuthorizeV2<'a> {
    #[serde(rename = "credentialID")]
    pub(crate) credential_id: &'a str,
    #[serde(rename = "numSignatures")]
    pub(crate) num_signatures: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hashes: Option<Vec<String>>,
    #[serde(rename = "hashAlgorithmOID", skip_serializing_if = "Option::is_none")]
    pub(crate) hash_algorithm_oid: Option<String>,
    #[serde(rename = "authData", skip_serializing_if = "Vec::is_empty")]
    pub(crate) auth_data: Vec<AuthData<'a>>,
}

/// `signatures/signHash`, 1.0.4.
#[derive(Serialize)]
pub(crate) struct SignHashV1<'a> {
    #[serde(rename = "credentialID")]
    pub(crate) credential_id: &'a str,
    #[serde(rename = "SAD")]
    pub(crate) sad: &'a str,
    pub(crate) hash: Vec<String>,
    #[serde(rename = "hashAlgo")]
    pub(crate) hash_algo: String,
    #[serde(rename = "signAlgo")]
    pub(crate) sign_algo: String,
    #[serde(rename = "signAlgoParams", skip_serializing_if = "Option::is_none")]
    pub(crate) sign_algo_params: Option<String>,
}

/// `signatures/signHash`, 2.0.0.2.
#[derive(Serialize)]
pub(crate) struct SignHashV2<'a> {
    #[serde(rename = "credentialID")]
    pub(crate) credential_id: &'a str,
    #[serde(rename = "SAD")]
    pub(crate) sad: &'a str,
    pub(crate) hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID")]
    pub(crate) hash_algorithm_oid: String,
    #[serde(rename = "signAlgo")]
    pub(crate) sign_algo: String,
    #[serde(rename = "signAlgoParams", skip_serializing_if = "Option::is_none")]
    pub(crate) sign_algo_params: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_credential_info_with_pin() {
        let body = br#"{"key":{"status":"enabled","algo":["1.2.840.10045.4.3.2"],"len":256},
            "cert":{"certificates":["AAEC"]},"authMode":"explicit",
            "PIN":{"presence":"true","format":"N"},"OTP":{"presence":"false"},
            "SCAL":"2","multisign":5}"#;
        let info = parse_credential_info(CscVersion::V1, body).unwrap();
        assert_eq!(info.auth_mode, AuthMode::Explicit);
        assert_eq!(info.pin.unwrap().id, "PIN");
        assert!(info.otp.is_none());
        assert_eq!(info.scal, Scal::Two);
        assert_eq!(info.multisign, 5);
        assert_eq!(info.certificates, vec![vec![0, 1, 2]]);
        assert_eq!(info.key_len, Some(256));
    }

    #[test]
    fn v2_credential_info_with_auth_objects() {
        let body = br#"{"key":{"status":"enabled","algo":["1.2.840.113549.1.1.1"],"len":"2048"},
            "cert":{"certificates":[]},
            "auth":{"mode":"explicit","expression":"PIN OR OTP",
                    "objects":[{"type":"Password","id":"PIN1"},{"type":"OTP","id":"OTP"}]},
            "multisign":true}"#;
        let info = parse_credential_info(CscVersion::V2, body).unwrap();
        let pin = info.pin.unwrap();
        assert_eq!((pin.id.as_str(), pin.required), ("PIN1", false));
        assert_eq!(info.otp.unwrap().id, "OTP");
        assert_eq!(info.scal, Scal::One);
        assert_eq!(info.multisign, crate::MAX_DIGESTS);
        assert_eq!(info.key_len, Some(2048));
    }

    #[test]
    fn shape_mistakes_are_typed_errors() {
        for body in [
            &b"[]"[..],
            b"not json",
            br#"{"key": 3}"#,
            br#"{"key":{"algo":"x"}}"#,
            br#"{"key":{"algo":[1]}}"#,
            br#"{"key":{"len":-1}}"#,
            br#"{"key":{},"cert":{"certificates":["%%%"]}}"#,
            br#"{"key":{},"SCAL":"3"}"#,
            br#"{"key":{},"PIN":{"presence":"maybe"}}"#,
        ] {
            let err = parse_credential_info(CscVersion::V1, body).unwrap_err();
            assert!(matches!(err, CscError::BadResponse { .. }), "{err}");
        }
        assert!(parse_authorize(br#"{"SAD":""}"#).is_err());
        assert!(parse_authorize(br#"{"SAD":"x","expiresIn":"soon"}"#).is_err());
        assert!(matches!(
            parse_sign_hash(br#"{"signatures":["AA=="]}"#, 2),
            Err(CscError::CountMismatch { sent: 2, got: 1 })
        ));
        assert!(parse_token(br#"{"access_token":"t","token_type":"mac"}"#).is_err());
        let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        parse_any(nested.as_bytes());
    }

    #[test]
    fn too_many_certificates_refused() {
        let certs = vec!["AA=="; MAX_CHAIN_CERTS + 1];
        let body = serde_json::json!({"key": {}, "cert": {"certificates": certs}});
        let err = parse_credential_info(CscVersion::V1, body.to_string().as_bytes()).unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
    }

    #[test]
    fn base64_variants() {
        assert_eq!(decode_base64("AAE=").unwrap(), vec![0, 1]);
        assert_eq!(decode_base64("AAE").unwrap(), vec![0, 1]);
        assert_eq!(decode_base64("_-8=\n").unwrap(), vec![0xff, 0xef]);
        assert!(decode_base64("***").is_none());
    }
}
