//! The service domain on SQLite in a temporary data directory: a SCAL 2 signing round
//! with password, PIN and TOTP; the SAD misuse matrix; concurrent spending from two
//! service instances on one database; the audit chain detecting a changed, a deleted
//! and an inserted record; a wrong master key refused. Certificates for the generated
//! keys are issued by `openssl x509 -new -force_pubkey` with the repo's test CA.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use base64ct::Encoding;
use shomei_core::chain::CertificateChain;
use shomei_core::verify::verify_digest_signature;
use shomei_core::{Digest, DigestAlgorithm, SignatureAlgorithm};
use shomei_service::{
    Authorize, KeyKind, MasterKey, Policy, Refusal, Role, Service, ServiceError, SignHashes, Store,
    User,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery";
const PIN: &str = "482913";

fn pki(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/pki")
        .join(name)
}

/// A certificate for `spki` (DER), issued by the test intermediate CA, and the chain.
fn issue(dir: &Path, spki: &[u8], name: &str) -> String {
    let pubkey = dir.join(format!("{name}.pub.der"));
    std::fs::write(&pubkey, spki).unwrap();
    let pem = dir.join(format!("{name}.pub.pem"));
    let out = Command::new("openssl")
        .args(["pkey", "-pubin", "-inform", "DER", "-in"])
        .arg(&pubkey)
        .arg("-out")
        .arg(&pem)
        .output()
        .expect("openssl is required for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert = dir.join(format!("{name}.cert.pem"));
    let out = Command::new("openssl")
        .args(["x509", "-new", "-subj"])
        .arg(format!("/C=JP/O=shomei test/CN={name}"))
        .arg("-force_pubkey")
        .arg(&pem)
        .arg("-CA")
        .arg(pki("intermediate.cert.pem"))
        .arg("-CAkey")
        .arg(pki("intermediate.key.pem"))
        .args(["-days", "30", "-out"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut chain = std::fs::read_to_string(&cert).unwrap();
    chain.push_str(&std::fs::read_to_string(pki("chain.pem")).unwrap());
    chain
}

/// The TOTP code for `secret_base32` now, computed independently of the service.
fn otp(secret_base32: &str) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, "x".into())
        .unwrap()
        .generate_current()
        .unwrap()
}

/// The same TOTP code for the next 30-second step (a code not used yet).
fn otp_next(secret_base32: &str) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .unwrap();
    let t =
        totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, "x".into()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    t.generate(now + 30)
}

/// The database a test runs on: SQLite in a temporary directory, or a fresh database
/// on the PostgreSQL server named by `SHOMEI_TEST_DATABASE_URL` (`.ci/run` starts one).
#[derive(Clone)]
enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    fn sqlite(dir: &Path) -> Self {
        Db::Sqlite(dir.join("db"))
    }

    async fn postgres() -> Self {
        let base = std::env::var("SHOMEI_TEST_DATABASE_URL").expect(
            "SHOMEI_TEST_DATABASE_URL must name a PostgreSQL server for this test \
             (tests/pg-cluster.sh start PORT prints one)",
        );
        sqlx::any::install_default_drivers();
        let name = format!("t_{}", hex_id());
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        Db::Postgres(format!("{prefix}/{name}"))
    }

    async fn store(&self) -> Store {
        match self {
            Db::Sqlite(dir) => Store::open_data_dir(dir).await.unwrap(),
            Db::Postgres(url) => Store::connect(url).await.unwrap(),
        }
    }
}

fn hex_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}{:x}", std::process::id())
}

/// Each scenario on SQLite, and on PostgreSQL (ignored unless asked for: `.ci/run`
/// runs the ignored tests with a cluster up, and they fail without one).
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(super::Db::sqlite(dir.path()), dir).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: SHOMEI_TEST_DATABASE_URL (.ci/run starts a private cluster)"]
            async fn postgres() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(super::Db::postgres().await, dir).await;
            }
        }
    };
}

on_both!(scal2_round_signs_exactly_the_authorized_hashes);
on_both!(sad_misuse_is_refused_and_audited);
on_both!(two_instances_never_overspend_one_sad);
on_both!(a_sad_is_for_its_credential_and_its_count_only);
on_both!(audit_verify_names_a_changed_a_deleted_and_an_inserted_record);
on_both!(a_wrong_master_key_is_refused_and_no_key_is_stored_in_clear);

