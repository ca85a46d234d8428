//! The SAD misuse matrix over HTTP. Every way of signing without a valid SAD that fits
//! the request is refused by the CSC routes, under v2 and v1 field names. Each refusal
//! must have the spec's status and a body that is only the CSC error JSON. It must be
//! audited as one `refusal` record that names the reason and the actor. It must spend
//! nothing and grant nothing.
//!
//! Correct rounds in the same scenario (authorize, then signHash) return signatures
//! that aws-lc-rs verifies against the certificate `credentials/info` serves. So a
//! refusal comes from the misuse, not from a service that refuses everything.
//!
//! The whole matrix runs with every log event down to TRACE captured (the service's,
//! sqlx's statements, axum's): at the end, neither the log nor the database (SQLite's
//! files byte for byte, PostgreSQL's rows as text) holds any password, PIN, OTP code,
//! SAD, token, TOTP secret or master key the scenario used.
//!
//! The scenario runs on SQLite in a temporary directory, and on a new PostgreSQL
//! database when `SHOMEI_TEST_DATABASE_URL` names a server. The PostgreSQL test is
//! ignored unless asked for; `.ci/run` runs it. `openssl x509 -new -force_pubkey`
//! issues the certificates for the generated keys with the repo's test CA
//! (`fixtures/pki`). The TOTP codes are computed here from the enrolled secret
//! (RFC 6238), independently of the service.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64ct::{Base64, Encoding};
use serde_json::{json, Value};
use shomei_server::{app, AppState, Metrics};
use shomei_service::{MasterKey, Policy, Role, Service, Store};
use sqlx::{AnyPool, Row};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

mod common;
use common::*;

const PASSWORD: &str = "correct horse battery";
const WRONG_PIN: &str = "000000";
/// The lifetime of the SADs of the second node.
const SHORT_SAD_SECONDS: i64 = 2;

// The OIDs a CSC client sends: NIST's for the hashes, RFC 5758's for ECDSA.
const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const SHA384: &str = "2.16.840.1.101.3.4.2.2";
const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";

