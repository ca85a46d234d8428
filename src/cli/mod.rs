//! Command-line parsing and dispatch.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod admin;
mod batch;
mod extend;
mod failure;
mod serve;
mod services;
mod sign_pdf;
mod sign_xml;
mod signer;
mod validate;

pub(crate) use failure::Failure;

/// shomei (署名): PAdES and XAdES advanced electronic signatures with keys held in a signature
/// creation device.
///
/// Exit status: 0 = done, 1 = signing failed, 2 = bad usage or bad input.
#[derive(Debug, Parser)]
#[command(name = "shomei", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a signature.
    #[command(subcommand)]
    Sign(SignCommand),
    /// Raise the level of every signature in a signed PDF or XAdES XML file from any
    /// producer (the format is told from the content). PDF: B-T adds a document
    /// time-stamp where a signature has none, B-LT adds the certificates and revocation
    /// data to /DSS, B-LTA adds a document time-stamp over them. XML: B-T adds a
    /// SignatureTimeStamp, B-LT CertificateValues and RevocationValues, B-LTA an
    /// ArchiveTimeStamp (detached data is read next to the input file). Run it again on
    /// a B-LTA file to renew the archive time-stamp.
    ///
    /// Example: shomei extend signed.pdf -o archived.pdf --level B-LTA --tsa http://tsa.example/
    Extend(Box<ExtendArgs>),
    /// Run the remote signing service: the CSC API v2 (/csc/v2) and v1 (/csc/v1) with
    /// password sign-in, PIN and TOTP second factor, keys held by the service. SQLite in
    /// --data-dir by default; PostgreSQL with --database-url.
    ///
    /// Example: shomei serve --demo
    Serve(Box<ServeArgs>),
    /// The service's audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the service's users and credentials (on the database and master key of
    /// `shomei serve`). No command exports a private key.
    Admin(Box<AdminArgs>),
    /// Validate the signatures of a PDF (ETSI EN 319 102-1): where each sits, integrity,
    /// signature value, signing certificate, a path to the trust anchors, revocation
    /// (the data the document embeds, else fetched unless --offline), time-stamps. Exit 0 when every signature is
    /// TOTAL-PASSED, 1 when one is TOTAL-FAILED, 3 otherwise (INDETERMINATE), 2 for bad
    /// input.
    ///
    /// Example: shomei validate signed.pdf --trust root.pem
    Validate(Box<ValidateArgs>),
}

/// Options of `shomei validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The signed PDF or XML document.
    pub(crate) input: PathBuf,
    /// Detached data an XML signature signs (the file its reference names, by file
    /// name; a single file answers every detached reference); may be repeated.
    #[arg(long, value_name = "DATA")]
    pub(crate) detached: Vec<PathBuf>,
    /// A trust anchor (PEM or DER certificates); may be repeated.
    #[arg(long, value_name = "PEM")]
    pub(crate) trust: Vec<PathBuf>,
    /// Validate as of this time (RFC 3339, e.g. 2035-01-01T00:00:00Z) instead of now.
    #[arg(long, value_name = "RFC3339")]
    pub(crate) at: Option<String>,
    /// Report format.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub(crate) format: String,
    /// Use only the data the document embeds: never fetch revocation data (OCSP, CRL).
    /// A certificate whose status the file does not carry is then reported as not
    /// checked, and does not stop the validation (unless --require-revocation).
    #[arg(long)]
    pub(crate) offline: bool,
    /// With --offline: a certificate whose revocation status the file does not carry
    /// makes the signature INDETERMINATE / TRY_LATER.
    #[arg(long, requires = "offline")]
    pub(crate) require_revocation: bool,
}

/// Options of `shomei admin`.
#[derive(Debug, Args)]
pub(crate) struct AdminArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    #[command(subcommand)]
    pub(crate) command: AdminCommand,
}

/// What `shomei admin` manages.
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Enrol a TOTP second factor for a user (prints the secret and otpauth URI once).
    Totp {
        /// The user.
        name: String,
    },
    /// Credentials (keys generated and held by the service).
    #[command(subcommand)]
    Credential(CredentialCommand),
}

