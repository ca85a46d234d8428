//! `shomei serve` and `shomei audit verify`: the remote signing service (shomei-server
//! over shomei-service), and the check of its audit trail.

use super::{AuditArgs, Failure, ServeArgs, StoreArgs};
use shomei_server::config::{Config, LogFormat, TlsFiles};
use shomei_service::{MasterKey, Policy, Service, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Signing(format!("cannot start the async runtime: {e}")))
}

/// The configuration: the file of `--config`, the environment over it, the options
/// over both.
pub(crate) fn config(args: &StoreArgs) -> Result<Config, Failure> {
    let mut config =
        Config::load(args.config.as_deref()).map_err(|e| Failure::Input(e.to_string()))?;
    if let Some(dir) = &args.data_dir {
        config.data_dir = Some(dir.clone());
    }
    if let Some(url) = &args.database_url {
        config.database_url = Some(url.clone());
    }
    if let Some(file) = &args.master_key_file {
        config.master_key_file = Some(file.clone());
    }
    Ok(config)
}

/// The configured PKCS#11 token for credentials' keys, logged in with the PIN from its
/// environment variable.
pub(crate) fn token(config: &Config) -> Result<Option<shomei_service::Token>, Failure> {
    let Some(section) = &config.pkcs11 else {
        return Ok(None);
    };
    let pin = std::env::var(&section.pin_env)
        .map(zeroize::Zeroizing::new)
        .map_err(|_| {
            Failure::Input(format!(
            "[pkcs11]: the token PIN is read from the environment variable {}, which is not set",
            section.pin_env
        ))
        })?;
    Ok(Some(shomei_service::Token::new(
        shomei_pkcs11::TokenLogin::new(section.module.clone(), section.token_label.clone(), pin),
    )))
}

/// Opens the service on the configured database with the master key, the policy and
/// the token of the configuration.
pub(crate) async fn open_service(config: &Config, master: MasterKey) -> Result<Service, Failure> {
    let store = store(config).await?;
    let mut policy = Policy::default();
    if let Some(ttl) = config.policy.sad_ttl_seconds {
        policy.sad_ttl = ttl;
    }
    if let Some(ttl) = config.policy.token_ttl_seconds {
        policy.token_ttl = ttl;
    }
    if let Some(idle) = config.policy.session_idle_seconds {
        policy.session_idle = idle.max(1);
    }
    let mut service = Service::open(store, master)
        .await
        .map_err(|e| match e {
            shomei_service::ServiceError::MasterKey => Failure::Input(e.to_string()),
            other => Failure::Signing(format!("cannot start: {other}")),
        })?
        .with_policy(policy);
    if let Some(token) = token(config)? {
        service = service.with_token(token);
    }
    Ok(service)
}

/// The master key: the configured file, else `SHOMEI_MASTER_KEY` (base64), else — with
/// `--demo` only — a key file beside the data directory, created at first start. Never
/// inside the data directory: it holds nothing secret in clear.
pub(crate) fn master_key(config: &Config, demo: bool) -> Result<MasterKey, Failure> {
    let from_file = |path: &Path| {
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            Failure::Input(format!(
                "{}: cannot read the master key: {e}",
                path.display()
            ))
        })?);
        MasterKey::from_base64(&text)
            .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
    };
    if let Some(path) = &config.master_key_file {
        return from_file(path);
    }
    if let Ok(text) = std::env::var("SHOMEI_MASTER_KEY") {
        let text = zeroize::Zeroizing::new(text);
        return MasterKey::from_base64(&text)
            .map_err(|e| Failure::Input(format!("SHOMEI_MASTER_KEY: {e}")));
    }
    if !demo {
        return Err(Failure::Input(
            "no master key: give --master-key-file FILE (or master_key_file in the configuration) \
             or SHOMEI_MASTER_KEY (base64 of 32 random bytes, e.g. `head -c 32 /dev/urandom | \
             base64`); keep it outside the data directory"
                .into(),
        ));
    }
    let path = demo_key_path(&config.data_dir());
    if path.exists() {
        return from_file(&path);
    }
    let key = MasterKey::generate().map_err(|e| Failure::Signing(e.to_string()))?;
    write_private(&path, key.to_base64().as_bytes())?;
    eprintln!("shomei: demo master key written to {}", path.display());
    Ok(key)
}