mod sad_misuse_over_http {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = shomei_service::Store::open_data_dir(&dir.path().join("db"))
            .await
            .unwrap();
        super::sad_misuse_over_http(store, dir.path()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL: SHOMEI_TEST_DATABASE_URL (.ci/run starts a private cluster)"]
    async fn postgres() {
        let dir = tempfile::tempdir().unwrap();
        super::sad_misuse_over_http(super::common::fresh_postgres("misuse").await, dir.path())
            .await;
    }
}

/// The helper that makes the codes follows RFC 6238 Appendix B. That appendix gives
/// 8 digits; the 6-digit code is the last six.
#[test]
fn totp_helper_matches_rfc_6238() {
    let secret = b"12345678901234567890";
    assert_eq!(totp_code(secret, 59 / 30), "287082");
    assert_eq!(totp_code(secret, 1_111_111_109 / 30), "081804");
    assert_eq!(totp_code(secret, 20_000_000_000 / 30), "353130");
    assert_eq!(base32_decode("GEZDGNBVGY3TQOJQ"), b"1234567890");
}

// ----- the matrix ----------------------------------------------------------------

async fn sad_misuse_over_http(store: Store, dir: &Path) {
    use Version::{V1, V2};
    capture_log();
    let master = MasterKey::generate().unwrap();
    let master_text = master.to_base64().to_string();
    remember(&master_text);
    remember(PASSWORD);
    remember(PIN);
    remember(WRONG_PIN);
    let service = Arc::new(Service::open(store.clone(), master).await.unwrap());
    for (name, role) in [
        ("alice", Role::Signer),
        ("bob", Role::Signer),
        ("carol", Role::Signer),
        ("admin", Role::Admin),
    ] {
        service
            .create_user("root", name, PASSWORD, role)
            .await
            .unwrap();
    }
    let enrolled = service
        .enroll_totp("root", "alice", "shomei")
        .await
        .unwrap();
    remember(&enrolled.secret_base32);
    let mut otp = Authenticator::new(&enrolled.secret_base32);
    // Alice has credentials X and Y; Bob has B. All are SCAL 2.
    let x = credential(&service, dir, "alice", "alice-x").await;
    let y = credential(&service, dir, "alice", "alice-y").await;
    let b = credential(&service, dir, "bob", "bob-b").await;
    // A second node on the same database. Its SADs live two seconds: one second
    // would leave too little time to sign before expiry, because the service starts
    // the SAD's life before it checks the PIN with argon2 (about 0.4 s in a debug
    // build).
    let mut short = Policy::default();
    short.sad_ttl = SHORT_SAD_SECONDS;
    let node = Service::open(store.clone(), MasterKey::from_base64(&master_text).unwrap())
        .await
        .unwrap()
        .with_policy(short);
    let w = World {
        app: router(service.clone()),
        short: router(Arc::new(node)),
        pool: store.pool().clone(),
    };

    let alice = w.login("alice").await;
    let bob = w.login("bob").await;
    let alice_x = Signer {
        name: "alice",
        token: &alice,
        credential: &x,
        point: &w.public_key(&alice, &x, &service).await,
    };
    let docs: Vec<Vec<u8>> = (0..10u8)
        .map(|i| format!("document {i}").into_bytes())
        .collect();
    let h: Vec<Vec<u8>> = docs.iter().map(|d| sha256(d)).collect();
    let authorize = |v: Version| v.path("credentials/authorize");
    let sign = |v: Version| v.path("signatures/signHash");
    let sha384_hash = vec![vec![7u8; 48]];

    // ----- v2 -------------------------------------------------------------------
    let code = otp.next_code().await;
    w.refused(
        "8 (v2): wrong PIN at authorize",
        &authorize(V2),
        Auth::Bearer(&alice),
        authorize_body(V2, &x, WRONG_PIN, &code, &h[0..3]),
        "wrong_pin",
        "alice",
    )
    .await;
    w.refused(
        "9 (v2): wrong OTP at authorize",
        &authorize(V2),
        Auth::Bearer(&alice),
        authorize_body(V2, &x, PIN, &otp.wrong(), &h[0..3]),
        "wrong_otp",
        "alice",
    )
    .await;
    // The same code with the right PIN, as a signer who retyped the PIN does: a wrong
    // PIN did not use up the code.
    let sad_a = w
        .authorized(
            &w.app,
            "v2 authorize",
            &authorize(V2),
            &alice,
            authorize_body(V2, &x, PIN, &code, &h[0..3]),
            300,
        )
        .await;
    w.refused(
        "10 (v2): the OTP used again",
        &authorize(V2),
        Auth::Bearer(&alice),
        authorize_body(V2, &x, PIN, &code, &h[0..3]),
        "otp_replayed",
        "alice",
    )
    .await;
    w.refused(
        "3 (v2): a hash the SAD does not name",
        &sign(V2),
        Auth::Bearer(&alice),
        sign_body(V2, &x, &sad_a, &h[9..10], SHA256, ECDSA_SHA256),
        "hash_not_authorized",
        "alice",
    )
    .await;
    w.refused(
        "3 (v2): an unnamed hash beside a named one (all or nothing)",
        &sign(V2),
        Auth::Bearer(&alice),
        sign_body(
            V2,
            &x,
            &sad_a,
            &[h[0].clone(), h[9].clone()],
            SHA256,
            ECDSA_SHA256,
        ),
        "hash_not_authorized",
        "alice",
    )
    .await;
    w.refused(
        "4 (v2): four hashes under numSignatures 3",
        &sign(V2),
        Auth::Bearer(&alice),
        sign_body(V2, &x, &sad_a, &h[0..4], SHA256, ECDSA_SHA256),
        "too_many_signatures",
        "alice",
    )
    .await;
    w.refused(
        "5 (v2): alice's SAD and credential with bob's token",
        &sign(V2),
        Auth::Bearer(&bob),
        sign_body(V2, &x, &sad_a, &h[0..1], SHA256, ECDSA_SHA256),
        "unknown_credential",
        "bob",
    )
    .await;
    w.refused(
        "5 (v2): alice's SAD for bob's own credential",
        &sign(V2),
        Auth::Bearer(&bob),
        sign_body(V2, &b, &sad_a, &h[0..1], SHA256, ECDSA_SHA256),
        "bad_sad",
        "bob",
    )
    .await;
    w.refused(
        "6 (v2): credential X's SAD for credential Y",
        &sign(V2),
        Auth::Bearer(&alice),
        sign_body(V2, &y, &sad_a, &h[0..1], SHA256, ECDSA_SHA256),
        "bad_sad",
        "alice",
    )
    .await;
    w.refused(
        "7 (v2): SHA-384 under a SHA-256 SAD",
        &sign(V2),
        Auth::Bearer(&alice),
        sign_body(V2, &x, &sad_a, &sha384_hash, SHA384, ECDSA_SHA384),
        "hash_algorithm",
        "alice",
    )
    .await;
    // Positive control: after all of the above, the SAD still signs what it names.
    w.signed("positive (v2)", V2, &alice_x, &sad_a, &docs[0..2])
        .await;
    w.refused(
        "1 (v2): a hash signed under this SAD, again",
        &sign(V2),
        Auth::Bearer(&alice),
        sign_body(V2, &x, &sad_a, &h[0..1], SHA256, ECDSA_SHA256),
        "hash_not_authorized",
        "alice",
    )
    .await;
    w.signed(
        "positive (v2), the last hash",
        V2,
        &alice_x,
        &sad_a,
        &docs[2..3],
    )
    .await;
    w.refused(
        "1 (v2): the SAD replayed after it is spent",
        &sign(V2),
        Auth::Bearer(&alice),
        sign_body(V2, &x, &sad_a, &h[2..3], SHA256, ECDSA_SHA256),
        "bad_sad",
        "alice",
    )
    .await;

    // ----- v1 field names ---------------------------------------------------------
    let code = otp.next_code().await;
    w.refused(
        "8 (v1): wrong PIN at authorize",
        &authorize(V1),
        Auth::Bearer(&alice),
        authorize_body(V1, &x, WRONG_PIN, &code, &h[5..8]),
        "wrong_pin",
        "alice",
    )
    .await;
    w.refused(
        "9 (v1): wrong OTP at authorize",
        &authorize(V1),
        Auth::Bearer(&alice),
        authorize_body(V1, &x, PIN, &otp.wrong(), &h[5..8]),
        "wrong_otp",
        "alice",
    )
    .await;
    let sad_b = w
        .authorized(
            &w.app,
            "v1 authorize",
            &authorize(V1),
            &alice,
            authorize_body(V1, &x, PIN, &code, &h[5..8]),
            300,
        )
        .await;
    w.refused(
        "10 (v1): the OTP used again",
        &authorize(V1),
        Auth::Bearer(&alice),
        authorize_body(V1, &x, PIN, &code, &h[5..8]),
        "otp_replayed",
        "alice",
    )
    .await;
    w.refused(
        "3 (v1): a hash the SAD does not name",
        &sign(V1),
        Auth::Bearer(&alice),
        sign_body(V1, &x, &sad_b, &h[9..10], SHA256, ECDSA_SHA256),
        "hash_not_authorized",
        "alice",
    )
    .await;
    w.refused(
        "4 (v1): four hashes under numSignatures 3",
        &sign(V1),
        Auth::Bearer(&alice),
        sign_body(V1, &x, &sad_b, &h[5..9], SHA256, ECDSA_SHA256),
        "too_many_signatures",
        "alice",
    )
    .await;
    w.refused(
        "5 (v1): alice's SAD and credential with bob's token",
        &sign(V1),
        Auth::Bearer(&bob),
        sign_body(V1, &x, &sad_b, &h[5..6], SHA256, ECDSA_SHA256),
        "unknown_credential",
        "bob",
    )
    .await;
    w.refused(
        "6 (v1): credential X's SAD for credential Y",
        &sign(V1),
        Auth::Bearer(&alice),
        sign_body(V1, &y, &sad_b, &h[5..6], SHA256, ECDSA_SHA256),
        "bad_sad",
        "alice",
    )
    .await;
    w.refused(
        "7 (v1): SHA-384 under a SHA-256 SAD",
        &sign(V1),
        Auth::Bearer(&alice),
        sign_body(V1, &x, &sad_b, &sha384_hash, SHA384, ECDSA_SHA384),
        "hash_algorithm",
        "alice",
    )
    .await;
    w.signed("positive (v1)", V1, &alice_x, &sad_b, &docs[5..7])
        .await;
    w.refused(
        "1 (v1): a hash signed under this SAD, again",
        &sign(V1),
        Auth::Bearer(&alice),
        sign_body(V1, &x, &sad_b, &h[5..6], SHA256, ECDSA_SHA256),
        "hash_not_authorized",
        "alice",
    )
    .await;
    w.refused(
        "1 (v1): the v2 SAD replayed after it is spent",
        &sign(V1),
        Auth::Bearer(&alice),
        sign_body(V1, &x, &sad_a, &h[2..3], SHA256, ECDSA_SHA256),
        "bad_sad",
        "alice",
    )
    .await;
    // h[7] stays authorized under SAD B and unsigned. The cases below try to spend it.

    // ----- 2: expiry --------------------------------------------------------------
    // Granted by the short-lived node. One hash is signed at once, which shows the
    // SAD works. The other hash is tried after the SAD has expired.
    let code = otp.next_code().await;
    let sad_e = w
        .authorized(
            &w.short,
            "v2 authorize, short-lived SAD",
            &authorize(V2),
            &alice,
            authorize_body(V2, &x, PIN, &code, &[h[4].clone(), h[8].clone()]),
            SHORT_SAD_SECONDS,
        )
        .await;
    let granted = std::time::Instant::now();
    w.signed(
        "positive (v2), before expiry",
        V2,
        &alice_x,
        &sad_e,
        &docs[4..5],
    )
    .await;
    // The service set the expiry before it answered, so it has passed by this time.
    let lifetime = Duration::from_secs(SHORT_SAD_SECONDS.unsigned_abs());
    let expired = lifetime + Duration::from_millis(50);
    tokio::time::sleep(expired.saturating_sub(granted.elapsed())).await;
    w.refused(
        "2 (v2): expired SAD",
        &sign(V2),
        Auth::Bearer(&alice),
        sign_body(V2, &x, &sad_e, &h[8..9], SHA256, ECDSA_SHA256),
        "bad_sad",
        "alice",
    )
    .await;
    w.refused(
        "2 (v1): expired SAD",
        &sign(V1),
        Auth::Bearer(&alice),
        sign_body(V1, &x, &sad_e, &h[8..9], SHA256, ECDSA_SHA256),
        "bad_sad",
        "alice",
    )
    .await;

    // ----- 14: an administrator ---------------------------------------------------
    // The role is checked before the credential and the factors, so no code is
    // spent on it.
    let admin = w.login("admin").await;
    for v in [V2, V1] {
        w.refused(
            &format!("14 ({v}): an administrator at authorize"),
            &authorize(v),
            Auth::Bearer(&admin),
            authorize_body(v, &x, PIN, &otp.wrong(), &h[7..8]),
            "not_a_signer",
            "admin",
        )
        .await;
        w.refused(
            &format!("14 ({v}): an administrator at signHash with alice's SAD"),
            &sign(v),
            Auth::Bearer(&admin),
            sign_body(v, &x, &sad_b, &h[7..8], SHA256, ECDSA_SHA256),
            "not_a_signer",
            "admin",
        )
        .await;
    }

    // ----- 15: a revoked token ----------------------------------------------------
    let revoked = w.login("alice").await;
    let (status, body) = call(
        &w.app,
        &V2.path("auth/revoke"),
        &Auth::Bearer(&revoked),
        &json!({}),
    )
    .await;
    assert_eq!((status, &body), (StatusCode::OK, &json!({})), "auth/revoke");
    for v in [V2, V1] {
        w.refused(
            &format!("15 ({v}): a revoked token at authorize"),
            &authorize(v),
            Auth::Bearer(&revoked),
            authorize_body(v, &x, PIN, &otp.wrong(), &h[7..8]),
            "bad_token",
            "-",
        )
        .await;
        w.refused(
            &format!("15 ({v}): a revoked token at signHash"),
            &sign(v),
            Auth::Bearer(&revoked),
            sign_body(v, &x, &sad_b, &h[7..8], SHA256, ECDSA_SHA256),
            "bad_token",
            "-",
        )
        .await;
    }
    // Revoking one session leaves alice's other session working.
    let (status, body) = call(
        &w.app,
        &V2.path("credentials/list"),
        &Auth::Bearer(&alice),
        &json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["credentialIDs"].as_array().map(Vec::len), Some(2));

    // ----- 11: locked user, locked credential -------------------------------------
    // Policy::default() allows three failures. The fourth failure locks for 2 s.
    for attempt in 1..=4 {
        w.refused(
            &format!("11: carol's wrong password, attempt {attempt}"),
            &V2.path("auth/login"),
            Auth::Basic("carol", "wrong password!!"),
            json!({}),
            "bad_login",
            "carol",
        )
        .await;
    }
    for v in [V2, V1] {
        w.refused(
            &format!("11 ({v}): locked user, right password"),
            &v.path("auth/login"),
            Auth::Basic("carol", PASSWORD),
            json!({}),
            "locked",
            "carol",
        )
        .await;
    }
    for attempt in 1..=4 {
        w.refused(
            &format!("11: wrong PIN for credential Y, attempt {attempt}"),
            &authorize(V2),
            Auth::Bearer(&alice),
            authorize_body(V2, &y, WRONG_PIN, &otp.wrong(), &h[7..8]),
            "wrong_pin",
            "alice",
        )
        .await;
    }
    for v in [V2, V1] {
        // The lock is checked before the factors: the right PIN is refused too.
        w.refused(
            &format!("11 ({v}): locked credential, right PIN"),
            &authorize(v),
            Auth::Bearer(&alice),
            authorize_body(v, &y, PIN, &otp.wrong(), &h[7..8]),
            "locked",
            "alice",
        )
        .await;
    }

    // ----- 12, 13: disabled, then destroyed credential ----------------------------
    // SAD B was granted while X was active. It still names h[7].
    for (state, reason, case) in [
        ("disabled", "credential_disabled", "12"),
        ("destroyed", "credential_destroyed", "13"),
    ] {
        service
            .set_credential_state("root", &x, state)
            .await
            .unwrap();
        for v in [V2, V1] {
            w.refused(
                &format!("{case} ({v}): {state} credential at authorize"),
                &authorize(v),
                Auth::Bearer(&alice),
                authorize_body(v, &x, PIN, &otp.wrong(), &h[7..8]),
                reason,
                "alice",
            )
            .await;
            w.refused(
                &format!("{case} ({v}): {state} credential at signHash, SAD granted before"),
                &sign(v),
                Auth::Bearer(&alice),
                sign_body(v, &x, &sad_b, &h[7..8], SHA256, ECDSA_SHA256),
                reason,
                "alice",
            )
            .await;
        }
    }

    // ----- what the store holds at the end ----------------------------------------
    assert_eq!(w.sad_used(&sad_a).await, 3, "SAD A: all three hashes");
    assert_eq!(w.sad_used(&sad_b).await, 2, "SAD B: h[7] never signed");
    assert_eq!(w.sad_used(&sad_e).await, 1, "SAD E: only before expiry");
    let signatures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE kind = 'signature'")
        .fetch_one(&w.pool)
        .await
        .unwrap();
    assert_eq!(
        signatures, 4,
        "the four positive signHash calls, nothing else"
    );
    assert_eq!(service.verify_audit().await.unwrap().problem, None);
    no_secret_in_log_or_database(&w.pool, dir).await;
}

// ----- secrets: never in a log line, never in the database ---------------------------

/// Every log event of the process, down to TRACE.
static LOG: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());
/// Every secret the scenarios used or were given.
static SECRETS: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

