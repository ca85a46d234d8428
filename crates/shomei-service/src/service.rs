//! The rules of the remote signing service (EN 419 241-1 Sole Control): users and their
//! two factors, credentials whose keys never leave the service, signature activation
//! data (SAD) bound to the exact hashes, and the audit record written in the same
//! transaction as every change and every refusal.

use crate::audit::{self, Event};
use crate::keystore::{generate_key, random_hex, random_token, secret_id, KeyKind, MasterKey};
use crate::store::{int, now_millis, text, Store};
use crate::token::Token;
use crate::{Refusal, ServiceError};
use base64ct::{Base64, Encoding};
use serde_json::json;
use shomei_core::{CertificateChain, Digest, DigestAlgorithm, SignatureAlgorithm};
use sqlx::{AnyConnection, Row};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Limits of the rules (all durations in seconds).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Policy {
    /// How long a SAD lives (at most 300).
    pub sad_ttl: i64,
    /// How long a bearer token lives.
    pub token_ttl: i64,
    /// Failed attempts allowed before delays start.
    pub free_attempts: i64,
    /// The longest delay after failed attempts.
    pub max_lock: i64,
    /// A web page session ends after this long without a request.
    pub session_idle: i64,
    /// Shortest password.
    pub min_password_len: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            sad_ttl: 300,
            token_ttl: 3600,
            free_attempts: 3,
            max_lock: 3600,
            session_idle: 900,
            min_password_len: 12,
        }
    }
}

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// Signs with its own credentials.
    Signer,
    /// Manages users and credentials; never signs.
    Admin,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Self::Signer => "signer",
            Self::Admin => "admin",
        }
    }
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Internal id.
    pub id: String,
    /// Login name.
    pub name: String,
    /// Signer or administrator.
    pub role: Role,
}

/// A credential as shown to its user.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CredentialInfo {
    /// The credential id.
    pub id: String,
    /// The key kind.
    pub key: KeyKind,
    /// The certificate chain (signing certificate first), once imported.
    pub chain: Option<CertificateChain>,
    /// Sole Control Level: 1 or 2.
    pub scal: i64,
    /// The most hashes one SAD may authorize.
    pub multisign: i64,
    /// `active`, `disabled` or `destroyed`.
    pub state: String,
}

/// A new TOTP second factor: shown once to the user, never again to anyone.
#[derive(Debug)]
pub struct TotpEnrollment {
    /// The secret, base32 (what an authenticator app takes).
    pub secret_base32: Zeroizing<String>,
    /// The `otpauth://` URI (for a QR code).
    pub uri: Zeroizing<String>,
}

/// `credentials/authorize`: what the signer presents.
#[derive(Debug)]
pub struct Authorize<'a> {
    /// The credential.
    pub credential_id: &'a str,
    /// The credential's PIN (knowledge).
    pub pin: &'a str,
    /// The TOTP code (possession).
    pub otp: &'a str,
    /// The possession factor was proven otherwise: a passkey assertion over a challenge
    /// bound to exactly `hashes` (`crate::passkeys`), checked just before. `otp` is not
    /// looked at then.
    pub possession_verified: bool,
    /// The hash algorithm of the hashes; `None` (CSC 1.0.4 with no hashes) leaves it to
    /// `signHash`.
    pub hash_algorithm: Option<DigestAlgorithm>,
    /// The hashes to be signed (required at SCAL 2).
    pub hashes: &'a [Vec<u8>],
    /// `numSignatures`.
    pub num_signatures: i64,
    /// Where the request came from (for the audit).
    pub client: &'a str,
}

/// A granted SAD: the secret goes to the client once.
#[derive(Debug)]
pub struct Sad {
    /// The SAD.
    pub sad: Zeroizing<String>,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// `signatures/signHash`: what is to be signed under a SAD.
#[derive(Debug)]
pub struct SignHashes<'a> {
    /// The credential.
    pub credential_id: &'a str,
    /// The SAD.
    pub sad: &'a str,
    /// The hashes.
    pub hashes: &'a [Vec<u8>],
    /// The signature algorithm (its hash must be the SAD's).
    pub algorithm: SignatureAlgorithm,
}

/// A signed-in session.
#[derive(Debug)]
pub struct Session {
    /// The bearer token (given to the client once; only its hash is stored).
    pub token: Zeroizing<String>,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// The service domain over one store and master key.
#[derive(Debug)]
pub struct Service {
    store: Store,
    master: MasterKey,
    policy: Policy,
    spender: tokio::sync::mpsc::Sender<SpendJob>,
    token: Option<Arc<Token>>,
}

/// Where a credential's key is, for one use.
enum KeySource {
    /// Unsealed from the software keystore (PKCS#8, wiped when dropped).
    Software(Zeroizing<Vec<u8>>),
    /// On the token, with its public key (SubjectPublicKeyInfo, DER).
    Token(Arc<shomei_pkcs11::TokenKey>, Vec<u8>),
}

/// Who asks for a `signHash`: a bearer token (checked in the group commit, with the
/// rest) or a user already signed in.
#[derive(Debug)]
pub(crate) enum Caller {
    Token(String),
    User(User),
}

/// What a granted `signHash` signs with: the credential's sealed key and kind.
#[derive(Debug)]
struct Granted {
    wrapped_key: String,
    token_key_id: String,
    key_kind: String,
}

/// The verdict of the group commit on one `signHash`.
type SpendOutcome = Result<Granted, Refusal>;

/// One `signHash` waiting for the next group commit.
struct SpendJob {
    caller: Caller,
    credential_id: String,
    sad_id: String,
    hash_alg: DigestAlgorithm,
    hashes: Vec<Vec<u8>>,
    /// The digests signed, when they are not `hashes` (`signDoc`: the SAD names the
    /// documents, the key signs what the service built from them).
    signed: Vec<Vec<u8>>,
    n: i64,
    algorithm: String,
    reply: tokio::sync::oneshot::Sender<Result<SpendOutcome, ServiceError>>,
}

impl std::fmt::Debug for SpendJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpendJob")
            .field("credential_id", &self.credential_id)
            .finish_non_exhaustive()
    }
}

/// Most `signHash` calls one group commit carries.
const MAX_GROUP: usize = 256;

/// The group commit of SAD spending: every `signHash` waiting now goes into one
/// transaction — each inside a savepoint, so a refused one leaves no trace but its
/// refusal record — and one commit makes all of them durable before any is answered.
/// Spending stays atomic per request; the commit (the fsync) is shared.
async fn spender(store: Store, mut jobs: tokio::sync::mpsc::Receiver<SpendJob>) {
    while let Some(first) = jobs.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        match commit_group(&store, &group).await {
            Ok(outcomes) => {
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                // The whole group failed (its transaction rolled back): each caller
                // learns whether the database was the cause, which is worth a retry.
                let message = e.to_string();
                for job in group {
                    let _ = job.reply.send(Err(match &e {
                        ServiceError::Database(d) if ServiceError::is_storage_full(d) => {
                            ServiceError::StorageFull(message.clone())
                        }
                        ServiceError::Database(_) => ServiceError::Unavailable(message.clone()),
                        _ => ServiceError::Internal(format!("spending: {message}")),
                    }));
                }
            }
        }
    }
}

