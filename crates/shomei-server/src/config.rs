//! The service's configuration: a TOML file (`shomei serve --config FILE`), environment
//! variables over it, and command-line options over both (the CLI applies those last).
//! Secrets are never in the file: the master key and the token PIN are named by a file
//! path or an environment variable.
//!
//! ```toml
//! listen = "0.0.0.0:8443"
//! data_dir = "/var/lib/shomei"
//! # database_url = "postgres://shomei@db/shomei"   # several nodes
//! master_key_file = "/etc/shomei/master.key"
//! tsa = "http://tsa.example/"
//! log_format = "json"                               # or "text"
//! log_level = "info"                                # error, warn, info, debug, trace
//!
//! [tls]
//! certificate = "/etc/shomei/tls/chain.pem"
//! key = "/etc/shomei/tls/key.pem"
//!
//! [policy]
//! sad_ttl_seconds = 300
//! token_ttl_seconds = 3600                          # also the longest web page session
//! session_idle_seconds = 900                        # a web session ends after this idle time
//!
//! [audit_anchor]                                    # time-stamp the chain head
//! every_records = 1000
//! every_seconds = 600
//!
//! [validation]                                      # POST /api/v1/validate
//! trust = ["/etc/shomei/trust/root.pem"]
//! revocation = "fetch"                              # or "require" (default), "soft-fail"
//!
//! [documents]                                       # /api/v1/documents
//! dir = "/srv/shared/shomei-documents"              # default DATA_DIR/documents; shared by all nodes
//! max_pdf_mb = 256
//! max_xml_mb = 32
//! max_files = 20
//! retention_seconds = 3600                          # uploaded and signed files are deleted after
//! download_grace_seconds = 600                      # ... or this long after the first download
//! stamp_font = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"  # default: IPAex or Noto CJK
//!
//! [web]
//! origin = "https://sign.example.jp"                # passkeys are bound to it
//!
//! [pkcs11]                                          # keys generated on a token
//! module = "/usr/lib/softhsm/libsofthsm2.so"
//! token_label = "shomei"
//! pin_env = "SHOMEI_PKCS11_PIN"
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The default listening address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default data directory.
pub const DEFAULT_DATA_DIR: &str = "./shomei-data";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (the default: for log collectors).
    #[default]
    Json,
    /// Human-readable lines.
    Text,
}

/// How much is logged: the most detailed level written. Secrets are never logged at
/// any level (the service never formats them into an event, and the libraries below
/// it log no request or response bodies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warn,
    /// The default: one access line per request, start-up and anchoring events.
    #[default]
    Info,
    /// Also the libraries' debug events (database statements, connection pools).
    Debug,
    /// Everything, down to HTTP framing.
    Trace,
}

impl LogLevel {
    /// Parses `error`, `warn`, `info`, `debug` or `trace`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "error" => Self::Error,
            "warn" => Self::Warn,
            "info" => Self::Info,
            "debug" => Self::Debug,
            "trace" => Self::Trace,
            _ => return None,
        })
    }
}

/// `[tls]`: serve HTTPS with this certificate chain and key (PEM files).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain, server certificate first (PEM).
    pub certificate: PathBuf,
    /// The private key (PEM: PKCS#8, PKCS#1 or SEC 1).
    pub key: PathBuf,
}

/// `[policy]`: limits of the Sole Control rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// How long a SAD lives (at most 300 s).
    pub sad_ttl_seconds: Option<i64>,
    /// A web page session ends after this long without a request (default 900 s).
    pub session_idle_seconds: Option<i64>,
    /// How long a bearer token lives.
    pub token_ttl_seconds: Option<i64>,
}

/// `[audit_anchor]`: time-stamp the audit chain's head by the configured TSA.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorConfig {
    /// After this many new records.
    pub every_records: Option<u64>,
    /// After this many seconds with new records.
    pub every_seconds: Option<u64>,
}

/// `[validation]`: what `POST /api/v1/validate` trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationConfig {
    /// Trust anchor files (PEM or DER certificates).
    #[serde(default)]
    pub trust: Vec<PathBuf>,
    /// What to do for a certificate whose status the document does not carry.
    #[serde(default)]
    pub revocation: RevocationMode,
}