struct Fixture {
    db: Db,
    dir: tempfile::TempDir,
    service: Service,
    master: String,
    alice: User,
    alice_otp: String,
    credential: String,
    chain: CertificateChain,
}

async fn fixture(db: Db, dir: tempfile::TempDir, scal: i64, policy: Policy) -> Fixture {
    let master = MasterKey::generate().unwrap();
    let master_text = master.to_base64().to_string();
    let store = db.store().await;
    let service = Service::open(store, master)
        .await
        .unwrap()
        .with_policy(policy);
    service
        .create_user("root", "alice", PASSWORD, Role::Signer)
        .await
        .unwrap();
    service
        .create_user("root", "bob", PASSWORD, Role::Signer)
        .await
        .unwrap();
    service
        .create_user("root", "admin", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let enrolled = service
        .enroll_totp("root", "alice", "shomei")
        .await
        .unwrap();
    assert!(enrolled.uri.starts_with("otpauth://totp/"));
    let credential = service
        .create_credential("root", "alice", KeyKind::EcP256, scal, 10, PIN)
        .await
        .unwrap();
    let spki = service.public_key(&credential).await.unwrap();
    let chain_pem = issue(dir.path(), &spki, "alice");
    service
        .import_chain("root", &credential, &chain_pem)
        .await
        .unwrap();
    let session = service.login("alice", PASSWORD, "127.0.0.1").await.unwrap();
    let alice = service.token_user(&session.token).await.unwrap();
    Fixture {
        chain: CertificateChain::from_pem_or_der(chain_pem.as_bytes()).unwrap(),
        db,
        dir,
        service,
        master: master_text,
        alice,
        alice_otp: enrolled.secret_base32.to_string(),
        credential,
    }
}

fn hashes(n: u8) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            Digest::compute(DigestAlgorithm::Sha256, &[i])
                .as_bytes()
                .to_vec()
        })
        .collect()
}

fn authorize<'a>(
    credential: &'a str,
    otp: &'a str,
    hashes: &'a [Vec<u8>],
    n: i64,
) -> Authorize<'a> {
    let mut a = Authorize {
        credential_id: credential,
        pin: PIN,
        otp,
        possession_verified: false,
        hash_algorithm: Some(DigestAlgorithm::Sha256),
        hashes,
        num_signatures: n,
        client: "127.0.0.1",
    };
    a.pin = PIN;
    a
}

const ES256: SignatureAlgorithm = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256);

fn refused(e: ServiceError) -> Refusal {
    match e {
        ServiceError::Refused(r) => r,
        other => panic!("expected a refusal, got {other}"),
    }
}