/// `shomei admin user …`.
#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user (the password from an environment variable).
    Create {
        /// Login name.
        name: String,
        /// An administrator (never signs) instead of a signer.
        #[arg(long)]
        admin: bool,
        /// The environment variable holding the password.
        #[arg(long = "password-env", value_name = "VAR")]
        password_env: String,
    },
    /// Disable a user.
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a user.
    Enable {
        /// Login name.
        name: String,
    },
}

/// `shomei admin credential …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CredentialCommand {
    /// Create a credential: a key generated by the service (prints its id).
    Create {
        /// The signer it belongs to.
        #[arg(long)]
        user: String,
        /// rsa-2048, rsa-3072, ec-p256 or ec-p384.
        #[arg(long, default_value = "ec-p256")]
        key: String,
        /// Sole Control Level: 2 binds each SAD to the hashes.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i64).range(1..=2))]
        scal: i64,
        /// The most hashes one authorization may cover.
        #[arg(long, default_value_t = 100)]
        multisign: i64,
        /// The environment variable holding the signing PIN.
        #[arg(long = "pin-env", value_name = "VAR")]
        pin_env: String,
        /// Generate the key on the configured PKCS#11 token ([pkcs11] in the
        /// configuration, or SHOMEI_PKCS11_MODULE + SHOMEI_PKCS11_TOKEN; the token PIN in
        /// SHOMEI_PKCS11_PIN) instead of the software keystore.
        #[arg(long = "on-token")]
        on_token: bool,
    },
    /// Write a PKCS#10 certificate request for a credential's key.
    Csr {
        /// The credential.
        id: String,
        /// The subject's common name.
        #[arg(long)]
        subject: String,
        /// Where to write the request (PEM).
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// Import the issued certificate and its chain (PEM, signing certificate first);
    /// refused when it is not the credential's key.
    Import {
        /// The credential.
        id: String,
        /// The chain file.
        chain: PathBuf,
    },
    /// Disable a credential.
    Disable {
        /// The credential.
        id: String,
    },
    /// Enable a credential.
    Enable {
        /// The credential.
        id: String,
    },
    /// Destroy a credential: its sealed key is erased, the record stays audited.
    Destroy {
        /// The credential.
        id: String,
    },
    /// List credentials: id, user, key, SCAL, multisign, state, certificate subject.
    List {
        /// Only this user's.
        #[arg(long)]
        user: Option<String>,
    },
}

/// Options of `shomei serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// Address and port to listen on [default: 127.0.0.1:8080, loopback only].
    #[arg(long, value_name = "ADDR:PORT")]
    pub(crate) listen: Option<String>,
    /// The time-stamping authority signatures/timestamp forwards to (and audit
    /// anchors use).
    #[arg(long, value_name = "URL")]
    pub(crate) tsa: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key).
    #[arg(long = "tls-cert", value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The TLS private key (PEM; with --tls-cert).
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Log lines as JSON (default) or text, on standard error.
    #[arg(long = "log-format", value_name = "FORMAT", value_parser = ["json", "text"])]
    pub(crate) log_format: Option<String>,
    /// The most detailed log level written (default info). No level logs a secret.
    #[arg(long = "log-level", value_name = "LEVEL", value_parser = ["error", "warn", "info", "debug", "trace"])]
    pub(crate) log_level: Option<String>,
    /// Set up a demo user, TOTP secret and SCAL 2 credential (from a test CA nobody
    /// trusts) and write them to DATA_DIR/demo.json.
    #[arg(long)]
    pub(crate) demo: bool,
}

