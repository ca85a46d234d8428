//! Building the signer from command-line options.

use super::{Failure, SignerArgs};
use shomei_core::chain::parse_certificates;
use shomei_core::{CertificateChain, RemoteSigner};
use shomei_keys::{KeyError, KeyMaterial, SoftwareSigner};
use std::path::Path;
use std::sync::Arc;

/// The bundled demo identity: a test key and certificate that nobody trusts, so a new
/// user can sign without any setup. Regenerated with `fixtures/pki/generate`.
const DEMO_KEY: &[u8] = include_bytes!("../../fixtures/pki/demo.key.pem");
const DEMO_CERT: &[u8] = include_bytes!("../../fixtures/pki/demo.cert.pem");

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::Input(format!("{}: cannot read {what}: {e}", path.display())))
}

/// The signer of one run, and what the summary line reports about it.
pub(crate) struct Built {
    pub(crate) signer: Arc<dyn RemoteSigner>,
    csc: Option<Arc<shomei_csc::CscSigner>>,
}

impl Built {
    /// ", N CSC authorizations, M signHash calls" for a CSC signer, else empty.
    pub(crate) fn summary(&self) -> String {
        self.csc
            .as_ref()
            .map(|c| {
                let calls = c.calls();
                format!(
                    ", CSC: {} credentials/authorize, {} signatures/signHash",
                    calls.authorize, calls.sign_hash
                )
            })
            .unwrap_or_default()
    }
}

/// A secret from the environment variable `var`.
fn secret_from_env(var: &str, what: &str) -> Result<zeroize::Zeroizing<String>, Failure> {
    std::env::var(var)
        .map(zeroize::Zeroizing::new)
        .map_err(|_| Failure::Input(format!("environment variable {var} ({what}) is not set")))
}

/// The PIN: from `--pin-env`, else asked on the terminal.
fn pin(args: &SignerArgs, what: &str) -> Result<zeroize::Zeroizing<String>, Failure> {
    use std::io::IsTerminal;
    if let Some(var) = &args.pin_env {
        return secret_from_env(var, what);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Input(format!(
            "{what}: no terminal to ask on; name the environment variable that holds it with --pin-env VAR"
        )));
    }
    rpassword::prompt_password(format!("{what}: "))
        .map(zeroize::Zeroizing::new)
        .map_err(|e| Failure::Input(format!("{what}: cannot read from the terminal: {e}")))
}

fn issuers(args: &SignerArgs) -> Result<Vec<shomei_core::chain::ChainCert>, Failure> {
    match &args.chain {
        Some(p) => parse_certificates(&read(p, "the chain")?)
            .map_err(|e| Failure::Input(format!("{}: {e}", p.display()))),
        None => Ok(Vec::new()),
    }
}

fn pkcs11(args: &SignerArgs, module: &Path) -> Result<Built, Failure> {
    use shomei_pkcs11::{KeySelector, Pkcs11Config, Pkcs11Error, Pkcs11Signer};
    let token = args.token_label.clone().unwrap_or_default();
    let key = match (&args.key_label, &args.key_id) {
        (_, Some(hex)) => KeySelector::Id(
            hex::decode(hex.trim_start_matches("0x"))
                .map_err(|e| Failure::Input(format!("--key-id {hex}: not hex: {e}")))?,
        ),
        (Some(label), None) => KeySelector::Label(label.clone()),
        (None, None) => {
            return Err(Failure::Input(
                "--key-label or --key-id is required with --pkcs11-module".into(),
            ))
        }
    };
    let pin = pin(args, &format!("PIN of token {token}"))?;
    let mut config = Pkcs11Config::new(module, token, key, pin);
    if let Some(cert_path) = &args.cert {
        let chain = CertificateChain::from_pem_or_der(&read(cert_path, "the certificate")?)
            .map_err(|e| Failure::Input(format!("{}: {e}", cert_path.display())))?;
        config.certificate = Some(chain.signing_cert().clone());
    }
    config.issuers = issuers(args)?;
    let signer = Pkcs11Signer::open(config).map_err(|e| match e {
        // A PIN or token problem is the device refusing: exit 1, like a failed signature.
        Pkcs11Error::WrongPin(_)
        | Pkcs11Error::PinLocked(_)
        | Pkcs11Error::NoToken { .. }
        | Pkcs11Error::Module { .. }
        | Pkcs11Error::Token { .. } => Failure::Signing(format!("PKCS#11: {e}")),
        _ => Failure::Input(format!("PKCS#11: {e}")),
    })?;
    Ok(Built {
        signer: Arc::new(signer),
        csc: None,
    })
}