async fn commit_group(
    store: &Store,
    group: &[SpendJob],
) -> Result<Vec<SpendOutcome>, ServiceError> {
    let mut tx = store.pool().begin().await?;
    // The head of the audit chain first: every writer takes the locks in this order,
    // so two nodes' groups queue up instead of deadlocking — and while this transaction
    // holds the head, no other spender can change the SADs read below.
    let head = audit::Head::lock(&mut tx).await?;
    let now = now_millis();
    let users = load_token_users(&mut tx, group, now).await?;
    let credentials = load_credentials(&mut tx, group).await?;
    let mut sads = load_sads(&mut tx, group).await?;
    let mut outcomes = Vec::with_capacity(group.len());
    let mut events = Vec::with_capacity(group.len());
    for job in group {
        let (actor, verdict) = judge(job, &users, &credentials, &mut sads, now);
        events.push(match &verdict {
            Ok(_) => {
                let mut detail = json!({
                    "credential": job.credential_id,
                    "algorithm": job.algorithm,
                    "hashes": job.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
                });
                if let (false, Some(map)) = (job.signed.is_empty(), detail.as_object_mut()) {
                    map.insert(
                        "signed".into(),
                        json!(job.signed.iter().map(hex::encode).collect::<Vec<_>>()),
                    );
                }
                Event {
                    kind: "signature",
                    actor,
                    detail,
                }
            }
            Err(refusal) => Event {
                kind: "refusal",
                actor,
                detail: json!({ "credential": job.credential_id, "reason": refusal.reason() }),
            },
        });
        outcomes.push(verdict);
    }
    for sad in &sads {
        sad.write(&mut tx).await?;
    }
    head.append_all(&mut tx, &events).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// A user as the group commit read it for a token, with `disabled`.
#[derive(Debug)]
struct TokenUser {
    token_id: String,
    user: User,
    disabled: bool,
}

/// A credential as the group commit read it.
#[derive(Debug)]
struct CredentialState {
    id: String,
    user_id: String,
    state: String,
    has_chain: bool,
    wrapped_key: String,
    token_key_id: String,
    key_kind: String,
}

/// The verdict on one job, in the order of the checks of a single call: the caller,
/// its role, the credential, then the SAD. Returns the actor to audit.
fn judge<'a>(
    job: &'a SpendJob,
    users: &'a [TokenUser],
    credentials: &[CredentialState],
    sads: &mut [SadState],
    now: i64,
) -> (&'a str, SpendOutcome) {
    let user = match &job.caller {
        Caller::User(user) => user,
        Caller::Token(id) => match users.iter().find(|u| u.token_id == *id) {
            Some(u) if u.disabled => return (&u.user.name, Err(Refusal::UserDisabled)),
            Some(u) => &u.user,
            None => return ("-", Err(Refusal::BadToken)),
        },
    };
    let actor = user.name.as_str();
    if user.role != Role::Signer {
        return (actor, Err(Refusal::NotASigner));
    }
    let credential = match credentials
        .iter()
        .find(|c| c.id == job.credential_id && c.user_id == user.id)
    {
        Some(c) => c,
        None => return (actor, Err(Refusal::UnknownCredential)),
    };
    match credential.state.as_str() {
        "active" if credential.has_chain => {}
        "active" => return (actor, Err(Refusal::NoCertificate)),
        "disabled" => return (actor, Err(Refusal::CredentialDisabled)),
        _ => return (actor, Err(Refusal::CredentialDestroyed)),
    }
    let spent = match sads.iter_mut().find(|s| s.id == job.sad_id) {
        Some(sad) => sad.spend(job, user, now),
        None => Err(Refusal::BadSad),
    };
    (
        actor,
        spent.map(|()| Granted {
            wrapped_key: credential.wrapped_key.clone(),
            token_key_id: credential.token_key_id.clone(),
            key_kind: credential.key_kind.clone(),
        }),
    )
}