async fn scal2_round_signs_exactly_the_authorized_hashes(db: Db, dir: tempfile::TempDir) {
    let f = fixture(db, dir, 2, Policy::default()).await;
    let hs = hashes(2);
    let code = otp(&f.alice_otp);
    let sad = f
        .service
        .authorize(&f.alice, &authorize(&f.credential, &code, &hs, 2))
        .await
        .unwrap();
    let signatures = f
        .service
        .sign_hashes(
            &f.alice,
            &SignHashes {
                credential_id: &f.credential,
                sad: &sad.sad,
                hashes: &hs,
                algorithm: ES256,
            },
        )
        .await
        .unwrap();
    assert_eq!(signatures.len(), 2);
    for (h, s) in hs.iter().zip(&signatures) {
        let d = Digest::new(DigestAlgorithm::Sha256, h.clone()).unwrap();
        verify_digest_signature(f.chain.signing_cert(), ES256, &d, s).unwrap();
    }
    // Spent: the same SAD again is refused.
    let again = f
        .service
        .sign_hashes(
            &f.alice,
            &SignHashes {
                credential_id: &f.credential,
                sad: &sad.sad,
                hashes: &hs[..1],
                algorithm: ES256,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused(again), Refusal::BadSad);
    let verdict = f.service.verify_audit().await.unwrap();
    assert_eq!(verdict.problem, None);
    assert!(verdict.records >= 8, "{verdict:?}");
}

async fn sad_misuse_is_refused_and_audited(db: Db, dir: tempfile::TempDir) {
    let f = fixture(db, dir, 2, Policy::default()).await;
    let s = &f.service;
    let hs = hashes(3);
    let sign = |sad: &str, hashes: Vec<Vec<u8>>, algorithm| {
        let credential = f.credential.clone();
        let sad = sad.to_owned();
        let user = f.alice.clone();
        async move {
            s.sign_hashes(
                &user,
                &SignHashes {
                    credential_id: &credential,
                    sad: &sad,
                    hashes: &hashes,
                    algorithm,
                },
            )
            .await
        }
    };
    // Wrong PIN, wrong OTP.
    let code = otp(&f.alice_otp);
    let mut bad_pin = authorize(&f.credential, &code, &hs, 3);
    bad_pin.pin = "000000";
    assert_eq!(
        refused(s.authorize(&f.alice, &bad_pin).await.unwrap_err()),
        Refusal::WrongPin
    );
    let wrong = authorize(&f.credential, "000000", &hs, 3);
    assert_eq!(
        refused(s.authorize(&f.alice, &wrong).await.unwrap_err()),
        Refusal::WrongOtp
    );
    // SCAL 2 needs the hashes; more than multisign; a count that is not the hashes'.
    assert_eq!(
        refused(
            s.authorize(&f.alice, &authorize(&f.credential, &code, &[], 1))
                .await
                .unwrap_err()
        ),
        Refusal::HashesRequired
    );
    assert!(matches!(
        refused(
            s.authorize(&f.alice, &authorize(&f.credential, &code, &hs, 2))
                .await
                .unwrap_err()
        ),
        Refusal::BadCount(_)
    ));
    // A good authorization, then its OTP replayed.
    let sad = s
        .authorize(&f.alice, &authorize(&f.credential, &code, &hs, 3))
        .await
        .unwrap();
    assert_eq!(
        refused(
            s.authorize(&f.alice, &authorize(&f.credential, &code, &hs, 3))
                .await
                .unwrap_err()
        ),
        Refusal::OtpReplayed
    );
    // A hash not in the SAD; another hash algorithm.
    let other = hashes(9)[8..].to_vec();
    assert_eq!(
        refused(sign(&sad.sad, other, ES256).await.unwrap_err()),
        Refusal::HashNotAuthorized
    );
    let sha384 = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384);
    let h384 = vec![vec![7u8; 48]];
    assert_eq!(
        refused(sign(&sad.sad, h384, sha384).await.unwrap_err()),
        Refusal::HashAlgorithm
    );
    // Bob cannot spend Alice's SAD.
    let bob = {
        let session = s.login("bob", PASSWORD, "127.0.0.1").await.unwrap();
        s.token_user(&session.token).await.unwrap()
    };
    let bobs = s
        .sign_hashes(
            &bob,
            &SignHashes {
                credential_id: &f.credential,
                sad: &sad.sad,
                hashes: &hs[..1],
                algorithm: ES256,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused(bobs), Refusal::UnknownCredential);
    // One hash signed, the same hash again refused (each at most once).
    sign(&sad.sad, hs[..1].to_vec(), ES256).await.unwrap();
    assert_eq!(
        refused(sign(&sad.sad, hs[..1].to_vec(), ES256).await.unwrap_err()),
        Refusal::HashNotAuthorized
    );
    // Expired: a node whose SADs live one second.
    let mut short = Policy::default();
    short.sad_ttl = 1;
    let store = f.db.store().await;
    let node = Service::open(store, MasterKey::from_base64(&f.master).unwrap())
        .await
        .unwrap()
        .with_policy(short);
    let fresh = otp_next(&f.alice_otp);
    let short_sad = node
        .authorize(&f.alice, &authorize(&f.credential, &fresh, &hs, 3))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        refused(
            sign(&short_sad.sad, hs[1..2].to_vec(), ES256)
                .await
                .unwrap_err()
        ),
        Refusal::BadSad
    );
    // An administrator cannot sign; a revoked token is refused.
    let session = s.login("admin", PASSWORD, "127.0.0.1").await.unwrap();
    let admin = s.token_user(&session.token).await.unwrap();
    let next = otp_next(&f.alice_otp);
    assert_eq!(
        refused(
            s.authorize(&admin, &authorize(&f.credential, &next, &hs, 3))
                .await
                .unwrap_err()
        ),
        Refusal::NotASigner
    );
    s.revoke_token(&session.token).await.unwrap();
    assert_eq!(
        refused(s.token_user(&session.token).await.unwrap_err()),
        Refusal::BadToken
    );
    // Disabled, then destroyed credential.
    s.set_credential_state("root", &f.credential, "disabled")
        .await
        .unwrap();
    assert_eq!(
        refused(
            s.authorize(&f.alice, &authorize(&f.credential, &next, &hs, 3))
                .await
                .unwrap_err()
        ),
        Refusal::CredentialDisabled
    );
    s.set_credential_state("root", &f.credential, "destroyed")
        .await
        .unwrap();
    assert_eq!(
        refused(
            s.authorize(&f.alice, &authorize(&f.credential, &next, &hs, 3))
                .await
                .unwrap_err()
        ),
        Refusal::CredentialDestroyed
    );
    // Every refusal is in the audit trail, and the chain is intact.
    let mut conn = s.store().pool().acquire().await.unwrap();
    let refusals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE kind = 'refusal'")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(refusals >= 14, "{refusals} refusals audited");
    assert_eq!(s.verify_audit().await.unwrap().problem, None);
    // A locked user after failed passwords.
    for _ in 0..4 {
        let _ = s.login("bob", "wrong password!!", "127.0.0.1").await;
    }
    assert!(matches!(
        refused(s.login("bob", PASSWORD, "127.0.0.1").await.unwrap_err()),
        Refusal::Locked { .. }
    ));
    drop(f.dir);
}