/// `[validation] revocation`: the status of certificates the document has no
/// revocation data for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationMode {
    /// Unknown: the signature is INDETERMINATE / TRY_LATER (nothing is fetched).
    #[default]
    Require,
    /// Fetched over OCSP (CRL as fallback) from the addresses the certificates give.
    Fetch,
    /// Reported as not checked, and the validation goes on (never counts for B-LT).
    SoftFail,
}

/// `[documents]`: the desk that signs uploaded documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DocumentsConfig {
    /// Where files are kept (default `DATA_DIR/documents`); several nodes share it.
    pub dir: Option<PathBuf>,
    /// Largest PDF upload, MiB.
    pub max_pdf_mb: Option<u64>,
    /// Largest XML upload, MiB.
    pub max_xml_mb: Option<u64>,
    /// Most files in one upload.
    pub max_files: Option<usize>,
    /// Seconds documents are kept at most.
    pub retention_seconds: Option<i64>,
    /// Seconds a signed file stays after its first download.
    pub download_grace_seconds: Option<i64>,
    /// Font file of visible stamps (`PATH` or `PATH#FACE`).
    pub stamp_font: Option<String>,
}

/// `[web]`: the web page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebConfig {
    /// The origin the page is reached at (`https://sign.example.jp`): passkeys are bound
    /// to it. Default: `http(s)://localhost:PORT` of the listening port.
    pub origin: Option<String>,
}

/// `[pkcs11]`: the token new credentials' keys may be generated on.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Section {
    /// The PKCS#11 module.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The environment variable holding the token's user PIN.
    #[serde(default = "default_pin_env")]
    pub pin_env: String,
}

fn default_pin_env() -> String {
    "SHOMEI_PKCS11_PIN".into()
}

/// The whole configuration; every field may be missing (defaults apply).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// `ADDR:PORT` to listen on (default 127.0.0.1:8080).
    pub listen: Option<String>,
    /// The data directory (default `./shomei-data`).
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL URL instead of the embedded SQLite database.
    pub database_url: Option<String>,
    /// The master key file (base64 of 32 bytes).
    pub master_key_file: Option<PathBuf>,
    /// The TSA `signatures/timestamp` forwards to (and audit anchors use).
    pub tsa: Option<String>,
    /// Log format (default JSON).
    pub log_format: Option<LogFormat>,
    /// Log level (default info).
    pub log_level: Option<LogLevel>,
    /// HTTPS, when set.
    pub tls: Option<TlsFiles>,
    /// Policy limits.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Audit anchoring.
    pub audit_anchor: Option<AnchorConfig>,
    /// A PKCS#11 token for keys.
    pub pkcs11: Option<Pkcs11Section>,
    /// Validation.
    #[serde(default)]
    pub validation: ValidationConfig,
    /// Signing uploaded documents.
    #[serde(default)]
    pub documents: DocumentsConfig,
    /// The web page.
    #[serde(default)]
    pub web: WebConfig,
}

/// A configuration that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