struct LogSink;

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every event of every target at TRACE, as `shomei serve --log-level trace`
/// would write them (JSON lines).
fn capture_log() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(|| LogSink)
        .try_init();
}

fn remember(secret: &str) {
    SECRETS.lock().unwrap().insert(secret.to_owned());
}

/// Remembers the secrets a request or answer carries: PINs, OTPs, SADs, tokens.
fn remember_in(value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v.as_str()) {
                    ("PIN" | "OTP" | "SAD" | "access_token" | "refresh_token", Some(text))
                        if !text.is_empty() =>
                    {
                        remember(text)
                    }
                    _ => remember_in(v),
                }
            }
            // authData: [{ "id": "PIN", "value": "…" }, …]
            if let (Some(_), Some(Value::String(text))) = (map.get("id"), map.get("value")) {
                remember(text);
            }
        }
        Value::Array(items) => items.iter().for_each(remember_in),
        _ => {}
    }
}

/// Where `secret` occurs in `haystack`. A secret of digits only (PIN, OTP) counts
/// where no hex digit or decimal point touches it: six digits inside a hex digest, a
/// longer number or a timestamp's fraction of a second are not a leak.
fn occurs(haystack: &[u8], secret: &str) -> bool {
    let needle = secret.as_bytes();
    let digits = secret.bytes().all(|b| b.is_ascii_digit());
    haystack
        .windows(needle.len())
        .enumerate()
        .any(|(at, window)| {
            window == needle
                && (!digits || {
                    let before = at.checked_sub(1).and_then(|i| haystack.get(i));
                    let after = haystack.get(at + needle.len());
                    let touches = |b: &u8| b.is_ascii_hexdigit() || *b == b'.';
                    !before.is_some_and(touches) && !after.is_some_and(touches)
                })
        })
}