/// The users of the live tokens the group presents (one query).
async fn load_token_users(
    tx: &mut AnyConnection,
    group: &[SpendJob],
    now: i64,
) -> Result<Vec<TokenUser>, ServiceError> {
    let mut ids: Vec<&str> = group
        .iter()
        .filter_map(|j| match &j.caller {
            Caller::Token(id) => Some(id.as_str()),
            Caller::User(_) => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT t.id AS token_id, u.id, u.name, u.role, u.disabled FROM tokens t \
         JOIN users u ON u.id = t.user_id \
         WHERE t.revoked = 0 AND t.expires_at > $1 AND t.id IN ({})",
        placeholders(2, ids.len())
    );
    let mut query = sqlx::query(&sql).bind(now);
    for id in &ids {
        query = query.bind(*id);
    }
    let mut users = Vec::with_capacity(ids.len());
    for row in query.fetch_all(&mut *tx).await? {
        users.push(TokenUser {
            token_id: text(&row, "token_id")?,
            user: user_from_row(&row)?,
            disabled: int(&row, "disabled")? != 0,
        });
    }
    Ok(users)
}

/// The credentials the group names (one query).
async fn load_credentials(
    tx: &mut AnyConnection,
    group: &[SpendJob],
) -> Result<Vec<CredentialState>, ServiceError> {
    let mut ids: Vec<&str> = group.iter().map(|j| j.credential_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let sql = format!(
        "SELECT id, user_id, state, chain_pem, wrapped_key, token_key_id, key_kind FROM credentials \
         WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in &ids {
        query = query.bind(*id);
    }
    let mut credentials = Vec::with_capacity(ids.len());
    for row in query.fetch_all(&mut *tx).await? {
        credentials.push(CredentialState {
            id: text(&row, "id")?,
            user_id: text(&row, "user_id")?,
            state: text(&row, "state")?,
            has_chain: row
                .try_get::<Option<String>, _>("chain_pem")?
                .is_some_and(|pem| !pem.is_empty()),
            wrapped_key: row
                .try_get::<Option<String>, _>("wrapped_key")?
                .unwrap_or_default(),
            token_key_id: text(&row, "token_key_id")?,
            key_kind: text(&row, "key_kind")?,
        });
    }
    Ok(credentials)
}

/// A SAD as read by the group commit, and what the group spends of it.
#[derive(Debug)]
struct SadState {
    id: String,
    user_id: String,
    credential_id: String,
    hash_alg: String,
    num_signatures: i64,
    used_before: i64,
    used: i64,
    bound: bool,
    expires_at: i64,
    /// Hex hash → (allowed, spent before, spent): only the hashes the group asks for.
    hashes: Vec<(String, i64, i64, i64)>,
}

impl SadState {
    /// The verdict on one `signHash`; when it is granted, its spending is counted.
    /// The checks are those of a conditional update, made on the state locked by the
    /// group's transaction.
    fn spend(&mut self, job: &SpendJob, user: &User, now: i64) -> Result<(), Refusal> {
        let alg = job.hash_alg.oid().to_string();
        if self.user_id != user.id || self.credential_id != job.credential_id {
            return Err(Refusal::BadSad);
        }
        if self.expires_at <= now {
            return Err(Refusal::BadSad);
        }
        if !self.hash_alg.is_empty() && self.hash_alg != alg {
            return Err(Refusal::HashAlgorithm);
        }
        if self.used >= self.num_signatures {
            return Err(Refusal::BadSad);
        }
        if self.used.saturating_add(job.n) > self.num_signatures {
            return Err(Refusal::TooManySignatures);
        }
        if self.bound {
            // All or nothing: count this call's hashes (a multiset) against what is
            // left of each before spending any.
            let wanted = count_hashes(&job.hashes);
            for (hex, n) in &wanted {
                match self.hashes.iter().find(|(x, ..)| x == hex) {
                    Some((_, allowed, _, spent)) if spent + n <= *allowed => {}
                    _ => return Err(Refusal::HashNotAuthorized),
                }
            }
            for (hex, n) in &wanted {
                if let Some(entry) = self.hashes.iter_mut().find(|(x, ..)| x == hex) {
                    entry.3 += n;
                }
            }
        }
        self.used += job.n;
        Ok(())
    }

    /// Writes what the group spent — still conditional on what was read, so a change
    /// by any writer that did not lock the head first fails the group instead of
    /// over-spending.
    async fn write(&self, tx: &mut AnyConnection) -> Result<(), ServiceError> {
        if self.used == self.used_before {
            return Ok(());
        }
        let done = sqlx::query(
            "UPDATE sads SET used = $1 WHERE id = $2 AND used = $3 AND $1 <= num_signatures",
        )
        .bind(self.used)
        .bind(&self.id)
        .bind(self.used_before)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(ServiceError::Internal(
                "a SAD changed under the group commit".into(),
            ));
        }
        for (hash, allowed, before, spent) in &self.hashes {
            if spent == before {
                continue;
            }
            let done = sqlx::query(
                "UPDATE sad_hashes SET spent = $1 WHERE sad_id = $2 AND hash = $3 AND spent = $4 \
                 AND $1 <= allowed",
            )
            .bind(spent)
            .bind(&self.id)
            .bind(hash)
            .bind(before)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 || spent > allowed {
                return Err(ServiceError::Internal(
                    "a SAD hash changed under the group commit".into(),
                ));
            }
        }
        Ok(())
    }
}

/// A list of hashes as a multiset: each distinct hash (hex) with how often it occurs.
fn count_hashes(hashes: &[Vec<u8>]) -> Vec<(String, i64)> {
    let mut counted: Vec<(String, i64)> = Vec::new();
    for h in hashes {
        let hex = hex::encode(h);
        match counted.iter_mut().find(|(x, _)| *x == hex) {
            Some((_, n)) => *n += 1,
            None => counted.push((hex, 1)),
        }
    }
    counted
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads every SAD the group names (one query), and for the bound ones the entries of
/// the hashes asked for (one query per bound SAD).
async fn load_sads(
    tx: &mut AnyConnection,
    group: &[SpendJob],
) -> Result<Vec<SadState>, ServiceError> {
    let mut ids: Vec<&str> = group.iter().map(|j| j.sad_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let sql = format!(
        "SELECT id, user_id, credential_id, hash_alg, num_signatures, used, bound, expires_at \
         FROM sads WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in &ids {
        query = query.bind(*id);
    }
    let mut sads = Vec::with_capacity(ids.len());
    for row in query.fetch_all(&mut *tx).await? {
        let used = int(&row, "used")?;
        sads.push(SadState {
            id: text(&row, "id")?,
            user_id: text(&row, "user_id")?,
            credential_id: text(&row, "credential_id")?,
            hash_alg: text(&row, "hash_alg")?,
            num_signatures: int(&row, "num_signatures")?,
            used_before: used,
            used,
            bound: int(&row, "bound")? != 0,
            expires_at: int(&row, "expires_at")?,
            hashes: Vec::new(),
        });
    }
    for sad in sads.iter_mut().filter(|s| s.bound) {
        let mut wanted: Vec<String> = group
            .iter()
            .filter(|j| j.sad_id == sad.id)
            .flat_map(|j| j.hashes.iter().map(hex::encode))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        for chunk in wanted.chunks(512) {
            let sql = format!(
                "SELECT hash, allowed, spent FROM sad_hashes WHERE sad_id = $1 AND hash IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(&sad.id);
            for h in chunk {
                query = query.bind(h.as_str());
            }
            for row in query.fetch_all(&mut *tx).await? {
                let spent = int(&row, "spent")?;
                sad.hashes
                    .push((text(&row, "hash")?, int(&row, "allowed")?, spent, spent));
            }
        }
    }
    Ok(sads)
}

fn hash_password(secret: &str) -> Result<String, ServiceError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("argon2: {e}")))
}

fn password_matches(secret: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// Runs argon2 (tens of milliseconds) off the async executor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    Ok(shomei_core::blocking::run_blocking(f).await?)
}

fn lock_seconds(policy: &Policy, failures: i64) -> i64 {
    let over = failures.saturating_sub(policy.free_attempts);
    if over <= 0 {
        return 0;
    }
    // 2, 4, 8, ... seconds, at most `max_lock`.
    let exp = u32::try_from(over.min(20)).unwrap_or(20);
    2i64.saturating_pow(exp).min(policy.max_lock)
}

impl Service {
    /// The service over `store`, refusing a master key that did not seal this
    /// installation's data (the first start records the key's check value).
    pub async fn open(store: Store, master: MasterKey) -> Result<Self, ServiceError> {
        let row = sqlx::query("SELECT value FROM meta WHERE name = 'master_key_check'")
            .fetch_optional(store.pool())
            .await?;
        match row {
            Some(row) => master.verify_check_value(&text(&row, "value")?)?,
            None => {
                sqlx::query("INSERT INTO meta (name, value) VALUES ('master_key_check', $1)")
                    .bind(master.check_value()?)
                    .execute(store.pool())
                    .await?;
            }
        }
        let (spender_tx, spender_rx) = tokio::sync::mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(spender(store.clone(), spender_rx));
        Ok(Self {
            store,
            master,
            policy: Policy::default(),
            spender: spender_tx,
            token: None,
        })
    }

    /// Lets credentials be created with their key on this PKCS#11 token
    /// ([`Self::create_token_credential`]), and signs with such keys.
    pub fn with_token(mut self, token: Token) -> Self {
        self.token = Some(Arc::new(token));
        self
    }

    fn token(&self) -> Result<&Arc<Token>, ServiceError> {
        self.token.as_ref().ok_or_else(|| {
            ServiceError::Config(
                "this credential's key is on a PKCS#11 token, and no token is configured \
                 ([pkcs11] in the configuration)"
                    .into(),
            )
        })
    }

    /// Replaces the policy.
    pub fn with_policy(mut self, mut policy: Policy) -> Self {
        policy.sad_ttl = policy.sad_ttl.clamp(1, 300);
        self.policy = policy;
        self
    }

    /// The rules' limits.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Whether the database answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), ServiceError> {
        sqlx::query("SELECT 1").execute(self.store.pool()).await?;
        Ok(())
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Records a refusal in its own transaction and returns it as the error.
    pub(crate) async fn refuse(
        &self,
        actor: &str,
        refusal: Refusal,
        detail: serde_json::Value,
    ) -> ServiceError {
        let mut detail = detail;
        if let Some(map) = detail.as_object_mut() {
            map.insert("reason".into(), json!(refusal.reason()));
        }
        let event = Event {
            kind: "refusal",
            actor,
            detail,
        };
        match self.append_alone(&event).await {
            Ok(()) => ServiceError::Refused(refusal),
            Err(e) => e,
        }
    }

    pub(crate) async fn append_alone(&self, event: &Event<'_>) -> Result<(), ServiceError> {
        let mut tx = self.store.pool().begin().await?;
        audit::append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks the whole audit chain.
    pub async fn verify_audit(&self) -> Result<audit::Verdict, ServiceError> {
        let mut conn = self.store.pool().acquire().await?;
        audit::verify(&mut conn).await
    }

    // ----- users ------------------------------------------------------------------

    /// Creates a user (an administrator act). The password must meet the policy.
    pub async fn create_user(
        &self,
        admin: &str,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<String, ServiceError> {
        if password.chars().count() < self.policy.min_password_len {
            return Err(self
                .refuse(
                    admin,
                    Refusal::PasswordPolicy(format!(
                        "at least {} characters",
                        self.policy.min_password_len
                    )),
                    json!({ "user": name }),
                )
                .await);
        }
        let secret = Zeroizing::new(password.to_owned());
        let phc = blocking(move || hash_password(&secret)).await??;
        let id = random_hex(16)?;
        let mut tx = self.store.pool().begin().await?;
        sqlx::query(
            "INSERT INTO users (id, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(name)
        .bind(role.name())
        .bind(&phc)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            &Event {
                kind: "admin.user.create",
                actor: admin,
                detail: json!({ "user": name, "role": role.name() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Disables or enables a user (an administrator act).
    pub async fn set_user_disabled(
        &self,
        admin: &str,
        name: &str,
        disabled: bool,
    ) -> Result<(), ServiceError> {
        let mut tx = self.store.pool().begin().await?;
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
            .bind(i64::from(disabled))
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(ServiceError::Config(format!("no user {name}")));
        }
        let kind = if disabled {
            "admin.user.disable"
        } else {
            "admin.user.enable"
        };
        audit::append(
            &mut tx,
            &Event {
                kind,
                actor: admin,
                detail: json!({ "user": name }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enrols a TOTP second factor (RFC 6238, SHA-1, 6 digits, 30 s: what
    /// authenticator apps expect). The secret is shown once and stored sealed.
    pub async fn enroll_totp(
        &self,
        admin: &str,
        name: &str,
        issuer: &str,
    ) -> Result<TotpEnrollment, ServiceError> {
        let user = self.user_by_name(name).await?;
        let raw = Zeroizing::new(hex::decode(random_hex(20)?).unwrap_or_default());
        let totp = totp(raw.to_vec(), issuer, name)?;
        let enrollment = TotpEnrollment {
            secret_base32: Zeroizing::new(totp.get_secret_base32()),
            uri: Zeroizing::new(totp.get_url()),
        };
        let sealed = self.master.seal(&format!("totp:{}", user.id), &raw)?;
        let mut tx = self.store.pool().begin().await?;
        sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = 0 WHERE id = $2")
            .bind(&sealed)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &Event {
                kind: "admin.totp.enroll",
                actor: admin,
                detail: json!({ "user": name }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(enrollment)
    }

    async fn user_by_name(&self, name: &str) -> Result<User, ServiceError> {
        let row = sqlx::query("SELECT id, name, role FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or_else(|| ServiceError::Config(format!("no user {name}")))?;
        user_from_row(&row)
    }

    /// Checks a user's password: failed attempts lock the account with growing
    /// delays; every failure is audited (`detail` says from where).
    pub(crate) async fn check_password(
        &self,
        name: &str,
        password: &str,
        detail: &serde_json::Value,
    ) -> Result<User, ServiceError> {
        let row = sqlx::query(
            "SELECT id, name, role, password_hash, disabled, failed_attempts, locked_until \
             FROM users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else {
            // Same cost as a real check, so the answer does not tell names apart.
            let secret = Zeroizing::new(password.to_owned());
            let _ = blocking(move || hash_password(&secret)).await?;
            return Err(self.refuse(name, Refusal::BadLogin, detail.clone()).await);
        };
        let user = user_from_row(&row)?;
        let locked_until = int(&row, "locked_until")?;
        let now = now_millis();
        if locked_until > now {
            let seconds = (locked_until - now) / 1000 + 1;
            return Err(self
                .refuse(name, Refusal::Locked { seconds }, detail.clone())
                .await);
        }
        if int(&row, "disabled")? != 0 {
            return Err(self
                .refuse(name, Refusal::UserDisabled, detail.clone())
                .await);
        }
        let phc = text(&row, "password_hash")?;
        let secret = Zeroizing::new(password.to_owned());
        if !blocking(move || password_matches(&secret, &phc)).await? {
            self.count_failure("users", "id", &user.id, int(&row, "failed_attempts")?)
                .await?;
            return Err(self.refuse(name, Refusal::BadLogin, detail.clone()).await);
        }
        Ok(user)
    }

    /// Counts a failed second factor against the user's account (the same delays as
    /// wrong passwords).
    pub(crate) async fn count_user_failure(&self, user: &User) -> Result<(), ServiceError> {
        let row = sqlx::query("SELECT failed_attempts FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_one(self.store.pool())
            .await?;
        self.count_failure("users", "id", &user.id, int(&row, "failed_attempts")?)
            .await
    }

    /// Signs in with a password: a bearer token for this user. Failed attempts lock
    /// the account with growing delays; every attempt is audited.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        client: &str,
    ) -> Result<Session, ServiceError> {
        let detail = json!({ "user": name, "client": client });
        let user = self.check_password(name, password, &detail).await?;
        let now = now_millis();
        let token = random_token(32)?;
        let expires_in = self.policy.token_ttl;
        let mut tx = self.store.pool().begin().await?;
        sqlx::query("UPDATE users SET failed_attempts = 0, locked_until = 0 WHERE id = $1")
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO tokens (id, user_id, expires_at) VALUES ($1, $2, $3)")
            .bind(secret_id(&token))
            .bind(&user.id)
            .bind(now + expires_in * 1000)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &Event {
                kind: "signin",
                actor: name,
                detail,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Session { token, expires_in })
    }

    /// The user a bearer token belongs to.
    pub async fn token_user(&self, token: &str) -> Result<User, ServiceError> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.disabled FROM tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.id = $1 AND t.revoked = 0 AND t.expires_at > $2",
        )
        .bind(secret_id(token))
        .bind(now_millis())
        .fetch_optional(self.store.pool())
        .await?;
        match row {
            Some(row) if int(&row, "disabled")? == 0 => user_from_row(&row),
            Some(row) => {
                let name = text(&row, "name")?;
                Err(self.refuse(&name, Refusal::UserDisabled, json!({})).await)
            }
            None => Err(self.refuse("-", Refusal::BadToken, json!({})).await),
        }
    }

    /// Revokes a bearer token.
    pub async fn revoke_token(&self, token: &str) -> Result<(), ServiceError> {
        let user = self.token_user(token).await?;
        let mut tx = self.store.pool().begin().await?;
        sqlx::query("UPDATE tokens SET revoked = 1 WHERE id = $1")
            .bind(secret_id(token))
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &Event {
                kind: "token.revoke",
                actor: &user.name,
                detail: json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn count_failure(
        &self,
        table: &str,
        key: &str,
        id: &str,
        failures_before: i64,
    ) -> Result<(), ServiceError> {
        let failures = failures_before + 1;
        let lock = lock_seconds(&self.policy, failures);
        let until = if lock > 0 {
            now_millis() + lock * 1000
        } else {
            0
        };
        sqlx::query(&format!(
            "UPDATE {table} SET failed_attempts = $1, locked_until = $2 WHERE {key} = $3"
        ))
        .bind(failures)
        .bind(until)
        .bind(id)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    // ----- credentials -----------------------------------------------------------

    /// Creates a credential for `user`: the key is generated here and stored only
    /// sealed under the master key. Signing needs a certificate ([`Self::import_chain`]).
    pub async fn create_credential(
        &self,
        admin: &str,
        user: &str,
        key: KeyKind,
        scal: i64,
        multisign: i64,
        pin: &str,
    ) -> Result<String, ServiceError> {
        self.new_credential(admin, user, key, scal, multisign, pin, false)
            .await
    }

    /// As [`Self::create_credential`], with the key generated on the configured PKCS#11
    /// token (sensitive, never extractable): the service keeps only its id and public
    /// key.
    pub async fn create_token_credential(
        &self,
        admin: &str,
        user: &str,
        key: KeyKind,
        scal: i64,
        multisign: i64,
        pin: &str,
    ) -> Result<String, ServiceError> {
        self.new_credential(admin, user, key, scal, multisign, pin, true)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn new_credential(
        &self,
        admin: &str,
        user: &str,
        key: KeyKind,
        scal: i64,
        multisign: i64,
        pin: &str,
        on_token: bool,
    ) -> Result<String, ServiceError> {
        if !(1..=2).contains(&scal) || multisign < 1 {
            return Err(ServiceError::Config(format!(
                "SCAL must be 1 or 2 and multisign at least 1 (got {scal}, {multisign})"
            )));
        }
        let owner = self.user_by_name(user).await?;
        let id = format!("cred-{}", random_hex(8)?);
        let (sealed, token_key_id, public_key) = if on_token {
            let token = Arc::clone(self.token()?);
            let label = id.clone();
            let made = blocking(move || token.generate(&label, key)).await??;
            (String::new(), made.id, Base64::encode_string(&made.spki))
        } else {
            let pkcs8 = blocking(move || generate_key(key)).await??;
            let sealed = self.master.seal(&format!("key:{id}"), &pkcs8)?;
            (sealed, String::new(), String::new())
        };
        let pin = Zeroizing::new(pin.to_owned());
        let pin_hash = blocking(move || hash_password(&pin)).await??;
        let mut tx = self.store.pool().begin().await?;
        sqlx::query(
            "INSERT INTO credentials (id, user_id, key_kind, wrapped_key, scal, multisign, \
             pin_hash, state, created_at, token_key_id, public_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10)",
        )
        .bind(&id)
        .bind(&owner.id)
        .bind(key.name())
        .bind(&sealed)
        .bind(scal)
        .bind(multisign)
        .bind(&pin_hash)
        .bind(now_millis())
        .bind(&token_key_id)
        .bind(&public_key)
        .execute(&mut *tx)
        .await?;
        let device = if on_token { "pkcs11" } else { "software" };
        audit::append(
            &mut tx,
            &Event {
                kind: "admin.credential.create",
                actor: admin,
                detail: json!({ "user": user, "credential": id, "key": key.name(), "scal": scal, "multisign": multisign, "device": device }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Where a credential's key is, opened for one use.
    async fn key_source(&self, credential_id: &str) -> Result<(KeySource, KeyKind), ServiceError> {
        let row = sqlx::query(
            "SELECT wrapped_key, token_key_id, public_key, key_kind FROM credentials WHERE id = $1",
        )
        .bind(credential_id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| ServiceError::Config(format!("no credential {credential_id}")))?;
        let kind = KeyKind::from_name(&text(&row, "key_kind")?)
            .ok_or_else(|| ServiceError::Internal("stored key kind".into()))?;
        let token_key_id = text(&row, "token_key_id")?;
        if token_key_id.is_empty() {
            return Ok((KeySource::Software(self.unseal(credential_id, &row)?), kind));
        }
        let spki = Base64::decode_vec(&text(&row, "public_key")?)
            .map_err(|_| ServiceError::Internal("stored public key".into()))?;
        let token = Arc::clone(self.token()?);
        let key = blocking(move || token.key(&token_key_id, kind)).await??;
        Ok((KeySource::Token(key, spki), kind))
    }

    /// The rcgen key pair of a credential's key: signing happens where the key is.
    async fn rcgen_pair(&self, credential_id: &str) -> Result<rcgen::KeyPair, ServiceError> {
        match self.key_source(credential_id).await? {
            (KeySource::Software(key), _) => rcgen::KeyPair::try_from(key.as_slice())
                .map_err(|e| ServiceError::Internal(format!("key: {e}"))),
            (KeySource::Token(key, spki), kind) => rcgen::KeyPair::from_remote(Box::new(
                crate::token::RemotePair::new(key, &spki, kind)?,
            ))
            .map_err(|e| ServiceError::Internal(format!("key: {e}"))),
        }
    }

    /// The key sealed in a credential row that was read with its `wrapped_key`.
    fn unseal(
        &self,
        credential_id: &str,
        row: &sqlx::any::AnyRow,
    ) -> Result<Zeroizing<Vec<u8>>, ServiceError> {
        self.master
            .open(&format!("key:{credential_id}"), &text(row, "wrapped_key")?)
    }

    /// The public key of a credential (SubjectPublicKeyInfo, DER), for a CA to
    /// certify. The private key itself has no way out.
    pub async fn public_key(&self, credential_id: &str) -> Result<Vec<u8>, ServiceError> {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::KeyPair;
        let (key, kind) = match self.key_source(credential_id).await? {
            (KeySource::Token(_, spki), _) => return Ok(spki),
            (KeySource::Software(key), kind) => (key, kind),
        };
        fn failed<E>(_: E) -> ServiceError {
            ServiceError::Internal("public key".into())
        }
        let spki = match Some(kind) {
            Some(KeyKind::Rsa2048 | KeyKind::Rsa3072) => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&key).map_err(failed)?;
                AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(pair.public_key())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec()
            }
            Some(kind) => {
                let alg = if kind == KeyKind::EcP256 {
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING
                } else {
                    &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING
                };
                let pair =
                    aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(alg, &key).map_err(failed)?;
                AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(pair.public_key())
                    .map_err(failed)?
                    .as_ref()
                    .to_vec()
            }
            None => return Err(ServiceError::Internal("stored key kind".into())),
        };
        Ok(spki)
    }

    /// A PKCS#10 certificate request (PEM) for a credential's key, signed by that key,
    /// with `common_name` as subject: what a CA certifies. An administrator act.
    pub async fn certificate_request(
        &self,
        admin: &str,
        credential_id: &str,
        common_name: &str,
    ) -> Result<String, ServiceError> {
        let pair = self.rcgen_pair(credential_id).await?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| ServiceError::Internal(format!("CSR: {e}")))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        let csr = params
            .serialize_request(&pair)
            .and_then(|r| r.pem())
            .map_err(|e| ServiceError::Internal(format!("CSR: {e}")))?;
        self.append_alone(&Event {
            kind: "admin.credential.csr",
            actor: admin,
            detail: json!({ "credential": credential_id, "subject": common_name }),
        })
        .await?;
        Ok(csr)
    }

    /// Issues a certificate for a credential's key with a CA held by the caller (the
    /// demo's built-in test CA), and imports it with the CA certificate as chain.
    pub(crate) async fn certify_with(
        &self,
        admin: &str,
        credential_id: &str,
        common_name: &str,
        ca: &rcgen::Certificate,
        ca_key: &rcgen::KeyPair,
    ) -> Result<(), ServiceError> {
        let pair = self.rcgen_pair(credential_id).await?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| ServiceError::Internal(format!("certificate: {e}")))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "shomei demo (not trusted)");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::DigitalSignature,
            rcgen::KeyUsagePurpose::ContentCommitment,
        ];
        // rcgen writes the extensions only when one of these asks for them.
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.use_authority_key_identifier_extension = true;
        // A fixed, long validity: the demo CA is for trying things out, never trusted.
        params.not_before = rcgen::date_time_ymd(2025, 1, 1);
        params.not_after = rcgen::date_time_ymd(2045, 1, 1);
        let cert = params
            .signed_by(&pair, ca, ca_key)
            .map_err(|e| ServiceError::Internal(format!("certificate: {e}")))?;
        let chain = format!("{}{}", cert.pem(), ca.pem());
        self.import_chain(admin, credential_id, &chain).await
    }

    /// Imports the certificate chain issued for a credential's key (signing certificate
    /// first); refused when the certificate is not the key's.
    pub async fn import_chain(
        &self,
        admin: &str,
        credential_id: &str,
        chain_pem: &str,
    ) -> Result<(), ServiceError> {
        let chain = CertificateChain::from_pem_or_der(chain_pem.as_bytes())
            .map_err(shomei_keys::KeyError::from)?;
        // Refused unless the key matches the certificate.
        match self.key_source(credential_id).await? {
            (KeySource::Software(key), _) => {
                shomei_keys::SoftwareSigner::from_key_and_chain(&key, chain.clone())?;
            }
            (KeySource::Token(_, spki), _) => {
                if chain.signing_cert().spki_der().ok().as_deref() != Some(spki.as_slice()) {
                    return Err(shomei_keys::KeyError::KeyCertMismatch {
                        subject: chain.signing_cert().subject(),
                        detail: "the certificate certifies another key than the credential's"
                            .into(),
                    }
                    .into());
                }
            }
        }
        let mut tx = self.store.pool().begin().await?;
        sqlx::query("UPDATE credentials SET chain_pem = $1 WHERE id = $2")
            .bind(chain_pem)
            .bind(credential_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            &Event {
                kind: "admin.credential.certificate",
                actor: admin,
                detail: json!({ "credential": credential_id, "subject": chain.signing_cert().subject() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a credential's state: `disabled`, `active`, or `destroyed` (the sealed key
    /// is erased; the record stays, audited).
    pub async fn set_credential_state(
        &self,
        admin: &str,
        credential_id: &str,
        state: &str,
    ) -> Result<(), ServiceError> {
        let mut tx = self.store.pool().begin().await?;
        let sql = if state == "destroyed" {
            "UPDATE credentials SET state = $1, wrapped_key = '' WHERE id = $2 AND state <> 'destroyed'"
        } else {
            "UPDATE credentials SET state = $1 WHERE id = $2 AND state <> 'destroyed'"
        };
        let done = sqlx::query(sql)
            .bind(state)
            .bind(credential_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(ServiceError::Config(format!(
                "no credential {credential_id} that can be {state}"
            )));
        }
        if state == "destroyed" {
            // A key on the token is destroyed there before the change commits.
            let row = sqlx::query("SELECT token_key_id FROM credentials WHERE id = $1")
                .bind(credential_id)
                .fetch_one(&mut *tx)
                .await?;
            let token_key_id = text(&row, "token_key_id")?;
            if !token_key_id.is_empty() {
                let token = Arc::clone(self.token()?);
                blocking(move || token.destroy(&token_key_id)).await??;
            }
        }
        audit::append(
            &mut tx,
            &Event {
                kind: "admin.credential.state",
                actor: admin,
                detail: json!({ "credential": credential_id, "state": state }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The credentials of `user`.
    pub async fn credentials_of(&self, user: &User) -> Result<Vec<CredentialInfo>, ServiceError> {
        let rows = sqlx::query(
            "SELECT id, key_kind, chain_pem, scal, multisign, state FROM credentials \
             WHERE user_id = $1 AND state <> 'destroyed' ORDER BY id",
        )
        .bind(&user.id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(credential_from_row).collect()
    }

    /// Every credential (of one user when `user` is given), destroyed ones included,
    /// for the administrator: ids, owners, key kinds, levels and states — nothing
    /// secret.
    pub async fn list_credentials(
        &self,
        user: Option<&str>,
    ) -> Result<Vec<(String, CredentialInfo)>, ServiceError> {
        let rows = sqlx::query(
            "SELECT c.id, u.name AS user_name, c.key_kind, c.chain_pem, c.scal, c.multisign, \
             c.state FROM credentials c JOIN users u ON u.id = c.user_id \
             WHERE ($1 = '' OR u.name = $1) ORDER BY u.name, c.id",
        )
        .bind(user.unwrap_or(""))
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|row| Ok((text(row, "user_name")?, credential_from_row(row)?)))
            .collect()
    }

    /// One credential of `user`, whatever its state.
    async fn credential(
        &self,
        user: &User,
        credential_id: &str,
    ) -> Result<(CredentialInfo, sqlx::any::AnyRow), ServiceError> {
        let row = sqlx::query(
            "SELECT id, key_kind, chain_pem, scal, multisign, state, pin_hash, failed_attempts, \
             locked_until, wrapped_key FROM credentials WHERE id = $1 AND user_id = $2",
        )
        .bind(credential_id)
        .bind(&user.id)
        .fetch_optional(self.store.pool())
        .await?;
        match row {
            Some(row) => Ok((credential_from_row(&row)?, row)),
            None => Err(self
                .refuse(
                    &user.name,
                    Refusal::UnknownCredential,
                    json!({ "credential": credential_id }),
                )
                .await),
        }
    }

    /// A credential of `user` that may sign now.
    pub(crate) async fn usable_credential(
        &self,
        user: &User,
        credential_id: &str,
    ) -> Result<(CredentialInfo, sqlx::any::AnyRow), ServiceError> {
        let detail = json!({ "credential": credential_id });
        if user.role != Role::Signer {
            return Err(self.refuse(&user.name, Refusal::NotASigner, detail).await);
        }
        let (info, row) = self.credential(user, credential_id).await?;
        let refusal = match info.state.as_str() {
            "active" if info.chain.is_some() => None,
            "active" => Some(Refusal::NoCertificate),
            "disabled" => Some(Refusal::CredentialDisabled),
            _ => Some(Refusal::CredentialDestroyed),
        };
        match refusal {
            Some(r) => Err(self.refuse(&user.name, r, detail).await),
            None => Ok((info, row)),
        }
    }

    /// `credentials/info` for the signer.
    pub async fn credential_info(
        &self,
        user: &User,
        credential_id: &str,
    ) -> Result<CredentialInfo, ServiceError> {
        Ok(self.credential(user, credential_id).await?.0)
    }

    // ----- SAD -------------------------------------------------------------------

    pub(crate) async fn check_otp(&self, user: &User, otp: &str) -> Result<bool, ServiceError> {
        let row = sqlx::query("SELECT totp_secret FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_one(self.store.pool())
            .await?;
        let Ok(sealed) = row.try_get_unchecked_text("totp_secret") else {
            return Ok(false);
        };
        let raw = self.master.open(&format!("totp:{}", user.id), &sealed)?;
        let totp = totp(raw.to_vec(), "shomei", &user.name)?;
        let now = u64::try_from(now_millis() / 1000).unwrap_or(0);
        let step_now = now / 30;
        for step in [step_now.saturating_sub(1), step_now, step_now + 1] {
            let code = Zeroizing::new(totp.generate(step * 30));
            if bool::from(code.as_bytes().ct_eq(otp.as_bytes())) {
                // Accepted once: only a later step than any used before.
                let step = i64::try_from(step).unwrap_or(i64::MAX);
                let done = sqlx::query(
                    "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
                )
                .bind(step)
                .bind(&user.id)
                .execute(self.store.pool())
                .await?;
                if done.rows_affected() == 1 {
                    return Ok(true);
                }
                return Err(self
                    .refuse(&user.name, Refusal::OtpReplayed, json!({}))
                    .await);
            }
        }
        Ok(false)
    }

    /// `credentials/authorize`: checks the PIN (knowledge) and the TOTP code
    /// (possession) and grants a SAD bound to the user, the credential, the hash
    /// algorithm, the exact hashes (SCAL 2; optional at SCAL 1), `numSignatures` and a
    /// short expiry. Failed PIN or OTP attempts lock the credential with growing delays.
    pub async fn authorize(&self, user: &User, req: &Authorize<'_>) -> Result<Sad, ServiceError> {
        let detail = json!({ "credential": req.credential_id, "client": req.client });
        let (info, row) = self.usable_credential(user, req.credential_id).await?;
        let now = now_millis();
        let locked_until = int(&row, "locked_until")?;
        if locked_until > now {
            let seconds = (locked_until - now) / 1000 + 1;
            return Err(self
                .refuse(&user.name, Refusal::Locked { seconds }, detail)
                .await);
        }
        let n = req.num_signatures;
        let hashes = req.hashes.len();
        let count_ok = n >= 1
            && n <= info.multisign
            && (hashes == 0 || usize::try_from(n).is_ok_and(|n| n == hashes));
        if !count_ok {
            let why = format!("{n} with {hashes} hashes and multisign {}", info.multisign);
            return Err(self
                .refuse(&user.name, Refusal::BadCount(why), detail)
                .await);
        }
        if info.scal == 2 && hashes == 0 {
            return Err(self
                .refuse(&user.name, Refusal::HashesRequired, detail)
                .await);
        }
        if req.hashes.iter().any(|h| {
            req.hash_algorithm
                .is_none_or(|alg| h.len() != alg.output_len())
        }) {
            return Err(self
                .refuse(&user.name, Refusal::HashAlgorithm, detail)
                .await);
        }
        let failures = int(&row, "failed_attempts")?;
        let phc = text(&row, "pin_hash")?;
        let pin = Zeroizing::new(req.pin.to_owned());
        let pin_ok = blocking(move || password_matches(&pin, &phc)).await?;
        if !pin_ok {
            self.count_failure("credentials", "id", req.credential_id, failures)
                .await?;
            return Err(self.refuse(&user.name, Refusal::WrongPin, detail).await);
        }
        if !req.possession_verified && !self.check_otp(user, req.otp).await? {
            self.count_failure("credentials", "id", req.credential_id, failures)
                .await?;
            return Err(self.refuse(&user.name, Refusal::WrongOtp, detail).await);
        }
        let sad = random_token(32)?;
        // The lifetime starts now, after the PIN and OTP checks, so the client gets the
        // whole of what `expiresIn` announces.
        let expires_at = now_millis() + self.policy.sad_ttl * 1000;
        let mut list_hash = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for h in req.hashes {
            list_hash.update(h);
        }
        let mut tx = self.store.pool().begin().await?;
        sqlx::query("UPDATE credentials SET failed_attempts = 0, locked_until = 0 WHERE id = $1")
            .bind(req.credential_id)
            .execute(&mut *tx)
            .await?;
        let sad_id = secret_id(&sad);
        sqlx::query(
            "INSERT INTO sads (id, user_id, credential_id, hash_alg, num_signatures, bound, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&sad_id)
        .bind(&user.id)
        .bind(req.credential_id)
        .bind(req.hash_algorithm.map(|a| a.oid().to_string()).unwrap_or_default())
        .bind(n)
        .bind(i64::from(hashes > 0))
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        // The list is a multiset: identical documents give identical hashes.
        let counted = count_hashes(req.hashes);
        for (hash, allowed) in &counted {
            sqlx::query("INSERT INTO sad_hashes (sad_id, hash, allowed) VALUES ($1, $2, $3)")
                .bind(&sad_id)
                .bind(hash)
                .bind(allowed)
                .execute(&mut *tx)
                .await?;
        }
        audit::append(
            &mut tx,
            &Event {
                kind: "sad.issue",
                actor: &user.name,
                detail: json!({
                    "credential": req.credential_id,
                    "num_signatures": n,
                    "hash_algorithm": req.hash_algorithm.map(DigestAlgorithm::name),
                    "hashes_sha256": hex::encode(list_hash.finish().as_ref()),
                    "expires_at": expires_at,
                    "client": req.client,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Sad {
            sad,
            expires_in: self.policy.sad_ttl,
        })
    }

    /// `signatures/signHash`: spends the SAD for exactly these hashes — atomically, in
    /// the same transaction as the audit record, so concurrent calls (on any node) can
    /// never over-spend it — then signs with the credential's key, unsealed for this
    /// call only. Returns one signature per hash (ECDSA as DER).
    pub async fn sign_hashes(
        &self,
        user: &User,
        req: &SignHashes<'_>,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        let Some(digests) = digests_of(req) else {
            let detail = json!({ "credential": req.credential_id });
            return Err(self
                .refuse(&user.name, Refusal::HashAlgorithm, detail)
                .await);
        };
        self.sign_as(Caller::User(user.clone()), req, digests).await
    }

    /// `signatures/signHash` with the caller's bearer token. The token, its user, the
    /// credential and the SAD are all checked in the group commit that spends the SAD —
    /// one transaction for many calls — so a token revoked or a credential disabled
    /// a moment before cannot sign.
    pub async fn sign_hashes_with_token(
        &self,
        token: &str,
        req: &SignHashes<'_>,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        match digests_of(req) {
            Some(digests) => {
                self.sign_as(Caller::Token(secret_id(token)), req, digests)
                    .await
            }
            // The refusal names the user when the token has one.
            None => self.sign_hashes(&self.token_user(token).await?, req).await,
        }
    }

    async fn sign_as(
        &self,
        caller: Caller,
        req: &SignHashes<'_>,
        digests: Vec<Digest>,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        self.sign_bound(
            caller,
            req.credential_id,
            req.sad,
            (req.algorithm.digest(), req.hashes),
            req.algorithm,
            digests,
        )
        .await
    }

    /// Spends the SAD for `bound` (the hashes it was granted for: the hashes signed,
    /// or for `signDoc` the documents' hashes) and signs `digests`.
    pub(crate) async fn sign_bound(
        &self,
        caller: Caller,
        credential_id: &str,
        sad: &str,
        bound: (DigestAlgorithm, &[Vec<u8>]),
        algorithm: SignatureAlgorithm,
        digests: Vec<Digest>,
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        let req = SignHashes {
            credential_id,
            sad,
            hashes: bound.1,
            algorithm,
        };
        let req = &req;
        let n = i64::try_from(digests.len()).unwrap_or(i64::MAX);
        // Spent and audited in the next group commit; the answer comes once it is
        // durable.
        let (reply, answer) = tokio::sync::oneshot::channel();
        let signed = if bound.1.len() == digests.len()
            && bound.1.iter().zip(&digests).all(|(h, d)| h == d.as_bytes())
        {
            Vec::new()
        } else {
            digests.iter().map(|d| d.as_bytes().to_vec()).collect()
        };
        let job = SpendJob {
            caller,
            credential_id: req.credential_id.to_owned(),
            sad_id: secret_id(req.sad),
            hash_alg: bound.0,
            hashes: bound.1.to_vec(),
            signed,
            n,
            algorithm: req.algorithm.name(),
            reply,
        };
        self.spender
            .send(job)
            .await
            .map_err(|_| ServiceError::Internal("the spending task stopped".into()))?;
        let granted = match answer
            .await
            .map_err(|_| ServiceError::Internal("the spending task stopped".into()))?
        {
            Ok(Ok(granted)) => granted,
            Ok(Err(refusal)) => return Err(ServiceError::Refused(refusal)),
            Err(e) => return Err(e),
        };
        let algorithm = req.algorithm;
        let kind = KeyKind::from_name(&granted.key_kind)
            .ok_or_else(|| ServiceError::Internal("stored key kind".into()))?;
        if !granted.token_key_id.is_empty() {
            // On the token: the call may take milliseconds, so off the executor.
            let token = Arc::clone(self.token()?);
            return blocking(move || -> Result<Vec<Vec<u8>>, ServiceError> {
                let key = token.key(&granted.token_key_id, kind)?;
                key.sign_digests_blocking(algorithm, &digests)?
                    .into_iter()
                    .map(|v| {
                        v.to_cms()
                            .ok_or_else(|| ServiceError::Internal("ECDSA value encoding".into()))
                    })
                    .collect()
            })
            .await?;
        }
        let der = self
            .master
            .open(&format!("key:{}", req.credential_id), &granted.wrapped_key)?;
        let work = move || -> Result<Vec<Vec<u8>>, ServiceError> {
            let key = shomei_keys::SoftwareKey::from_pkcs8_der(&der)?;
            drop(der);
            key.sign_digests_blocking(algorithm, &digests)?
                .into_iter()
                .map(|v| {
                    v.to_cms()
                        .ok_or_else(|| ServiceError::Internal("ECDSA value encoding".into()))
                })
                .collect()
        };
        // A few ECDSA signatures take microseconds: inline. RSA, or many, go to the
        // blocking pool so the executor keeps serving.
        let ecdsa = matches!(kind, KeyKind::EcP256 | KeyKind::EcP384);
        if ecdsa && n <= 4 {
            work()
        } else {
            blocking(work).await?
        }
    }
}

/// The digests of a `signHash` request; `None` when a hash does not fit the
/// algorithm, or there is none.
fn digests_of(req: &SignHashes<'_>) -> Option<Vec<Digest>> {
    let hash_alg = req.algorithm.digest();
    req.hashes
        .iter()
        .map(|h| Digest::new(hash_alg, h.clone()))
        .collect::<Option<Vec<_>>>()
        .filter(|d| !d.is_empty())
}

fn totp(secret: Vec<u8>, issuer: &str, account: &str) -> Result<totp_rs::TOTP, ServiceError> {
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| ServiceError::Internal(format!("TOTP: {e}")))
}

pub(crate) fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, ServiceError> {
    let role = match text(row, "role")?.as_str() {
        "admin" => Role::Admin,
        _ => Role::Signer,
    };
    Ok(User {
        id: text(row, "id")?,
        name: text(row, "name")?,
        role,
    })
}

fn credential_from_row(row: &sqlx::any::AnyRow) -> Result<CredentialInfo, ServiceError> {
    let kind = text(row, "key_kind")?;
    let chain = match row.try_get_unchecked_text("chain_pem") {
        Ok(pem) if !pem.is_empty() => Some(
            CertificateChain::from_pem_or_der(pem.as_bytes())
                .map_err(|e| ServiceError::Internal(format!("stored chain: {e}")))?,
        ),
        _ => None,
    };
    Ok(CredentialInfo {
        id: text(row, "id")?,
        key: KeyKind::from_name(&kind)
            .ok_or_else(|| ServiceError::Internal(format!("stored key kind {kind}")))?,
        chain,
        scal: int(row, "scal")?,
        multisign: int(row, "multisign")?,
        state: text(row, "state")?,
    })
}

/// Reading a nullable text column.
trait NullableText {
    fn try_get_unchecked_text(&self, column: &str) -> Result<String, ServiceError>;
}

impl NullableText for sqlx::any::AnyRow {
    fn try_get_unchecked_text(&self, column: &str) -> Result<String, ServiceError> {
        self.try_get::<Option<String>, _>(column)?
            .ok_or_else(|| ServiceError::Internal(format!("{column} is empty")))
    }
}