/// Where the service's state and master key are: a TOML configuration file, the
/// environment (SHOMEI_*), and these options over both.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The configuration file (TOML); SHOMEI_* environment variables override it.
    #[arg(long, value_name = "FILE", env = "SHOMEI_CONFIG", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// The data directory holding the embedded SQLite database [default: ./shomei-data].
    #[arg(long = "data-dir", value_name = "DIR", global = true)]
    pub(crate) data_dir: Option<PathBuf>,
    /// A PostgreSQL database instead of the embedded SQLite one (postgres://…).
    #[arg(long = "database-url", value_name = "URL", global = true)]
    pub(crate) database_url: Option<String>,
    /// The master key file (base64 of 32 bytes) that seals every key; else
    /// SHOMEI_MASTER_KEY. Keep it outside the data directory.
    #[arg(long = "master-key-file", value_name = "FILE", global = true)]
    pub(crate) master_key_file: Option<PathBuf>,
}

/// `shomei audit …`.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the whole audit chain: exit 0 intact, 1 broken (the first changed,
    /// deleted or inserted record is named).
    Verify(AuditArgs),
}

/// Where the audit trail is.
#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
}

/// Options of `shomei extend`.
#[derive(Debug, Args)]
pub(crate) struct ExtendArgs {
    /// The signed PDF or XML file.
    pub(crate) input: PathBuf,
    /// Where to write the result (written atomically).
    #[arg(short = 'o', long = "output", value_name = "OUTPUT")]
    pub(crate) output: PathBuf,
    /// Target level.
    #[arg(long, value_name = "LEVEL", value_parser = ["B-T", "B-LT", "B-LTA"])]
    pub(crate) level: String,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Extra certificates (PEM/DER) used to complete chains, e.g. trust anchors that
    /// the signatures do not embed; may be repeated.
    #[arg(long, value_name = "ROOT.pem")]
    pub(crate) trust: Vec<PathBuf>,
    /// Write B-LT/B-LTA even when the status of some certificate cannot be established
    /// (no responder, no issuer): the output is then marked incomplete and each gap is
    /// reported. Without it such a run fails and writes nothing.
    #[arg(long = "allow-missing-revocation")]
    pub(crate) allow_missing_revocation: bool,
    /// Extend signatures whose digest or signature value does not verify, or that
    /// cannot be checked (by default they are refused and nothing is written); the
    /// report names each one.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Time-stamping and network options.
#[derive(Debug, Args)]
pub(crate) struct NetworkArgs {
    /// RFC 3161 time-stamping authority URL (needed for B-T and above). Credentials
    /// come from the environment, never the command line: SHOMEI_TSA_USER and
    /// SHOMEI_TSA_PASSWORD (HTTP basic) or SHOMEI_TSA_TOKEN (bearer).
    #[arg(long, value_name = "URL")]
    pub(crate) tsa: Option<String>,
    /// Seconds to wait for each TSA, OCSP, CRL or certificate request.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub(crate) timeout: u64,
}

#[derive(Debug, Subcommand)]
enum SignCommand {
    /// Sign a PDF (PAdES baseline B-B to B-LTA, SubFilter ETSI.CAdES.detached) as an
    /// incremental update that keeps the original bytes unchanged.
    ///
    /// Example: shomei sign pdf in.pdf -o signed.pdf --key signer.key.pem --cert signer.cert.pem --chain chain.pem
    Pdf(Box<SignPdfArgs>),
    /// Sign an XML document or any file (XAdES baseline B-B to B-LTA). Enveloped
    /// (default): the ds:Signature is inserted as the last child of the document element
    /// and every other byte stays as it was (UTF-8, ISO-8859-1, Shift_JIS, EUC-JP).
    /// Enveloping: OUTPUT is a ds:Signature carrying the document element in a ds:Object.
    /// Detached: OUTPUT is a ds:Signature naming INPUT by its path relative to OUTPUT's
    /// directory (INPUT must be there or below; keep the two files together).
    ///
    /// Example: shomei sign xml invoice.xml -o invoice.signed.xml --level B-LTA --tsa http://tsa.example/ --key signer.key.pem --cert signer.cert.pem --chain chain.pem
    Xml(Box<SignXmlArgs>),
}

/// Options of `shomei sign xml`.
#[derive(Debug, Args)]
pub(crate) struct SignXmlArgs {
    /// The XML document(s) to sign (any file for --packaging detached). Several inputs
    /// are signed under one authorization of the signer, into the directory -o names.
    #[arg(required = true, num_args = 1..)]
    pub(crate) inputs: Vec<PathBuf>,
    /// Where to write the signed document or the signature (written atomically); a
    /// directory for several inputs (created if missing).
    #[arg(short = 'o', long = "output", value_name = "OUTPUT")]
    pub(crate) output: PathBuf,
    /// How signature and data are arranged.
    #[arg(long, value_name = "PACKAGING", default_value = "enveloped", value_parser = ["enveloped", "enveloping", "detached"])]
    pub(crate) packaging: String,
    /// Signature level: B-B, B-T (signature time-stamp), B-LT (plus certificates and
    /// revocation data), B-LTA (plus an archive time-stamp).
    #[arg(long, value_name = "LEVEL", default_value = "B-B", value_parser = ["B-B", "B-T", "B-LT", "B-LTA"])]
    pub(crate) level: String,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Digest algorithm [default: sha256; sha384 for P-384 keys].
    #[arg(long, value_name = "ALG", value_parser = ["sha256", "sha384", "sha512"])]
    pub(crate) digest: Option<String>,
    /// Sign with RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only).
    #[arg(long = "rsa-pss")]
    pub(crate) rsa_pss: bool,
    #[command(flatten)]
    pub(crate) signer: SignerArgs,
}

/// Options of `shomei sign pdf`.
#[derive(Debug, Args)]
pub(crate) struct SignPdfArgs {
    /// The PDF(s) to sign. Several inputs are signed under one authorization of the
    /// signer, into the directory -o names.
    #[arg(required = true, num_args = 1..)]
    pub(crate) inputs: Vec<PathBuf>,
    /// Where to write the signed PDF (written atomically: complete or not at all); a
    /// directory for several inputs (created if missing).
    #[arg(short = 'o', long = "output", value_name = "OUTPUT")]
    pub(crate) output: PathBuf,
    /// Signature level: B-B, B-T (signature time-stamp), B-LT (plus certificates and
    /// revocation data in /DSS), B-LTA (plus a document time-stamp).
    #[arg(long, value_name = "LEVEL", default_value = "B-B", value_parser = ["B-B", "B-T", "B-LT", "B-LTA"])]
    pub(crate) level: String,
    #[command(flatten)]
    pub(crate) network: NetworkArgs,
    /// Fill the existing empty signature field NAME, or name the new field NAME.
    #[arg(long, value_name = "NAME")]
    pub(crate) field: Option<String>,
    /// Reason for signing (/Reason).
    #[arg(long, value_name = "TEXT")]
    pub(crate) reason: Option<String>,
    /// Where the document was signed (/Location).
    #[arg(long, value_name = "TEXT")]
    pub(crate) location: Option<String>,
    /// How to reach the signer (/ContactInfo).
    #[arg(long = "contact-info", value_name = "TEXT")]
    pub(crate) contact_info: Option<String>,
    /// Name of the signer (/Name).
    #[arg(long, value_name = "TEXT")]
    pub(crate) name: Option<String>,
    /// Make a certification signature (DocMDP) allowing: 1 = no changes,
    /// 2 = form filling and signing, 3 = also annotations.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=3))]
    pub(crate) certify: Option<u8>,
    /// Digest algorithm [default: sha256; sha384 for P-384 keys].
    #[arg(long, value_name = "ALG", value_parser = ["sha256", "sha384", "sha512"])]
    pub(crate) digest: Option<String>,
    /// Sign with RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only).
    #[arg(long = "rsa-pss")]
    pub(crate) rsa_pss: bool,
    #[command(flatten)]
    pub(crate) stamp: StampArgs,
    #[command(flatten)]
    pub(crate) signer: SignerArgs,
}

/// A visible signature stamp.
#[derive(Debug, Args)]
#[command(next_help_heading = "Visible stamp")]
pub(crate) struct StampArgs {
    /// Draw a visible stamp (signer, time, text, seal) at PAGE,X,Y,WIDTH,HEIGHT: page from
    /// 1, points (1/72 in) from the page's lower-left corner. Without it the signature is
    /// invisible.
    #[arg(long = "stamp", value_name = "PAGE,X,Y,W,H")]
    pub(crate) placement: Option<String>,
    /// Free text under the signer and time (Japanese and Latin script; \n for a new line).
    #[arg(long = "stamp-text", value_name = "TEXT", requires = "placement")]
    pub(crate) text: Option<String>,
    /// Seal image (PNG, transparency kept) drawn at the stamp's right.
    #[arg(long = "stamp-image", value_name = "PNG", requires = "placement")]
    pub(crate) image: Option<PathBuf>,
    /// Font file (PATH or PATH#FACE for a .ttc) [default: IPAex Gothic or Noto Sans CJK JP
    /// from Debian's font packages].
    #[arg(
        long = "stamp-font",
        value_name = "FONT",
        env = "SHOMEI_STAMP_FONT",
        requires = "placement"
    )]
    pub(crate) font: Option<String>,
    /// UTC offset of the time shown, e.g. +09:00 [default: UTC].
    #[arg(
        long = "stamp-utc-offset",
        value_name = "±HH:MM",
        requires = "placement",
        allow_hyphen_values = true
    )]
    pub(crate) utc_offset: Option<String>,
}