async fn no_secret_in_log_or_database(pool: &AnyPool, dir: &Path) {
    let secrets: Vec<String> = SECRETS.lock().unwrap().iter().cloned().collect();
    assert!(
        secrets.len() > 10,
        "the scenario's secrets were collected: {}",
        secrets.len()
    );
    let log = LOG.lock().unwrap().clone();
    assert!(
        log.windows(11).any(|w| w == b"sqlx::query"),
        "the log captured sqlx's statements (debug level)"
    );
    // SQLite: the database files byte for byte (free pages and the WAL included).
    let mut stored: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in walk(dir) {
        stored.push((entry.display().to_string(), std::fs::read(&entry).unwrap()));
    }
    // PostgreSQL: every row of every table as text.
    if pool
        .connect_options()
        .database_url
        .scheme()
        .starts_with("postgres")
    {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_all(pool)
        .await
        .unwrap();
        for table in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT row_to_json(t)::text FROM \"{table}\" t"))
                    .fetch_all(pool)
                    .await
                    .unwrap();
            stored.push((format!("table {table}"), rows.join("\n").into_bytes()));
        }
    }
    assert!(!stored.is_empty(), "the database was searched");
    for secret in &secrets {
        assert!(
            !occurs(&log, secret),
            "a secret ({}…) is in the log",
            secret.get(..3).unwrap_or("")
        );
        for (place, bytes) in &stored {
            assert!(
                !occurs(bytes, secret),
                "a secret ({}…) is stored in {place}",
                secret.get(..3).unwrap_or("")
            );
        }
    }
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