async fn two_instances_never_overspend_one_sad(db: Db, dir: tempfile::TempDir) {
    let f = fixture(db, dir, 1, Policy::default()).await;
    // A second service instance on the same database (another node).
    let store = f.db.store().await;
    let other = Service::open(store, MasterKey::from_base64(&f.master).unwrap())
        .await
        .unwrap();
    let n = 6i64;
    let code = otp(&f.alice_otp);
    let sad = f
        .service
        .authorize(&f.alice, &authorize(&f.credential, &code, &[], n))
        .await
        .unwrap();
    let services = [Arc::new(f.service), Arc::new(other)];
    let mut tasks = Vec::new();
    for i in 0..(2 * n) {
        let service = services[usize::try_from(i % 2).unwrap()].clone();
        let (user, credential, sad) = (f.alice.clone(), f.credential.clone(), sad.sad.to_string());
        tasks.push(tokio::spawn(async move {
            let h = vec![Digest::compute(DigestAlgorithm::Sha256, &i.to_be_bytes())
                .as_bytes()
                .to_vec()];
            service
                .sign_hashes(
                    &user,
                    &SignHashes {
                        credential_id: &credential,
                        sad: &sad,
                        hashes: &h,
                        algorithm: ES256,
                    },
                )
                .await
        }));
    }
    let mut signed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => signed += 1,
            Err(ServiceError::Refused(Refusal::BadSad)) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(signed, n, "exactly numSignatures signatures");
    assert_eq!(services[0].verify_audit().await.unwrap().problem, None);
}

