//! `shomei serve --demo`: a working service with no setup. A test CA made at first
//! start (nobody trusts it), one signer with a password, a TOTP secret and a SCAL 2
//! credential certified by that CA, all written to `DATA_DIR/demo.json` for scripts
//! and tests. Later starts reuse what is there.

use crate::keystore::{random_hex, KeyKind};
use crate::service::{Role, Service};
use crate::ServiceError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What `demo.json` holds (the demo's secrets on purpose: it is a demo).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DemoInfo {
    /// Where the service listens.
    pub base_url: String,
    /// The demo signer.
    pub user: String,
    /// Its password.
    pub password: String,
    /// Its TOTP secret (base32).
    pub totp_secret: String,
    /// The credential's PIN.
    pub pin: String,
    /// The SCAL 2 credential.
    pub credential_id: String,
    /// The demo CA certificate (PEM file).
    pub ca_cert: String,
}

/// Sets up (or finds) the demo in `data_dir` and returns what `demo.json` holds.
pub async fn setup(
    service: &Service,
    data_dir: &Path,
    base_url: &str,
) -> Result<DemoInfo, ServiceError> {
    let json_path = data_dir.join("demo.json");
    if let Ok(text) = std::fs::read_to_string(&json_path) {
        if let Ok(mut info) = serde_json::from_str::<DemoInfo>(&text) {
            if info.base_url != base_url {
                info.base_url = base_url.to_owned();
                write(&json_path, &info)?;
            }
            return Ok(info);
        }
    }
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| ServiceError::Internal(format!("demo CA key: {e}")))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| ServiceError::Internal(format!("demo CA: {e}")))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "shomei demo CA (not trusted)");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let ca = params
        .self_signed(&ca_key)
        .map_err(|e| ServiceError::Internal(format!("demo CA: {e}")))?;
    let ca_path = data_dir.join("demo-ca.pem");
    std::fs::write(&ca_path, ca.pem())
        .map_err(|e| ServiceError::Config(format!("{}: {e}", ca_path.display())))?;

    let user = "demo".to_string();
    let password = format!("demo-{}", random_hex(8)?);
    let pin = format!(
        "{:06}",
        u32::from_str_radix(&random_hex(3)?, 16).unwrap_or(0) % 1_000_000
    );
    service
        .create_user("demo-setup", &user, &password, Role::Signer)
        .await?;
    let totp = service
        .enroll_totp("demo-setup", &user, "shomei demo")
        .await?;
    let credential_id = service
        .create_credential("demo-setup", &user, KeyKind::EcP256, 2, 100, &pin)
        .await?;
    service
        .certify_with(
            "demo-setup",
            &credential_id,
            "shomei demo signer",
            &ca,
            &ca_key,
        )
        .await?;
    let info = DemoInfo {
        base_url: base_url.to_owned(),
        user,
        password,
        totp_secret: totp.secret_base32.to_string(),
        pin,
        credential_id,
        ca_cert: ca_path.display().to_string(),
    };
    write(&json_path, &info)?;
    Ok(info)
}

fn write(path: &Path, info: &DemoInfo) -> Result<(), ServiceError> {
    let text =
        serde_json::to_string_pretty(info).map_err(|e| ServiceError::Internal(e.to_string()))?;
    std::fs::write(path, text).map_err(|e| ServiceError::Config(format!("{}: {e}", path.display())))
}