// ----- the client side -------------------------------------------------------------

/// The CSC version of a route: v2.0.0.2 or v1.0.4 field names.
#[derive(Debug, Clone, Copy)]
enum Version {
    V1,
    V2,
}

impl Version {
    fn path(self, method: &str) -> String {
        format!("/csc/{self}/{method}")
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        })
    }
}

/// A signer's credential as her client knows it: her name and token, the credential,
/// and the public key in its certificate.
struct Signer<'a> {
    name: &'a str,
    token: &'a str,
    credential: &'a str,
    point: &'a [u8],
}

/// The `Authorization` header of a request.
enum Auth<'a> {
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

fn base64_all(hashes: &[Vec<u8>]) -> Vec<String> {
    hashes.iter().map(|h| Base64::encode_string(h)).collect()
}

/// `credentials/authorize` for `hashes` (SHA-256), with `numSignatures` their count.
fn authorize_body(v: Version, credential: &str, pin: &str, otp: &str, hashes: &[Vec<u8>]) -> Value {
    let n = hashes.len();
    match v {
        Version::V2 => json!({
            "credentialID": credential,
            "numSignatures": n,
            "hashes": base64_all(hashes),
            "hashAlgorithmOID": SHA256,
            "authData": [{ "id": "PIN", "value": pin }, { "id": "OTP", "value": otp }],
        }),
        // 1.0.4 names no hash algorithm at authorize: it follows from the hash length.
        Version::V1 => json!({
            "credentialID": credential,
            "numSignatures": n,
            "hash": base64_all(hashes),
            "PIN": pin,
            "OTP": otp,
        }),
    }
}

