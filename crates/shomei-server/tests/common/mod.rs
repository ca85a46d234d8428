//! Helpers the service's HTTP tests share: a credential with a certificate from the
//! repo's test CA (issued with openssl), and TOTP codes computed independently of the
//! service (RFC 6238).
#![allow(dead_code)]

use shomei_service::{KeyKind, Service};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The PIN of every test credential.
pub(crate) const PIN: &str = "482913";

// ----- keys, certificates, codes ----------------------------------------------------

pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .to_vec()
}

pub(crate) fn pki(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/pki")
        .join(name)
}

/// A SCAL 2 P-256 credential for `user` with `multisign` 10 and a certificate from the
/// test intermediate CA.
pub(crate) async fn credential(service: &Service, dir: &Path, user: &str, name: &str) -> String {
    let id = service
        .create_credential("root", user, KeyKind::EcP256, 2, 10, PIN)
        .await
        .unwrap();
    let spki = service.public_key(&id).await.unwrap();
    service
        .import_chain("root", &id, &issue(dir, &spki, name))
        .await
        .unwrap();
    id
}

/// A certificate for `spki` (DER) issued by the test intermediate CA, followed by the
/// CA chain (PEM).
pub(crate) fn issue(dir: &Path, spki: &[u8], name: &str) -> String {
    let run = |command: &mut Command| {
        let out = command.output().expect("openssl is required for this test");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let der = dir.join(format!("{name}.pub.der"));
    std::fs::write(&der, spki).unwrap();
    let pem = dir.join(format!("{name}.pub.pem"));
    run(Command::new("openssl")
        .args(["pkey", "-pubin", "-inform", "DER", "-in"])
        .arg(&der)
        .arg("-out")
        .arg(&pem));
    let cert = dir.join(format!("{name}.cert.pem"));
    run(Command::new("openssl")
        .args(["x509", "-new", "-subj"])
        .arg(format!("/C=JP/O=shomei test/CN={name}"))
        .arg("-force_pubkey")
        .arg(&pem)
        .arg("-CA")
        .arg(pki("intermediate.cert.pem"))
        .arg("-CAkey")
        .arg(pki("intermediate.key.pem"))
        .args(["-days", "30", "-out"])
        .arg(&cert));
    let mut chain = std::fs::read_to_string(&cert).unwrap();
    chain.push_str(&std::fs::read_to_string(pki("chain.pem")).unwrap());
    chain
}

/// RFC 4648 base32, the alphabet of authenticator apps; padding optional.
pub(crate) fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let value = ALPHABET
            .iter()
            .position(|&a| a == c.to_ascii_uppercase())
            .expect("base32 character");
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// The RFC 6238 code for time step `step`: HMAC-SHA-1, then the dynamic truncation of
/// RFC 4226 §5.3, then 6 digits.
pub(crate) fn totp_code(secret: &[u8], step: u64) -> String {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac[19] & 0x0f);
    let word = u32::from_be_bytes(mac[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", word % 1_000_000)
}

pub(crate) fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The signer's authenticator app. The service accepts a code for the step of its
/// clock or one step either side, and a step only when it is later than every step
/// used before (`check_otp`). So each new code is for a later step than the previous
/// one. Three codes fit in any 30 s.
pub(crate) struct Authenticator {
    secret: Vec<u8>,
    last_step: u64,
}

/// How long a code must stay acceptable after it is made: until the service checks
/// it. The PIN is checked first, with argon2, which is slow in a debug build.
pub(crate) const CODE_MARGIN_SECONDS: u64 = 10;

impl Authenticator {
    pub(crate) fn new(secret_base32: &str) -> Self {
        Self {
            secret: base32_decode(secret_base32),
            last_step: 0,
        }
    }

    /// A code the service has not seen, for the earliest step that is still
    /// acceptable `CODE_MARGIN_SECONDS` from now. When every acceptable step is used,
    /// this waits for the next step.
    pub(crate) async fn next_code(&mut self) -> String {
        loop {
            let now = unix_seconds();
            let lowest = ((now + CODE_MARGIN_SECONDS) / 30).saturating_sub(1);
            let highest = now / 30 + 1;
            let step = lowest.max(self.last_step + 1);
            if step <= highest {
                self.last_step = step;
                return totp_code(&self.secret, step);
            }
            tokio::time::sleep(Duration::from_secs(30 - now % 30)).await;
        }
    }

    /// A well-formed code for no step near now.
    pub(crate) fn wrong(&self) -> String {
        let now = unix_seconds() / 30;
        let near: Vec<String> = (now - 2..=now + 2)
            .map(|s| totp_code(&self.secret, s))
            .collect();
        (0..)
            .map(|n: u32| format!("{n:06}"))
            .find(|c| !near.contains(c))
            .unwrap()
    }
}

/// A new database on the PostgreSQL server that `SHOMEI_TEST_DATABASE_URL` names, so
/// that no other test's rows are seen.
pub(crate) async fn fresh_postgres(prefix: &str) -> shomei_service::Store {
    let base = std::env::var("SHOMEI_TEST_DATABASE_URL").expect(
        "SHOMEI_TEST_DATABASE_URL must name a PostgreSQL server for this test \
         (tests/pg-cluster.sh start PORT prints one)",
    );
    sqlx::any::install_default_drivers();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("{prefix}_{nanos:x}{:x}", std::process::id());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    shomei_service::Store::connect(&format!("{prefix}/{name}"))
        .await
        .unwrap()
}