/// `DATA_DIR.master-key`, beside the data directory.
fn demo_key_path(data_dir: &Path) -> PathBuf {
    let mut name = data_dir
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "shomei-data".into());
    name.push(".master-key");
    data_dir.with_file_name(name)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| Failure::Input(format!("{}: cannot write: {e}", path.display())))
}

/// The configured database: PostgreSQL by URL, else SQLite in the data directory.
pub(crate) async fn store(config: &Config) -> Result<Store, Failure> {
    let opened = match &config.database_url {
        Some(url) => Store::connect(url).await,
        None => Store::open_data_dir(&config.data_dir()).await,
    };
    opened.map_err(|e| Failure::Signing(format!("database: {e}")))
}

/// Deletes documents whose retention is over, once a minute.
async fn purge_documents(
    service: Arc<shomei_service::Service>,
    desk: Arc<shomei_service::documents::DocumentDesk>,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = service.purge_documents(&desk).await {
            tracing::warn!(error = %e, "purging documents");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

pub(crate) fn run(args: &ServeArgs) -> Result<String, Failure> {
    let mut config = config(&args.store)?;
    if let Some(listen) = &args.listen {
        config.listen = Some(listen.clone());
    }
    if let Some(tsa) = &args.tsa {
        config.tsa = Some(tsa.clone());
    }
    if let (Some(certificate), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsFiles {
            certificate: certificate.clone(),
            key: key.clone(),
        });
    }
    match args.log_format.as_deref() {
        Some("text") => config.log_format = Some(LogFormat::Text),
        Some(_) => config.log_format = Some(LogFormat::Json),
        None => {}
    }
    if let Some(level) = &args.log_level {
        config.log_level = shomei_server::config::LogLevel::parse(level);
    }
    shomei_server::init_logging(
        config.log_format.unwrap_or_default(),
        config.log_level.unwrap_or_default(),
    );
    let master = master_key(&config, args.demo)?;
    let tls = config
        .tls
        .as_ref()
        .map(shomei_server::tls_setup)
        .transpose()
        .map_err(|e| Failure::Input(e.to_string()))?;
    let data_dir = config.data_dir();
    let rt = runtime()?;
    rt.block_on(async {
        let service = open_service(&config, master).await?;
        let listener = tokio::net::TcpListener::bind(config.listen())
            .await
            .map_err(|e| Failure::Input(format!("--listen {}: {e}", config.listen())))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Failure::Signing(e.to_string()))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        if args.demo {
            let demo = shomei_service::demo::setup(&service, &data_dir, &base_url)
                .await
                .map_err(|e| Failure::Signing(format!("demo setup: {e}")))?;
            println!("shomei demo service at {base_url}/csc/v2 (and /csc/v1)");
            println!("  user:          {}", demo.user);
            println!("  password:      {}", demo.password);
            println!(
                "  TOTP secret:   {}  (add it to an authenticator app)",
                demo.totp_secret
            );
            println!("  credential id: {}", demo.credential_id);
            println!("  PIN:           {}", demo.pin);
            println!("  CA (not trusted): {}", demo.ca_cert);
            println!("  all of it in {}", data_dir.join("demo.json").display());
        } else {
            println!("shomei service at {base_url}/csc/v2 (and /csc/v1)");
        }
        tracing::info!(url = %base_url, database = ?service.store().backend(), "listening");
        let tsa: Option<Arc<dyn shomei_tsp::TimestampAuthority>> = match &config.tsa {
            Some(url) => {
                let transport: Arc<dyn shomei_core::HttpTransport> = Arc::new(
                    shomei_http::ReqwestTransport::new(std::time::Duration::from_secs(30))
                        .map_err(|e| Failure::Signing(e.to_string()))?,
                );
                let tsa_config = shomei_tsp::HttpTsaConfig::new(url);
                Some(Arc::new(shomei_tsp::HttpTsa::new(transport, tsa_config)))
            }
            None => None,
        };
        if let Some(anchor) = &config.audit_anchor {
            let Some(tsa) = &tsa else {
                return Err(Failure::Input(
                    "[audit_anchor] time-stamps the audit head by the TSA: configure tsa (or --tsa)"
                        .into(),
                ));
            };
            let policy = shomei_service::audit::AnchorPolicy {
                every_records: anchor.every_records.unwrap_or(0),
                every_seconds: anchor.every_seconds.unwrap_or(0),
            };
            if policy.every_records == 0 && policy.every_seconds == 0 {
                return Err(Failure::Input(
                    "[audit_anchor]: give every_records or every_seconds".into(),
                ));
            }
            tokio::spawn(shomei_service::audit::run_anchoring(
                service.store().clone(),
                Arc::clone(tsa),
                policy,
            ));
        }
        let mut trust_anchors = Vec::new();
        for path in &config.validation.trust {
            let bytes = std::fs::read(path).map_err(|e| {
                Failure::Input(format!("[validation] trust {}: {e}", path.display()))
            })?;
            trust_anchors.extend(shomei_core::chain::parse_certificates(&bytes).map_err(|e| {
                Failure::Input(format!("[validation] trust {}: {e}", path.display()))
            })?);
        }
        // One transport for revocation fetches: the validation (`fetch`) and the
        // long-term levels of uploaded documents.
        let online = shomei::online::OnlineServices::new(
            None,
            Default::default(),
            std::time::Duration::from_secs(30),
        )
        .map_err(|e| Failure::Input(format!("revocation sources: {e}")))?;
        let revocation = match config.validation.revocation {
            shomei_server::config::RevocationMode::Require => {
                shomei_server::RevocationPolicy::Require
            }
            shomei_server::config::RevocationMode::SoftFail => {
                shomei_server::RevocationPolicy::SoftFail
            }
            shomei_server::config::RevocationMode::Fetch => {
                shomei_server::RevocationPolicy::Fetch(online.revocation_source())
            }
        };
        let desk = Arc::new(
            config
                .document_desk(tsa.clone(), online.revocation_source())
                .map_err(|e| Failure::Input(e.to_string()))?,
        );
        let service = Arc::new(service);
        tokio::spawn(purge_documents(Arc::clone(&service), Arc::clone(&desk)));
        let origin = config
            .web
            .origin
            .clone()
            .unwrap_or_else(|| format!("{scheme}://localhost:{}", addr.port()));
        let passkeys = shomei_service::passkeys::Passkeys::new(&origin)
            .map_err(|e| Failure::Input(format!("[web] origin: {e}")))?;
        let state = shomei_server::AppState {
            passkeys: Some(Arc::new(passkeys)),
            service,
            documents: Some(desk),
            secure_cookies: tls.is_some(),
            tsa,
            trust_anchors: Arc::new(trust_anchors),
            revocation,
            name: "shomei".into(),
            metrics: Arc::new(
                shomei_server::Metrics::new()
                    .map_err(|e| Failure::Signing(format!("metrics: {e}")))?,
            ),
        };
        let served = match tls {
            Some(tls) => shomei_server::serve_tls(listener, state, tls, shutdown_signal()).await,
            None => shomei_server::serve(listener, state, shutdown_signal()).await,
        };
        served.map_err(|e| Failure::Signing(format!("server: {e}")))?;
        tracing::info!("stopped");
        Ok("shomei serve: stopped".to_string())
    })
}

pub(crate) fn audit(args: &AuditArgs) -> Result<String, Failure> {
    let rt = runtime()?;
    rt.block_on(async {
        let store = store(&config(&args.store)?).await?;
        let mut conn = store
            .pool()
            .acquire()
            .await
            .map_err(|e| Failure::Signing(format!("database: {e}")))?;
        let verdict = shomei_service::audit::verify(&mut conn)
            .await
            .map_err(|e| Failure::Signing(e.to_string()))?;
        let anchors = match verdict.last_anchor {
            Some((seq, at)) => format!(
                ", {} time-stamped anchors checked (the last: record {seq} at {})",
                verdict.anchors,
                shomei_service::audit::utc(at)
            ),
            None => ", no time-stamped anchor".into(),
        };
        match verdict.problem {
            None => Ok(format!(
                "audit trail intact: {} records{anchors}",
                verdict.records
            )),
            Some(p) => Err(Failure::Signing(format!(
                "audit trail BROKEN ({} records read): {p}",
                verdict.records
            ))),
        }
    })
}