/// `signatures/signHash` for `hashes` under `sad`.
fn sign_body(
    v: Version,
    credential: &str,
    sad: &str,
    hashes: &[Vec<u8>],
    hash_oid: &str,
    sign_algo: &str,
) -> Value {
    let (hash_field, algorithm_field) = match v {
        Version::V1 => ("hash", "hashAlgo"),
        Version::V2 => ("hashes", "hashAlgorithmOID"),
    };
    let mut body = json!({ "credentialID": credential, "SAD": sad, "signAlgo": sign_algo });
    body[hash_field] = json!(base64_all(hashes));
    body[algorithm_field] = json!(hash_oid);
    body
}

/// One request to `router`; the status and the JSON body.
async fn call(router: &Router, path: &str, auth: &Auth<'_>, body: &Value) -> (StatusCode, Value) {
    remember_in(body);
    let authorization = match auth {
        Auth::Bearer(token) => format!("Bearer {token}"),
        Auth::Basic(user, password) => format!(
            "Basic {}",
            Base64::encode_string(format!("{user}:{password}").as_bytes())
        ),
    };
    let request = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, authorization)
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!(
            "{path}: {status}, not JSON: {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    remember_in(&json);
    (status, json)
}

/// The CSC status, `error` and `error_description` the server gives for a refusal
/// reason. This is the table of `src/error.rs`, written out so a change shows up here.
/// `locked` has a description that varies; it is checked apart.
fn csc_error(reason: &str) -> (StatusCode, &'static str, &'static str) {
    let bad = StatusCode::BAD_REQUEST;
    match reason {
        "bad_login" => (
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
            "Invalid user name or password",
        ),
        "locked" => (StatusCode::FORBIDDEN, "access_denied", ""),
        "not_a_signer" => (
            StatusCode::FORBIDDEN,
            "access_denied",
            "An administrator account cannot sign",
        ),
        "bad_token" => (
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The access token is invalid, expired or revoked",
        ),
        "unknown_credential" => (bad, "invalid_request", "Invalid parameter credentialID"),
        "credential_disabled" => (bad, "invalid_request", "The credential is disabled"),
        "credential_destroyed" => (bad, "invalid_request", "The credential was destroyed"),
        "wrong_pin" => (bad, "invalid_request", "Invalid PIN"),
        "wrong_otp" => (bad, "invalid_request", "Invalid OTP"),
        "otp_replayed" => (bad, "invalid_request", "Invalid OTP: already used"),
        "bad_sad" => (bad, "invalid_request", "Invalid parameter SAD"),
        "hash_not_authorized" => (
            bad,
            "invalid_request",
            "Invalid parameter hashes: not authorized by the SAD, or already signed",
        ),
        "too_many_signatures" => (
            bad,
            "invalid_request",
            "Invalid parameter hashes: more than numSignatures",
        ),
        "hash_algorithm" => (bad, "invalid_request", "Invalid parameter hashAlgorithmOID"),
        other => panic!("no expectation written for reason {other}"),
    }
}