/// Where the key is: a key file, a PKCS#11 token, or a CSC remote signing service.
#[derive(Debug, Args)]
#[command(next_help_heading = "Signer: key file")]
pub(crate) struct SignerArgs {
    /// Private key: PKCS#8 (PEM or DER), PKCS#1/SEC1 PEM, or PKCS#12 (.p12/.pfx; then
    /// the certificate and chain may come from the file and --cert is optional).
    #[arg(long, value_name = "KEY", required_unless_present_any = ["demo", "pkcs11_module", "csc_url"])]
    pub(crate) key: Option<PathBuf>,
    /// Signing certificate (PEM or DER). Required with a PEM/DER key; optional with
    /// PKCS#12 and PKCS#11 (read from the file or token).
    #[arg(long, value_name = "CERT", conflicts_with = "csc_url")]
    pub(crate) cert: Option<PathBuf>,
    /// Issuer certificates to embed (PEM bundle: intermediates, optionally the root).
    #[arg(long, value_name = "CHAIN.pem", conflicts_with = "csc_url")]
    pub(crate) chain: Option<PathBuf>,
    /// Environment variable holding the PKCS#12 password (never pass it on the
    /// command line).
    #[arg(long = "key-password-env", value_name = "VAR")]
    pub(crate) key_password_env: Option<String>,
    /// Sign with the bundled demo identity (a test key that nobody trusts), so you can
    /// try shomei without any setup.
    #[arg(long, conflicts_with_all = ["key", "cert", "chain", "key_password_env", "pkcs11_module", "csc_url"])]
    pub(crate) demo: bool,

