//! Passkeys (WebAuthn, with webauthn-rs): enrolment, sign-in to the web page, and the
//! possession factor of an approval under Sole Control Level 2.
//!
//! For an approval the WebAuthn challenge is not random: it is
//! `SHA-256("shomei/scal2-approval/v1\0" ‖ nonce ‖ credential ‖ hash algorithm ‖
//! numSignatures ‖ the hashes, in order)` (each variable part length-prefixed), with a
//! fresh 32-byte nonce. The authenticator's signature over it is the signer's consent to
//! exactly those hashes. webauthn-rs has no API for a chosen challenge: the challenge is
//! written into its serialized authentication state (the `danger-allow-state-
//! serialisation` feature, crate version pinned), and after the crate's own check the
//! challenge in `clientDataJSON` is compared with the one derived again from the stored
//! nonce and the hashes of the approval (constant time). User verification is required.
//! Ceremonies are stored in the database for five minutes and are used once, so any node
//! can finish one.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::audit::{self, Event};
use crate::keystore::random_hex;
use crate::store::{int, now_millis, text};
use crate::web::WebSession;
use crate::{Refusal, Service, ServiceError, User};

/// How long a ceremony may take, in milliseconds.
const CEREMONY_MS: i64 = 300_000;

/// The label that starts every approval challenge.
const APPROVAL_LABEL: &[u8] = b"shomei/scal2-approval/v1\0";

/// The relying party: the web page's origin (its host is the RP ID).
pub struct Passkeys {
    webauthn: Webauthn,
    origin: String,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Passkeys {
    /// The relying party for the page at `origin` (`https://sign.example.jp`, or
    /// `http://localhost:PORT` for tests: browsers allow WebAuthn there).
    pub fn new(origin: &str) -> Result<Self, ServiceError> {
        let url = Url::parse(origin)
            .map_err(|e| ServiceError::Config(format!("web origin {origin:?}: {e}")))?;
        let rp_id = url
            .host_str()
            .ok_or_else(|| ServiceError::Config(format!("web origin {origin:?} has no host")))?
            .to_owned();
        let webauthn = WebauthnBuilder::new(&rp_id, &url)
            .and_then(|b| b.rp_name("shomei").build())
            .map_err(|e| ServiceError::Config(format!("web origin {origin:?}: {e}")))?;
        Ok(Self {
            webauthn,
            origin: origin.to_owned(),
        })
    }

    /// The origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// A passkey as its owner sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PasskeyInfo {
    /// The credential id (base64url).
    pub id: String,
    /// The name given at enrolment.
    pub name: String,
    /// When it was enrolled (ms since the Unix epoch).
    pub created_at: i64,
}

/// What an approval ceremony is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalBinding<'a> {
    /// The signing credential.
    pub credential_id: &'a str,
    /// The digest algorithm's name.
    pub hash_algorithm: &'a str,
    /// The hashes, in the order shown.
    pub hashes: &'a [Vec<u8>],
}

/// The approval challenge: SHA-256 over the label, the nonce and the binding.
pub fn approval_challenge(nonce: &[u8], binding: &ApprovalBinding<'_>) -> Vec<u8> {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut part = |bytes: &[u8]| {
        ctx.update(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
        ctx.update(bytes);
    };
    part(APPROVAL_LABEL);
    part(nonce);
    part(binding.credential_id.as_bytes());
    part(binding.hash_algorithm.as_bytes());
    part(
        &u64::try_from(binding.hashes.len())
            .unwrap_or(u64::MAX)
            .to_be_bytes(),
    );
    for h in binding.hashes {
        part(h);
    }
    ctx.finish().as_ref().to_vec()
}

/// A stable WebAuthn user handle for a user id.
fn user_handle(user: &User) -> Uuid {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, user.id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(digest.as_ref().get(..16).unwrap_or(&[0; 16]));
    Uuid::from_bytes(bytes)
}

fn bad(e: impl std::fmt::Display) -> ServiceError {
    Refusal::PasskeyFailed(e.to_string()).into()
}