// ----- the server side, and what it records -----------------------------------------

fn router(service: Arc<Service>) -> Router {
    app(AppState {
        service,
        tsa: None,
        name: "misuse".into(),
        metrics: Arc::new(Metrics::new().unwrap()),
        trust_anchors: Arc::new(Vec::new()),
        revocation: Default::default(),
        documents: None,
        secure_cookies: false,
        passkeys: None,
    })
}

/// The two nodes and their shared database.
struct World {
    /// The node with the default policy.
    app: Router,
    /// The node whose SADs live `SHORT_SAD_SECONDS`.
    short: Router,
    pool: AnyPool,
}

/// What signing spends and authorizing grants, summed over the whole database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ledger {
    /// SADs granted.
    sads: usize,
    /// Signatures spent, summed over all SADs.
    used: i64,
    /// Bound hashes spent, summed over all SADs.
    spent: i64,
}

/// One audit record.
#[derive(Debug)]
struct Record {
    kind: String,
    actor: String,
    detail: Value,
}

impl World {
    async fn ledger(&self) -> Ledger {
        let used: Vec<i64> = sqlx::query_scalar("SELECT used FROM sads")
            .fetch_all(&self.pool)
            .await
            .unwrap();
        let spent: Vec<i64> = sqlx::query_scalar("SELECT spent FROM sad_hashes")
            .fetch_all(&self.pool)
            .await
            .unwrap();
        Ledger {
            sads: used.len(),
            used: used.iter().sum(),
            spent: spent.iter().sum(),
        }
    }