    /// PKCS#11 module of the token (e.g. /usr/lib/softhsm/libsofthsm2.so).
    #[arg(long = "pkcs11-module", value_name = "LIB", help_heading = "Signer: PKCS#11 token",
          requires = "token_label", conflicts_with_all = ["key", "key_password_env", "csc_url"])]
    pub(crate) pkcs11_module: Option<PathBuf>,
    /// Label of the token.
    #[arg(
        long = "token-label",
        value_name = "LABEL",
        help_heading = "Signer: PKCS#11 token",
        requires = "pkcs11_module"
    )]
    pub(crate) token_label: Option<String>,
    /// Label (CKA_LABEL) of the private key.
    #[arg(long = "key-label", value_name = "LABEL", help_heading = "Signer: PKCS#11 token",
          requires = "pkcs11_module", required_unless_present_any = ["key_id", "key", "demo", "csc_url"])]
    pub(crate) key_label: Option<String>,
    /// Id (CKA_ID, hex) of the private key, instead of its label.
    #[arg(
        long = "key-id",
        value_name = "HEX",
        help_heading = "Signer: PKCS#11 token",
        requires = "pkcs11_module",
        conflicts_with = "key_label"
    )]
    pub(crate) key_id: Option<String>,

    /// Base URL of a Cloud Signature Consortium API service, ending with the version
    /// path (e.g. https://csc.example/csc/v2); method names are appended.
    #[arg(
        long = "csc-url",
        value_name = "BASE_URL",
        help_heading = "Signer: CSC remote signing service",
        requires = "credential_id"
    )]
    pub(crate) csc_url: Option<String>,
    /// The credential (key and certificate) at the service.
    #[arg(
        long = "credential-id",
        value_name = "ID",
        help_heading = "Signer: CSC remote signing service",
        requires = "csc_url"
    )]
    pub(crate) credential_id: Option<String>,
    /// CSC API version: 1 (1.0.4) or 2 (2.0.0.2) [default: from the URL's /v1 or /v2, else 2].
    #[arg(long = "csc-version", value_name = "1|2", value_parser = ["1", "2"],
          help_heading = "Signer: CSC remote signing service", requires = "csc_url")]
    pub(crate) csc_version: Option<String>,
    /// Environment variable holding the service's bearer token.
    #[arg(
        long = "csc-token-env",
        value_name = "VAR",
        help_heading = "Signer: CSC remote signing service",
        requires = "csc_url",
        conflicts_with = "csc_client_id"
    )]
    pub(crate) csc_token_env: Option<String>,
    /// Sign in with the service's auth/login (HTTP Basic) as this user, the password
    /// from --csc-password-env, instead of a bearer token.
    #[arg(long = "csc-user", value_name = "NAME", help_heading = "Signer: CSC remote signing service",
          requires_all = ["csc_url", "csc_password_env"], conflicts_with_all = ["csc_token_env", "csc_client_id"])]
    pub(crate) csc_user: Option<String>,
    /// Environment variable holding the --csc-user password.
    #[arg(
        long = "csc-password-env",
        value_name = "VAR",
        help_heading = "Signer: CSC remote signing service",
        requires = "csc_user"
    )]
    pub(crate) csc_password_env: Option<String>,
    /// OAuth2 client id for the client-credentials flow (with --csc-oauth-url and
    /// --csc-client-secret-env) instead of a bearer token.
    #[arg(long = "csc-client-id", value_name = "ID", help_heading = "Signer: CSC remote signing service",
          requires_all = ["csc_oauth_url", "csc_client_secret_env"])]
    pub(crate) csc_client_id: Option<String>,
    /// OAuth2 token endpoint for the client-credentials flow.
    #[arg(
        long = "csc-oauth-url",
        value_name = "URL",
        help_heading = "Signer: CSC remote signing service",
        requires = "csc_client_id"
    )]
    pub(crate) csc_oauth_url: Option<String>,
    /// Environment variable holding the OAuth2 client secret.
    #[arg(
        long = "csc-client-secret-env",
        value_name = "VAR",
        help_heading = "Signer: CSC remote signing service",
        requires = "csc_client_id"
    )]
    pub(crate) csc_client_secret_env: Option<String>,
    /// Environment variable holding the one-time password for the credential.
    #[arg(
        long = "otp-env",
        value_name = "VAR",
        help_heading = "Signer: CSC remote signing service",
        requires = "csc_url"
    )]
    pub(crate) otp_env: Option<String>,

    /// Environment variable holding the PIN of the PKCS#11 token or the CSC credential.
    /// Without it, a PKCS#11 PIN is asked for on the terminal (never on the command line).
    #[arg(
        long = "pin-env",
        value_name = "VAR",
        help_heading = "Signer: PIN (PKCS#11 token or CSC service)"
    )]
    pub(crate) pin_env: Option<String>,
}

/// Parses the command line, runs the command, and maps the outcome to an exit code.
pub(crate) fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sign(SignCommand::Pdf(args)) => sign_pdf::run(&args),
        Command::Sign(SignCommand::Xml(args)) => sign_xml::run(&args),
        Command::Extend(args) => extend::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Audit(AuditCommand::Verify(args)) => serve::audit(&args),
        Command::Admin(args) => admin::run(&args),
        Command::Validate(args) => return validate::run(&args),
    };
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("shomei: {failure}");
            failure.exit_code()
        }
    }
}