fn csc(
    args: &SignerArgs,
    url: &str,
    runtime: &tokio::runtime::Runtime,
    timeout_secs: u64,
) -> Result<Built, Failure> {
    use shomei_csc::{CscAuth, CscConfig, CscSigner, CscVersion};
    let version = match args.csc_version.as_deref() {
        Some("1") => CscVersion::V1,
        Some(_) => CscVersion::V2,
        None if url.trim_end_matches('/').ends_with("/v1") => CscVersion::V1,
        None => CscVersion::V2,
    };
    let credential = args.credential_id.clone().unwrap_or_default();
    let mut config = CscConfig::new(url.trim_end_matches('/'), version, credential);
    if let (Some(user), Some(var)) = (&args.csc_user, &args.csc_password_env) {
        config = config.with_auth(CscAuth::login(
            user.clone(),
            secret_from_env(var, "CSC password")?.as_str(),
        ));
    } else if let Some(var) = &args.csc_token_env {
        config = config.with_auth(CscAuth::bearer(
            secret_from_env(var, "CSC bearer token")?.as_str(),
        ));
    } else if let (Some(id), Some(token_url), Some(var)) = (
        &args.csc_client_id,
        &args.csc_oauth_url,
        &args.csc_client_secret_env,
    ) {
        let secret = secret_from_env(var, "OAuth2 client secret")?;
        config = config.with_auth(CscAuth::client_credentials(
            token_url.clone(),
            id.clone(),
            secret.as_str(),
        ));
    }
    if let Some(var) = &args.pin_env {
        config = config.with_pin(secret_from_env(var, "CSC credential PIN")?.as_str());
    }
    if let Some(var) = &args.otp_env {
        config = config.with_otp(secret_from_env(var, "CSC one-time password")?.as_str());
    }
    let transport = Arc::new(
        shomei_http::ReqwestTransport::new(std::time::Duration::from_secs(timeout_secs.max(1)))
            .map_err(|e| Failure::Signing(e.to_string()))?,
    );
    let signer = runtime
        .block_on(CscSigner::connect(transport, config))
        .map_err(|e| Failure::Signing(format!("CSC service {url}: {e}")))?;
    let signer = Arc::new(signer);
    Ok(Built {
        signer: signer.clone(),
        csc: Some(signer),
    })
}

/// Builds the signer the options describe: a key file, a PKCS#11 token or a CSC
/// service (connected now, so a wrong PIN or an unreachable service fails before any
/// input is read).
pub(crate) fn build(
    args: &SignerArgs,
    runtime: &tokio::runtime::Runtime,
    timeout_secs: u64,
) -> Result<Built, Failure> {
    if let Some(module) = &args.pkcs11_module {
        return pkcs11(args, module);
    }
    if let Some(url) = &args.csc_url {
        return csc(args, url, runtime, timeout_secs);
    }
    software(args).map(|signer| Built { signer, csc: None })
}

/// The software signer described by the options.
fn software(args: &SignerArgs) -> Result<Arc<dyn RemoteSigner>, Failure> {
    if args.demo {
        let chain = CertificateChain::from_pem_or_der(DEMO_CERT)
            .map_err(|e| Failure::Signing(format!("bundled demo certificate: {e}")))?;
        let signer = SoftwareSigner::from_key_and_chain(DEMO_KEY, chain)
            .map_err(|e| Failure::Signing(format!("bundled demo key: {e}")))?;
        return Ok(Arc::new(signer));
    }
    let key_path = args
        .key
        .as_deref()
        .ok_or_else(|| Failure::Input("--key is required (or use --demo)".into()))?;
    let key_bytes = zeroize::Zeroizing::new(read(key_path, "the key")?);
    let extra = issuers(args)?;
    let cert_bytes = match &args.cert {
        Some(p) => Some(read(p, "the certificate")?),
        None => None,
    };
    let password = args
        .key_password_env
        .as_deref()
        .and_then(|var| std::env::var(var).ok())
        .map(zeroize::Zeroizing::new);
    let mut material = KeyMaterial::new(&key_bytes);
    material.certificate = cert_bytes.as_deref();
    material.password = password.as_deref().map(String::as_str);
    material.issuers = &extra;
    let key_name = key_path.display();
    let signer = SoftwareSigner::open(material).map_err(|e| match e {
        KeyError::PasswordRequired => Failure::Input(match &args.key_password_env {
            Some(var) => format!("environment variable {var} (PKCS#12 password) is not set"),
            None => format!(
                "{key_name}: PKCS#12 file needs --key-password-env VAR naming the variable that holds its password"
            ),
        }),
        KeyError::CertificateRequired => Failure::Input(
            "--cert is required with a PKCS#8/PEM key (or use a PKCS#12 file)".into(),
        ),
        KeyError::Certificate(c) => Failure::Input(format!(
            "{}: {c}",
            args.cert.as_deref().unwrap_or(key_path).display()
        )),
        KeyError::KeyCertMismatch { .. } if args.cert.is_some() && password.is_some() => {
            Failure::Input(format!(
                "{}: the certificate does not belong to the key in {key_name}",
                args.cert.as_deref().unwrap_or(key_path).display()
            ))
        }
        other => Failure::Input(format!("{key_name}: {other}")),
    })?;
    Ok(Arc::new(signer))
}