    async fn audit_head(&self) -> i64 {
        sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    async fn audit_since(&self, seq: i64) -> Vec<Record> {
        sqlx::query("SELECT kind, actor, detail FROM audit WHERE seq > $1 ORDER BY seq")
            .bind(seq)
            .fetch_all(&self.pool)
            .await
            .unwrap()
            .iter()
            .map(|row| Record {
                kind: row.get("kind"),
                actor: row.get("actor"),
                detail: serde_json::from_str(&row.get::<String, _>("detail")).unwrap(),
            })
            .collect()
    }

    /// Signatures spent under `sad`. The store keeps only the SAD's SHA-256, hex
    /// (see the migration).
    async fn sad_used(&self, sad: &str) -> i64 {
        sqlx::query_scalar("SELECT used FROM sads WHERE id = $1")
            .bind(hex::encode(sha256(sad.as_bytes())))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }

    /// A bearer token for `user`.
    async fn login(&self, user: &str) -> String {
        let (status, body) = call(
            &self.app,
            &Version::V2.path("auth/login"),
            &Auth::Basic(user, PASSWORD),
            &json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "login {user}: {body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// The raw public key in the signing certificate that `credentials/info` serves.
    /// It must be the credential's key.
    async fn public_key(&self, token: &str, credential: &str, service: &Service) -> Vec<u8> {
        use der::{Decode, Encode};
        let (status, info) = call(
            &self.app,
            &Version::V2.path("credentials/info"),
            &Auth::Bearer(token),
            &json!({ "credentialID": credential, "certificates": "single" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{info}");
        assert_eq!(info["SCAL"], "2", "{info}");
        let der = Base64::decode_vec(info["cert"]["certificates"][0].as_str().unwrap()).unwrap();
        let cert = x509_cert::Certificate::from_der(&der).unwrap();
        let spki = cert.tbs_certificate().subject_public_key_info();
        assert_eq!(
            spki.to_der().unwrap(),
            service.public_key(credential).await.unwrap(),
            "the certificate served is for the credential's key"
        );
        spki.subject_public_key.raw_bytes().to_vec()
    }

    /// A granted `credentials/authorize`. One SAD is granted and one `sad.issue` is
    /// audited; nothing is spent. Returns the SAD.
    async fn authorized(
        &self,
        node: &Router,
        case: &str,
        path: &str,
        token: &str,
        body: Value,
        lifetime: i64,
    ) -> String {
        let before = self.ledger().await;
        let seq = self.audit_head().await;
        let (status, answer) = call(node, path, &Auth::Bearer(token), &body).await;
        assert_eq!(status, StatusCode::OK, "{case}: {answer}");
        assert_eq!(answer["expiresIn"], lifetime, "{case}: {answer}");
        let kinds: Vec<String> = self
            .audit_since(seq)
            .await
            .into_iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(kinds, ["sad.issue"], "{case}");
        let after = self.ledger().await;
        assert_eq!(
            after,
            Ledger {
                sads: before.sads + 1,
                ..before
            },
            "{case}"
        );
        answer["SAD"].as_str().unwrap().to_owned()
    }

    /// A granted `signatures/signHash` for the SHA-256 hashes of `docs`. One signature
    /// per document verifies with the key in the signer's certificate, and none verifies for
    /// another document. One `signature` record names the hashes. The SAD spends
    /// exactly these hashes.
    async fn signed(&self, case: &str, v: Version, by: &Signer<'_>, sad: &str, docs: &[Vec<u8>]) {
        let hashes: Vec<Vec<u8>> = docs.iter().map(|d| sha256(d)).collect();
        let before = self.ledger().await;
        let seq = self.audit_head().await;
        let (status, answer) = call(
            &self.app,
            &v.path("signatures/signHash"),
            &Auth::Bearer(by.token),
            &sign_body(v, by.credential, sad, &hashes, SHA256, ECDSA_SHA256),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{case}: {answer}");
        let signatures: Vec<Vec<u8>> = answer["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| Base64::decode_vec(s.as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(signatures.len(), docs.len(), "{case}");
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, by.point);
        for (i, (doc, signature)) in docs.iter().zip(&signatures).enumerate() {
            key.verify(doc, signature)
                .unwrap_or_else(|_| panic!("{case}: signature {i} does not verify"));
            assert!(
                key.verify(b"another document", signature).is_err(),
                "{case}: signature {i} verifies for another document"
            );
        }
        let records = self.audit_since(seq).await;
        assert_eq!(records.len(), 1, "{case}: {records:?}");
        assert_eq!(records[0].kind, "signature", "{case}: {records:?}");
        assert_eq!(records[0].actor, by.name, "{case}");
        let named: Vec<String> = hashes.iter().map(hex::encode).collect();
        assert_eq!(records[0].detail["hashes"], json!(named), "{case}");
        let n = i64::try_from(docs.len()).unwrap();
        assert_eq!(
            self.ledger().await,
            Ledger {
                used: before.used + n,
                spent: before.spent + n,
                ..before
            },
            "{case}"
        );
    }

    /// A refused request. The status and the CSC error body are those of `reason`,
    /// and the body holds nothing else. Exactly one `refusal` record is appended; it
    /// names `reason` and `actor`. Nothing is signed and no SAD is granted. No SAD
    /// and no bound hash spends anything.
    async fn refused(
        &self,
        case: &str,
        path: &str,
        auth: Auth<'_>,
        body: Value,
        reason: &str,
        actor: &str,
    ) {
        let before = self.ledger().await;
        let seq = self.audit_head().await;
        let (status, answer) = call(&self.app, path, &auth, &body).await;
        let (want_status, want_error, want_description) = csc_error(reason);
        assert_eq!(status, want_status, "case {case}: {answer}");
        assert_eq!(answer["error"], want_error, "case {case}: {answer}");
        let description = answer["error_description"].as_str().unwrap_or_default();
        if reason == "locked" {
            // The lock after the fourth failure lasts 2 s.
            let seconds: Option<i64> = description
                .strip_prefix("Locked after failed attempts; retry in ")
                .and_then(|rest| rest.strip_suffix(" s"))
                .and_then(|n| n.parse().ok());
            assert!(
                seconds.is_some_and(|s| (1..=3).contains(&s)),
                "case {case}: {answer}"
            );
        } else {
            assert_eq!(description, want_description, "case {case}: {answer}");
        }
        assert_eq!(
            answer.as_object().map(|o| o.len()),
            Some(2),
            "case {case}: only error and error_description: {answer}"
        );
        let records = self.audit_since(seq).await;
        let refusals: Vec<&Record> = records.iter().filter(|r| r.kind == "refusal").collect();
        assert_eq!(refusals.len(), 1, "case {case}: {records:?}");
        assert_eq!(
            refusals[0].detail["reason"], reason,
            "case {case}: {records:?}"
        );
        assert_eq!(refusals[0].actor, actor, "case {case}: {records:?}");
        assert!(
            !records
                .iter()
                .any(|r| r.kind == "signature" || r.kind == "sad.issue"),
            "case {case}: nothing granted: {records:?}"
        );
        assert_eq!(self.ledger().await, before, "case {case}: nothing spent");
    }
}