async fn audit_verify_names_a_changed_a_deleted_and_an_inserted_record(
    db: Db,
    dir: tempfile::TempDir,
) {
    let f = fixture(db, dir, 2, Policy::default()).await;
    let pool = f.service.store().pool().clone();
    let verdict = f.service.verify_audit().await.unwrap();
    assert_eq!(verdict.problem, None);
    let last = i64::try_from(verdict.records).unwrap();
    // Changed.
    sqlx::query("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    let p = f.service.verify_audit().await.unwrap().problem.unwrap();
    assert!(p.contains("record 3 was changed"), "{p}");
    sqlx::query("UPDATE audit SET actor = 'root' WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(f.service.verify_audit().await.unwrap().problem, None);
    // Deleted.
    let saved = sqlx::query(
        "SELECT seq, at, kind, actor, detail, prev_hash, hash FROM audit WHERE seq = 4",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM audit WHERE seq = 4")
        .execute(&pool)
        .await
        .unwrap();
    let p = f.service.verify_audit().await.unwrap().problem.unwrap();
    assert!(p.contains("record 4 is missing"), "{p}");
    use sqlx::Row;
    sqlx::query("INSERT INTO audit (seq, at, kind, actor, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(saved.get::<i64, _>("seq"))
        .bind(saved.get::<i64, _>("at"))
        .bind(saved.get::<String, _>("kind"))
        .bind(saved.get::<String, _>("actor"))
        .bind(saved.get::<String, _>("detail"))
        .bind(saved.get::<String, _>("prev_hash"))
        .bind(saved.get::<String, _>("hash"))
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(f.service.verify_audit().await.unwrap().problem, None);
    // Inserted at the end.
    sqlx::query("INSERT INTO audit (seq, at, kind, actor, detail, prev_hash, hash) VALUES ($1, 0, 'signature', 'mallory', '{}', 'x', 'y')")
        .bind(last + 1)
        .execute(&pool)
        .await
        .unwrap();
    let p = f.service.verify_audit().await.unwrap().problem.unwrap();
    assert!(p.contains(&format!("record {}", last + 1)), "{p}");
}

async fn a_wrong_master_key_is_refused_and_no_key_is_stored_in_clear(
    db: Db,
    dir: tempfile::TempDir,
) {
    let f = fixture(db, dir, 2, Policy::default()).await;
    let store = f.db.store().await;
    let err = Service::open(store, MasterKey::generate().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::MasterKey), "{err}");
    assert!(err.to_string().contains("master key"), "{err}");
    // The stored key is sealed: no DER private-key structure (PKCS#8 starts
    // 30 81 87 02 01 00 30 13 for P-256) appears in what the database holds — the
    // SQLite files as they are on disk, or every stored value for PostgreSQL.
    let mut all = Vec::new();
    match &f.db {
        Db::Sqlite(path) => {
            for entry in std::fs::read_dir(path).unwrap() {
                all.extend(std::fs::read(entry.unwrap().path()).unwrap());
            }
        }
        Db::Postgres(_) => {
            use sqlx::Row;
            let pool = f.service.store().pool();
            for table in ["users", "credentials", "sads", "tokens", "audit", "meta"] {
                for row in sqlx::query(&format!("SELECT * FROM {table}"))
                    .fetch_all(pool)
                    .await
                    .unwrap()
                {
                    for i in 0..row.len() {
                        if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                            all.extend(text.as_bytes());
                            if let Ok(raw) = base64ct::Base64::decode_vec(&text) {
                                all.extend(raw);
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(!all.is_empty());
    let pkcs8_p256_prefix = [0x30u8, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13];
    assert!(!all.windows(8).any(|w| w == pkcs8_p256_prefix));
    assert!(!String::from_utf8_lossy(&all).contains(PASSWORD));
    assert!(!String::from_utf8_lossy(&all).contains(PIN));
}

async fn a_sad_is_for_its_credential_and_its_count_only(db: Db, dir: tempfile::TempDir) {
    let f = fixture(db, dir, 1, Policy::default()).await;
    let s = &f.service;
    // A second credential of the same user.
    let other = s
        .create_credential("root", "alice", KeyKind::EcP256, 1, 10, PIN)
        .await
        .unwrap();
    let spki = s.public_key(&other).await.unwrap();
    let chain = issue(f.dir.path(), &spki, "alice-2");
    s.import_chain("root", &other, &chain).await.unwrap();
    // SCAL 1: a SAD for two signatures, no hashes bound.
    let code = otp(&f.alice_otp);
    let sad = s
        .authorize(&f.alice, &authorize(&f.credential, &code, &[], 2))
        .await
        .unwrap();
    let hs = hashes(3);
    let sign = |credential: &str, hashes: &[Vec<u8>]| {
        let (credential, hashes, sad, user) = (
            credential.to_owned(),
            hashes.to_vec(),
            sad.sad.to_string(),
            f.alice.clone(),
        );
        async move {
            s.sign_hashes(
                &user,
                &SignHashes {
                    credential_id: &credential,
                    sad: &sad,
                    hashes: &hashes,
                    algorithm: ES256,
                },
            )
            .await
        }
    };
    // Credential X's SAD for credential Y.
    assert_eq!(
        refused(sign(&other, &hs[..1]).await.unwrap_err()),
        Refusal::BadSad
    );
    // More hashes than numSignatures.
    assert_eq!(
        refused(sign(&f.credential, &hs).await.unwrap_err()),
        Refusal::TooManySignatures
    );
    // The two it allows, then nothing more.
    sign(&f.credential, &hs[..2]).await.unwrap();
    assert_eq!(
        refused(sign(&f.credential, &hs[2..]).await.unwrap_err()),
        Refusal::BadSad
    );
    assert_eq!(s.verify_audit().await.unwrap().problem, None);
}