impl Service {
    /// The user's passkeys.
    pub async fn passkeys_of(&self, user: &User) -> Result<Vec<PasskeyInfo>, ServiceError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at FROM passkeys WHERE user_id = $1 ORDER BY created_at",
        )
        .bind(&user.id)
        .fetch_all(self.store().pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PasskeyInfo {
                    id: text(r, "id")?,
                    name: text(r, "name")?,
                    created_at: int(r, "created_at")?,
                })
            })
            .collect()
    }

    async fn stored_passkeys(&self, user_id: &str) -> Result<Vec<Passkey>, ServiceError> {
        let rows = sqlx::query("SELECT passkey FROM passkeys WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(self.store().pool())
            .await?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&text(r, "passkey")?)
                    .map_err(|e| ServiceError::Internal(format!("stored passkey: {e}")))
            })
            .collect()
    }

    async fn save_ceremony(
        &self,
        user_id: &str,
        kind: &str,
        state: Value,
        bound: Value,
    ) -> Result<String, ServiceError> {
        let id = random_hex(16)?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id, user_id, kind, state, bound, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(kind)
        .bind(state.to_string())
        .bind(bound.to_string())
        .bind(now_millis().saturating_add(CEREMONY_MS))
        .execute(self.store().pool())
        .await?;
        Ok(id)
    }

    /// Takes a ceremony out of the database (it is used once): its user id, state and
    /// binding.
    async fn take_ceremony(
        &self,
        id: &str,
        kind: &str,
    ) -> Result<(String, Value, Value), ServiceError> {
        let row = sqlx::query(
            "SELECT user_id, state, bound, expires_at FROM webauthn_ceremonies \
             WHERE id = $1 AND kind = $2",
        )
        .bind(id)
        .bind(kind)
        .fetch_optional(self.store().pool())
        .await?;
        let done = sqlx::query("DELETE FROM webauthn_ceremonies WHERE id = $1")
            .bind(id)
            .execute(self.store().pool())
            .await?;
        let Some(row) = row.filter(|_| done.rows_affected() == 1) else {
            return Err(bad("unknown or used ceremony"));
        };
        if int(&row, "expires_at")? <= now_millis() {
            return Err(bad("the ceremony expired"));
        }
        let parse = |column: &str| -> Result<Value, ServiceError> {
            serde_json::from_str(&text(&row, column)?)
                .map_err(|e| ServiceError::Internal(format!("ceremony {column}: {e}")))
        };
        Ok((text(&row, "user_id")?, parse("state")?, parse("bound")?))
    }

    /// Starts enrolling a passkey for a signed-in user: the options for
    /// `navigator.credentials.create`.
    pub async fn passkey_register_start(
        &self,
        rp: &Passkeys,
        user: &User,
    ) -> Result<(String, Value), ServiceError> {
        let existing = self
            .stored_passkeys(&user.id)
            .await?
            .iter()
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let (options, state) = rp
            .webauthn
            .start_passkey_registration(user_handle(user), &user.name, &user.name, Some(existing))
            .map_err(|e| ServiceError::Internal(format!("webauthn: {e}")))?;
        let state = serde_json::to_value(&state)
            .map_err(|e| ServiceError::Internal(format!("webauthn state: {e}")))?;
        let id = self
            .save_ceremony(&user.id, "register", state, json!({}))
            .await?;
        let options = serde_json::to_value(&options)
            .map_err(|e| ServiceError::Internal(format!("webauthn options: {e}")))?;
        Ok((id, options))
    }

    /// Finishes enrolling: verifies the authenticator's answer and keeps the passkey.
    pub async fn passkey_register_finish(
        &self,
        rp: &Passkeys,
        user: &User,
        ceremony: &str,
        credential: &Value,
        name: &str,
    ) -> Result<PasskeyInfo, ServiceError> {
        let detail = json!({ "via": "web" });
        let outcome = async {
            let (owner, state, _) = self.take_ceremony(ceremony, "register").await?;
            if owner != user.id {
                return Err(bad("the ceremony is another user's"));
            }
            let state: PasskeyRegistration = serde_json::from_value(state)
                .map_err(|e| ServiceError::Internal(format!("webauthn state: {e}")))?;
            let answer: RegisterPublicKeyCredential =
                serde_json::from_value(credential.clone()).map_err(bad)?;
            rp.webauthn
                .finish_passkey_registration(&answer, &state)
                .map_err(bad)
        }
        .await;
        let passkey = match outcome {
            Ok(p) => p,
            Err(ServiceError::Refused(r)) => {
                return Err(self.refuse(&user.name, r, detail).await);
            }
            Err(e) => return Err(e),
        };
        let id = Base64UrlUnpadded::encode_string(passkey.cred_id().as_ref());
        let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
        let name = if name.trim().is_empty() {
            "passkey".to_string()
        } else {
            name
        };
        let now = now_millis();
        let mut tx = self.store().pool().begin().await?;
        sqlx::query(
            "INSERT INTO passkeys (id, user_id, name, passkey, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(&user.id)
        .bind(&name)
        .bind(
            serde_json::to_string(&passkey)
                .map_err(|e| ServiceError::Internal(format!("passkey: {e}")))?,
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &Event {
                kind: "passkey.enrol",
                actor: &user.name,
                detail: json!({ "passkey": id, "name": name }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(PasskeyInfo {
            id,
            name,
            created_at: now,
        })
    }

    /// Starts a passkey sign-in for the named user (who must have a passkey).
    pub async fn passkey_sign_in_start(
        &self,
        rp: &Passkeys,
        name: &str,
    ) -> Result<(String, Value), ServiceError> {
        let row = sqlx::query("SELECT id FROM users WHERE name = $1 AND disabled = 0")
            .bind(name)
            .fetch_optional(self.store().pool())
            .await?;
        let user_id = match row {
            Some(r) => text(&r, "id")?,
            None => String::new(),
        };
        let passkeys = if user_id.is_empty() {
            Vec::new()
        } else {
            self.stored_passkeys(&user_id).await?
        };
        if passkeys.is_empty() {
            return Err(self
                .refuse(name, Refusal::NoPasskey, json!({ "via": "web" }))
                .await);
        }
        let (options, state) = rp
            .webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| ServiceError::Internal(format!("webauthn: {e}")))?;
        let state = serde_json::to_value(&state)
            .map_err(|e| ServiceError::Internal(format!("webauthn state: {e}")))?;
        let id = self
            .save_ceremony(&user_id, "signin", state, json!({}))
            .await?;
        let options = serde_json::to_value(&options)
            .map_err(|e| ServiceError::Internal(format!("webauthn options: {e}")))?;
        Ok((id, options))
    }

    /// Finishes a passkey sign-in: a web session for the passkey's owner.
    pub async fn passkey_sign_in_finish(
        &self,
        rp: &Passkeys,
        ceremony: &str,
        credential: &Value,
        client: &str,
    ) -> Result<WebSession, ServiceError> {
        let outcome = async {
            let (user_id, state, _) = self.take_ceremony(ceremony, "signin").await?;
            self.verify_assertion(rp, &user_id, state, credential)
                .await
                .map(|(user, _)| user)
        }
        .await;
        match outcome {
            Ok(user) => self.open_web_session(&user, "passkey", client).await,
            Err(ServiceError::Refused(r)) => Err(self
                .refuse("-", r, json!({ "via": "web", "client": client }))
                .await),
            Err(e) => Err(e),
        }
    }

    /// Checks an assertion against a stored state: webauthn-rs's verification (origin,
    /// RP ID, challenge, signature, counter), user verification, one of the user's
    /// passkeys; keeps the passkey's new counter. Returns the user and the parsed answer.
    async fn verify_assertion(
        &self,
        rp: &Passkeys,
        user_id: &str,
        state: Value,
        credential: &Value,
    ) -> Result<(User, PublicKeyCredential), ServiceError> {
        let state: PasskeyAuthentication = serde_json::from_value(state)
            .map_err(|e| ServiceError::Internal(format!("webauthn state: {e}")))?;
        let answer: PublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(bad)?;
        let result = rp
            .webauthn
            .finish_passkey_authentication(&answer, &state)
            .map_err(bad)?;
        if !result.user_verified() {
            return Err(bad("the authenticator did not verify the user"));
        }
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.disabled, p.id AS pid, p.passkey FROM passkeys p \
             JOIN users u ON u.id = p.user_id WHERE p.id = $1 AND p.user_id = $2",
        )
        .bind(Base64UrlUnpadded::encode_string(result.cred_id().as_ref()))
        .bind(user_id)
        .fetch_optional(self.store().pool())
        .await?
        .ok_or_else(|| bad("not one of the user's passkeys"))?;
        let user = crate::service::user_from_row(&row)?;
        if int(&row, "disabled")? != 0 {
            return Err(Refusal::UserDisabled.into());
        }
        let mut passkey: Passkey = serde_json::from_str(&text(&row, "passkey")?)
            .map_err(|e| ServiceError::Internal(format!("stored passkey: {e}")))?;
        if passkey.update_credential(&result) == Some(true) {
            sqlx::query("UPDATE passkeys SET passkey = $1, last_used = $2 WHERE id = $3")
                .bind(
                    serde_json::to_string(&passkey)
                        .map_err(|e| ServiceError::Internal(format!("passkey: {e}")))?,
                )
                .bind(now_millis())
                .bind(text(&row, "pid")?)
                .execute(self.store().pool())
                .await?;
        }
        Ok((user, answer))
    }

    /// Starts an approval by passkey: the options for `navigator.credentials.get`, with
    /// the challenge bound to `binding` (see the module documentation).
    pub async fn passkey_approval_start(
        &self,
        rp: &Passkeys,
        user: &User,
        binding: &ApprovalBinding<'_>,
    ) -> Result<(String, Value), ServiceError> {
        let passkeys = self.stored_passkeys(&user.id).await?;
        if passkeys.is_empty() {
            return Err(self
                .refuse(&user.name, Refusal::NoPasskey, json!({ "via": "approval" }))
                .await);
        }
        let nonce =
            hex::decode(random_hex(32)?).map_err(|_| ServiceError::Internal("nonce".into()))?;
        let challenge = approval_challenge(&nonce, binding);
        let (mut options, state) = rp
            .webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| ServiceError::Internal(format!("webauthn: {e}")))?;
        options.public_key.challenge = challenge.clone();
        let mut state = serde_json::to_value(&state)
            .map_err(|e| ServiceError::Internal(format!("webauthn state: {e}")))?;
        // Fail closed if the crate's state no longer has its challenge where it was.
        match state.pointer_mut("/ast/challenge") {
            Some(slot) if slot.is_string() => {
                *slot = Value::String(Base64UrlUnpadded::encode_string(&challenge));
            }
            _ => {
                return Err(ServiceError::Internal(
                    "webauthn-rs's authentication state changed its layout".into(),
                ))
            }
        }
        let bound = json!({
            "nonce": hex::encode(&nonce),
            "credential": binding.credential_id,
            "hash_algorithm": binding.hash_algorithm,
            "hashes": binding.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
        });
        let id = self
            .save_ceremony(&user.id, "approve", state, bound)
            .await?;
        let options = serde_json::to_value(&options)
            .map_err(|e| ServiceError::Internal(format!("webauthn options: {e}")))?;
        Ok((id, options))
    }

    /// Finishes an approval by passkey for exactly `binding`: the ceremony is used up,
    /// the assertion verified, and its challenge must be the one derived from the
    /// ceremony's nonce and `binding` — another list of hashes is refused. The
    /// assertion is kept in the audit trail as evidence.
    pub(crate) async fn passkey_approval_finish(
        &self,
        rp: &Passkeys,
        user: &User,
        ceremony: &str,
        credential: &Value,
        binding: &ApprovalBinding<'_>,
    ) -> Result<(), ServiceError> {
        let detail = json!({ "via": "approval", "credential": binding.credential_id });
        let outcome = async {
            let (owner, state, bound) = self.take_ceremony(ceremony, "approve").await?;
            if owner != user.id {
                return Err(bad("the ceremony is another user's"));
            }
            let nonce = bound
                .get("nonce")
                .and_then(Value::as_str)
                .and_then(|n| hex::decode(n).ok())
                .ok_or_else(|| ServiceError::Internal("ceremony nonce".into()))?;
            let (_, answer) = self
                .verify_assertion(rp, &user.id, state, credential)
                .await?;
            let client_data: Value =
                serde_json::from_slice(answer.response.client_data_json.as_ref()).map_err(bad)?;
            let signed = client_data
                .get("challenge")
                .and_then(Value::as_str)
                .and_then(|c| Base64UrlUnpadded::decode_vec(c).ok())
                .ok_or_else(|| bad("clientDataJSON has no challenge"))?;
            let expected = approval_challenge(&nonce, binding);
            if !bool::from(signed.ct_eq(&expected)) {
                return Err(Refusal::ApprovalMismatch.into());
            }
            Ok((nonce, answer))
        }
        .await;
        let (nonce, answer) = match outcome {
            Ok(v) => v,
            Err(ServiceError::Refused(r)) => {
                return Err(self.refuse(&user.name, r, detail).await);
            }
            Err(e) => return Err(e),
        };
        let b64 = |b: &[u8]| Base64UrlUnpadded::encode_string(b);
        let mut tx = self.store().pool().begin().await?;
        audit::append(
            &mut tx,
            &Event {
                kind: "passkey.approval",
                actor: &user.name,
                detail: json!({
                    "credential": binding.credential_id,
                    "hash_algorithm": binding.hash_algorithm,
                    "hashes": binding.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
                    "nonce": hex::encode(nonce),
                    "passkey": b64(answer.raw_id.as_ref()),
                    "authenticator_data": b64(answer.response.authenticator_data.as_ref()),
                    "client_data_json": b64(answer.response.client_data_json.as_ref()),
                    "signature": b64(answer.response.signature.as_ref()),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_binds_every_part() {
        let hashes = vec![vec![1u8; 32], vec![2u8; 32]];
        let b = ApprovalBinding {
            credential_id: "cred-1",
            hash_algorithm: "sha256",
            hashes: &hashes,
        };
        let nonce = [7u8; 32];
        let base = approval_challenge(&nonce, &b);
        assert_eq!(base.len(), 32);
        assert_eq!(base, approval_challenge(&nonce, &b));
        let swapped = vec![hashes[1].clone(), hashes[0].clone()];
        let others = [
            ApprovalBinding {
                hashes: &swapped,
                ..b.clone()
            },
            ApprovalBinding {
                credential_id: "cred-2",
                ..b.clone()
            },
            ApprovalBinding {
                hash_algorithm: "sha384",
                ..b.clone()
            },
            ApprovalBinding {
                hashes: &hashes[..1],
                ..b.clone()
            },
        ];
        for other in &others {
            assert_ne!(approval_challenge(&nonce, other), base, "{other:?}");
        }
        assert_ne!(approval_challenge(&[8u8; 32], &b), base);
    }

    #[test]
    fn the_state_still_has_its_challenge_where_it_is_replaced() {
        // Guards the pinned crate's serialized layout that approvals depend on.
        let rp = Passkeys::new("http://localhost:8080").unwrap();
        let passkey: Passkey = serde_json::from_value(json!({
            "cred": {
                "cred_id": "AAAA",
                "cred": {"type_": "ES256", "key": {"EC_EC2": {"curve": "SECP256R1",
                    "x": "qGzN7cdhOrdI0PPxbalFWUZ7DPYpHyw4eZlmVg2r5PU",
                    "y": "Wf6gIJxMx55jr6xHRiHQxpLx1LXCdxm4mqYo9LSxD5M"}}},
                "counter": 0, "transports": null, "user_verified": true,
                "backup_eligible": false, "backup_state": false,
                "registration_policy": "required", "extensions": {},
                "attestation": {"data": "None", "metadata": "None"},
                "attestation_format": "none"
            }
        }))
        .unwrap();
        let (_, state) = rp
            .webauthn
            .start_passkey_authentication(&[passkey])
            .unwrap();
        let value = serde_json::to_value(&state).unwrap();
        assert!(value.pointer("/ast/challenge").unwrap().is_string());
    }
}