impl ConfigError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl Config {
    /// Reads a TOML file. Unknown keys are refused, so a typo is not silently ignored.
    ///
    /// # Errors
    /// The file cannot be read or is not a valid configuration (the message names the
    /// file and the place).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: cannot read: {e}", path.display())))?;
        Self::from_toml(&text)
            .map_err(|ConfigError(m)| ConfigError(format!("{}: {m}", path.display())))
    }

    /// Parses TOML text.
    ///
    /// # Errors
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError(e.to_string()))
    }

    /// Applies the environment over the file: `SHOMEI_LISTEN`, `SHOMEI_DATA_DIR`,
    /// `SHOMEI_DATABASE_URL`, `SHOMEI_MASTER_KEY_FILE`, `SHOMEI_TSA_URL`,
    /// `SHOMEI_LOG_FORMAT` (`json`/`text`), `SHOMEI_TLS_CERT` + `SHOMEI_TLS_KEY`,
    /// `SHOMEI_SAD_TTL`, `SHOMEI_TOKEN_TTL` (seconds), `SHOMEI_ANCHOR_EVERY_RECORDS`,
    /// `SHOMEI_ANCHOR_EVERY_SECONDS`, `SHOMEI_PKCS11_MODULE` + `SHOMEI_PKCS11_TOKEN`.
    /// `var` looks a variable up (`std::env::var(..).ok()` in the binary).
    ///
    /// # Errors
    /// A variable whose value is not of its type, or half of a pair.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        let number = |name: &str| -> Result<Option<i64>, ConfigError> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| ConfigError(format!("{name}={v}: not a positive number")))
                })
                .transpose()
        };
        if let Some(v) = var("SHOMEI_LISTEN") {
            self.listen = Some(v);
        }
        if let Some(v) = var("SHOMEI_DATA_DIR") {
            self.data_dir = Some(v.into());
        }
        if let Some(v) = var("SHOMEI_DATABASE_URL") {
            self.database_url = Some(v);
        }
        if let Some(v) = var("SHOMEI_MASTER_KEY_FILE") {
            self.master_key_file = Some(v.into());
        }
        if let Some(v) = var("SHOMEI_TSA_URL") {
            self.tsa = Some(v);
        }
        if let Some(v) = var("SHOMEI_LOG_FORMAT") {
            self.log_format = Some(match v.as_str() {
                "json" => LogFormat::Json,
                "text" => LogFormat::Text,
                _ => return Err(ConfigError(format!("SHOMEI_LOG_FORMAT={v}: json or text"))),
            });
        }
        if let Some(v) = var("SHOMEI_LOG_LEVEL") {
            self.log_level = Some(LogLevel::parse(&v).ok_or_else(|| {
                ConfigError(format!(
                    "SHOMEI_LOG_LEVEL={v}: error, warn, info, debug or trace"
                ))
            })?);
        }
        match (var("SHOMEI_TLS_CERT"), var("SHOMEI_TLS_KEY")) {
            (Some(certificate), Some(key)) => {
                self.tls = Some(TlsFiles {
                    certificate: certificate.into(),
                    key: key.into(),
                })
            }
            (None, None) => {}
            _ => {
                return Err(ConfigError(
                    "SHOMEI_TLS_CERT and SHOMEI_TLS_KEY go together".into(),
                ))
            }
        }
        if let Some(n) = number("SHOMEI_SAD_TTL")? {
            self.policy.sad_ttl_seconds = Some(n);
        }
        if let Some(n) = number("SHOMEI_TOKEN_TTL")? {
            self.policy.token_ttl_seconds = Some(n);
        }
        let records = number("SHOMEI_ANCHOR_EVERY_RECORDS")?;
        let seconds = number("SHOMEI_ANCHOR_EVERY_SECONDS")?;
        if records.is_some() || seconds.is_some() {
            let anchor = self.audit_anchor.get_or_insert_with(AnchorConfig::default);
            if let Some(n) = records {
                anchor.every_records = u64::try_from(n).ok();
            }
            if let Some(n) = seconds {
                anchor.every_seconds = u64::try_from(n).ok();
            }
        }
        match (var("SHOMEI_PKCS11_MODULE"), var("SHOMEI_PKCS11_TOKEN")) {
            (Some(module), Some(token_label)) => {
                self.pkcs11 = Some(Pkcs11Section {
                    module: module.into(),
                    token_label,
                    pin_env: default_pin_env(),
                })
            }
            (None, None) => {}
            _ => {
                return Err(ConfigError(
                    "SHOMEI_PKCS11_MODULE and SHOMEI_PKCS11_TOKEN go together".into(),
                ))
            }
        }
        Ok(())
    }

    /// The document desk of `[documents]` over the TSA and revocation sources the
    /// levels above B-B use. A stamp font that is configured but unreadable is an
    /// error; with none configured the first installed Japanese font is used, and
    /// without one stamps are refused with a clear message.
    ///
    /// # Errors
    /// An unreadable stamp font or a documents directory that cannot be created.
    pub fn document_desk(
        &self,
        tsa: Option<std::sync::Arc<dyn shomei_tsp::TimestampAuthority>>,
        revocation: std::sync::Arc<dyn shomei_revocation::RevocationSource>,
    ) -> Result<shomei_service::documents::DocumentDesk, ConfigError> {
        use shomei_service::documents::{DocumentDesk, DocumentLimits, SigningServices};
        let d = &self.documents;
        let mut limits = DocumentLimits::default();
        if let Some(mb) = d.max_pdf_mb {
            limits.max_pdf_bytes = mb.saturating_mul(1 << 20);
        }
        if let Some(mb) = d.max_xml_mb {
            limits.max_xml_bytes = mb.saturating_mul(1 << 20);
        }
        if let Some(n) = d.max_files {
            limits.max_files = n.max(1);
        }
        if let Some(s) = d.retention_seconds {
            limits.retention_secs = s.max(60);
        }
        if let Some(s) = d.download_grace_seconds {
            limits.download_grace_secs = s.max(0);
        }
        let stamp_font = match &d.stamp_font {
            Some(spec) => Some(std::sync::Arc::new(
                shomei_stamp::StampFont::from_file(spec)
                    .map_err(|e| ConfigError(format!("[documents] stamp_font: {e}")))?,
            )),
            None => match shomei_stamp::StampFont::system_default() {
                Ok(font) => Some(std::sync::Arc::new(font)),
                Err(e) => {
                    tracing::warn!(error = %e, "visible stamps are refused");
                    None
                }
            },
        };
        let dir = d
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir().join("documents"));
        DocumentDesk::new(
            dir,
            limits,
            SigningServices {
                tsa,
                revocation,
                clock: std::sync::Arc::new(shomei_core::SystemClock),
                stamp_font,
            },
        )
        .map_err(|e| ConfigError(format!("[documents]: {e}")))
    }

    /// The file, if any, then the process environment.
    ///
    /// # Errors
    /// As [`Self::from_file`] and [`Self::apply_env`].
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(p) => Self::from_file(p)?,
            None => Self::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    /// The listening address, or the default.
    pub fn listen(&self) -> &str {
        self.listen.as_deref().unwrap_or(DEFAULT_LISTEN)
    }

    /// The data directory, or the default.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn file_then_environment() {
        let mut config = Config::from_toml(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/srv/a\"\nlog_format = \"text\"\n\
             [tls]\ncertificate = \"c.pem\"\nkey = \"k.pem\"\n[policy]\nsad_ttl_seconds = 60\n",
        )
        .unwrap();
        assert_eq!(config.listen(), "127.0.0.1:9000");
        assert_eq!(config.log_format, Some(LogFormat::Text));
        assert_eq!(config.policy.sad_ttl_seconds, Some(60));
        config
            .apply_env(env(&[
                ("SHOMEI_LISTEN", "127.0.0.1:9001"),
                ("SHOMEI_SAD_TTL", "30"),
                ("SHOMEI_LOG_FORMAT", "json"),
            ]))
            .unwrap();
        assert_eq!(config.listen(), "127.0.0.1:9001");
        assert_eq!(config.data_dir(), PathBuf::from("/srv/a"));
        assert_eq!(config.policy.sad_ttl_seconds, Some(30));
        assert_eq!(config.log_format, Some(LogFormat::Json));
        assert_eq!(
            config.tls,
            Some(TlsFiles {
                certificate: "c.pem".into(),
                key: "k.pem".into()
            })
        );
    }

    #[test]
    fn defaults_are_loopback_and_the_local_data_dir() {
        let config = Config::default();
        assert_eq!(config.listen(), "127.0.0.1:8080");
        assert_eq!(config.data_dir(), PathBuf::from("./shomei-data"));
    }

    #[test]
    fn typos_and_bad_values_are_refused() {
        let e = Config::from_toml("listn = \"x\"").unwrap_err().to_string();
        assert!(e.contains("listn"), "{e}");
        assert!(Config::from_toml("[policy]\nsad_ttl_seconds = \"x\"").is_err());
        let mut config = Config::default();
        assert!(config.apply_env(env(&[("SHOMEI_SAD_TTL", "-1")])).is_err());
        assert!(config.apply_env(env(&[("SHOMEI_TLS_CERT", "c")])).is_err());
        assert!(config
            .apply_env(env(&[("SHOMEI_LOG_FORMAT", "xml")]))
            .is_err());
        assert!(Config::from_toml("[validation]\nrevocation = \"maybe\"").is_err());
    }

    #[test]
    fn validation_revocation_is_required_unless_configured() {
        assert_eq!(
            Config::default().validation.revocation,
            RevocationMode::Require
        );
        for (text, mode) in [
            ("fetch", RevocationMode::Fetch),
            ("soft-fail", RevocationMode::SoftFail),
            ("require", RevocationMode::Require),
        ] {
            let config =
                Config::from_toml(&format!("[validation]\nrevocation = \"{text}\"")).unwrap();
            assert_eq!(config.validation.revocation, mode);
        }
    }
}
