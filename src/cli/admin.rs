//! `shomei admin`: users, second factors and credentials of the service, on the same
//! database and master key as `shomei serve`. An administrator never signs and never
//! sees a password, PIN or TOTP secret after enrolment; secrets come from environment
//! variables, never from the command line.

use super::{AdminArgs, AdminCommand, CredentialCommand, Failure, UserCommand};
use shomei_service::{KeyKind, Role};

fn secret(var: &str, what: &str) -> Result<zeroize::Zeroizing<String>, Failure> {
    std::env::var(var)
        .map(zeroize::Zeroizing::new)
        .map_err(|_| Failure::Input(format!("environment variable {var} ({what}) is not set")))
}

/// The `otpauth://` URI as a QR code drawn with half-block characters, for an
/// authenticator app to scan off the terminal.
fn terminal_qr(uri: &str) -> Result<String, Failure> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| Failure::Signing(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

fn failed(e: shomei_service::ServiceError) -> Failure {
    match e {
        shomei_service::ServiceError::Refused(r) => Failure::Input(r.to_string()),
        shomei_service::ServiceError::Config(m) => Failure::Input(m),
        other => Failure::Signing(other.to_string()),
    }
}

pub(crate) fn run(args: &AdminArgs) -> Result<String, Failure> {
    let config = super::serve::config(&args.store)?;
    let master = super::serve::master_key(&config, false)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let service = super::serve::open_service(&config, master).await?;
        let actor = "admin";
        match &args.command {
            AdminCommand::User(UserCommand::Create { name, admin, password_env }) => {
                let password = secret(password_env, "the new user's password")?;
                let role = if *admin { Role::Admin } else { Role::Signer };
                service
                    .create_user(actor, name, &password, role)
                    .await
                    .map_err(failed)?;
                Ok(format!("user {name} created"))
            }
            AdminCommand::User(UserCommand::Disable { name }) => {
                service.set_user_disabled(actor, name, true).await.map_err(failed)?;
                Ok(format!("user {name} disabled"))
            }
            AdminCommand::User(UserCommand::Enable { name }) => {
                service.set_user_disabled(actor, name, false).await.map_err(failed)?;
                Ok(format!("user {name} enabled"))
            }
            AdminCommand::Totp { name } => {
                let e = service.enroll_totp(actor, name, "shomei").await.map_err(failed)?;
                Ok(format!(
                    "TOTP enrolled for {name} (SHA-1, 6 digits, 30 s); give this to the user once:\n  secret: {}\n  uri:    {}\n{}",
                    e.secret_base32.as_str(),
                    e.uri.as_str(),
                    terminal_qr(&e.uri)?
                ))
            }
            AdminCommand::Credential(CredentialCommand::List { user }) => {
                let list = service
                    .list_credentials(user.as_deref())
                    .await
                    .map_err(failed)?;
                let mut out = format!(
                    "{:<34} {:<16} {:<9} {:<4} {:>9} {:<9} certificate",
                    "credential", "user", "key", "SCAL", "multisign", "state"
                );
                for (owner, c) in &list {
                    out.push_str(&format!(
                        "\n{:<34} {:<16} {:<9} {:<4} {:>9} {:<9} {}",
                        c.id,
                        owner,
                        c.key.name(),
                        c.scal,
                        c.multisign,
                        c.state,
                        c.chain
                            .as_ref()
                            .map_or_else(|| "(none yet)".to_string(), |ch| ch.signing_cert().subject())
                    ));
                }
                Ok(out)
            }
            AdminCommand::Credential(CredentialCommand::Create {
                user,
                key,
                scal,
                multisign,
                pin_env,
                on_token,
            }) => {
                let kind = KeyKind::from_name(key).ok_or_else(|| {
                    Failure::Input(format!("--key {key}: rsa-2048, rsa-3072, ec-p256 or ec-p384"))
                })?;
                let pin = secret(pin_env, "the credential's PIN")?;
                let id = if *on_token {
                    service
                        .create_token_credential(actor, user, kind, *scal, *multisign, &pin)
                        .await
                } else {
                    service
                        .create_credential(actor, user, kind, *scal, *multisign, &pin)
                        .await
                }
                .map_err(failed)?;
                Ok(id)
            }
            AdminCommand::Credential(CredentialCommand::Csr { id, subject, output }) => {
                let csr = service
                    .certificate_request(actor, id, subject)
                    .await
                    .map_err(failed)?;
                std::fs::write(output, csr).map_err(|e| {
                    Failure::Input(format!("{}: cannot write: {e}", output.display()))
                })?;
                Ok(format!("certificate request for {id} written to {}", output.display()))
            }
            AdminCommand::Credential(CredentialCommand::Import { id, chain }) => {
                let pem = std::fs::read_to_string(chain).map_err(|e| {
                    Failure::Input(format!("{}: cannot read: {e}", chain.display()))
                })?;
                service.import_chain(actor, id, &pem).await.map_err(failed)?;
                Ok(format!("certificate chain imported for {id}"))
            }
            AdminCommand::Credential(CredentialCommand::Disable { id }) => {
                service.set_credential_state(actor, id, "disabled").await.map_err(failed)?;
                Ok(format!("credential {id} disabled"))
            }
            AdminCommand::Credential(CredentialCommand::Enable { id }) => {
                service.set_credential_state(actor, id, "active").await.map_err(failed)?;
                Ok(format!("credential {id} enabled"))
            }
            AdminCommand::Credential(CredentialCommand::Destroy { id }) => {
                service.set_credential_state(actor, id, "destroyed").await.map_err(failed)?;
                Ok(format!("credential {id} destroyed (its key is erased; the record stays in the audit trail)"))
            }
        }
    })
}
