//! Errors of the service domain: refusals (each one audited, each with a stable reason
//! code the HTTP layer maps to the CSC error) and failures of the service itself.

/// A request refused by the rules. `reason()` is the stable code audited and counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Unknown user or wrong password (the two are not told apart).
    #[error("wrong user name or password")]
    BadLogin,
    /// Too many failed attempts: try again after the delay.
    #[error("locked after failed attempts; try again in {seconds} s")]
    Locked {
        /// Seconds left.
        seconds: i64,
    },
    /// The user is disabled.
    #[error("the user is disabled")]
    UserDisabled,
    /// An administrator account cannot sign.
    #[error("an administrator cannot sign")]
    NotASigner,
    /// The bearer token is unknown, expired or revoked.
    #[error("the access token is invalid, expired or revoked")]
    BadToken,
    /// The credential does not exist (or is another user's).
    #[error("unknown credential")]
    UnknownCredential,
    /// The credential is disabled.
    #[error("the credential is disabled")]
    CredentialDisabled,
    /// The credential was destroyed.
    #[error("the credential was destroyed")]
    CredentialDestroyed,
    /// The credential has no certificate yet.
    #[error("the credential has no certificate yet")]
    NoCertificate,
    /// Wrong PIN.
    #[error("wrong PIN")]
    WrongPin,
    /// Wrong one-time password.
    #[error("wrong one-time password")]
    WrongOtp,
    /// A one-time password that was already used.
    #[error("this one-time password was already used")]
    OtpReplayed,
    /// Sole Control Level 2: the hashes must be given at authorization.
    #[error("this credential needs the hashes to be signed at authorization (SCAL 2)")]
    HashesRequired,
    /// `numSignatures` out of range (zero, above `multisign`, or not the number of hashes).
    #[error("numSignatures {0}")]
    BadCount(String),
    /// Unknown, expired, spent, or another user's or credential's SAD.
    #[error("the signature activation data is invalid, expired or spent")]
    BadSad,
    /// A hash the SAD does not authorize, or one already signed under it.
    #[error("a hash is not authorized by this SAD or was already signed")]
    HashNotAuthorized,
    /// More signatures than the SAD allows.
    #[error("more signatures than the SAD allows")]
    TooManySignatures,
    /// Another hash algorithm than the SAD's.
    #[error("hash algorithm differs from the authorized one")]
    HashAlgorithm,
    /// The password does not meet the policy.
    #[error("password policy: {0}")]
    PasswordPolicy(String),
    /// An upload larger than the limit.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// An upload that is neither a PDF nor an XML document.
    #[error("the file is neither a PDF nor an XML document")]
    NotADocument,
    /// An encrypted PDF.
    #[error("the PDF is encrypted; remove the password protection and upload it again")]
    EncryptedPdf,
    /// A document that cannot be signed as asked.
    #[error("the document cannot be signed: {0}")]
    BadDocument(String),
    /// No such document (or another user's).
    #[error("no such document")]
    UnknownDocument,
    /// The document is not waiting for approval (already signed, failed or deleted).
    #[error("the document is not waiting for approval")]
    DocumentNotPending,
    /// The approval does not name the documents' files and hashes as they were shown.
    #[error("the approved files or hashes are not those of the documents")]
    ApprovalMismatch,
    /// The stored file is not the one prepared.
    #[error("the document changed after it was uploaded; upload it again")]
    DocumentChanged,
    /// The web session is unknown, ended, or idle too long: sign in again.
    #[error("the session has expired; sign in again")]
    SessionExpired,
    /// A web request that changes something without the session's CSRF token.
    #[error("the request lacks the session's CSRF token")]
    BadCsrf,
    /// A passkey ceremony failed (unknown, used or expired ceremony, a signature that
    /// does not verify, no user verification, another user's passkey).
    #[error("the passkey could not be verified: {0}")]
    PasskeyFailed(String),
    /// The user has no passkey.
    #[error("no passkey is enrolled for this user")]
    NoPasskey,
    /// The document has no signed file (yet).
    #[error("the document is not signed")]
    DocumentNotSigned,
}

impl Refusal {
    /// A stable code for the audit trail and the metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::BadLogin => "bad_login",
            Self::Locked { .. } => "locked",
            Self::UserDisabled => "user_disabled",
            Self::NotASigner => "not_a_signer",
            Self::BadToken => "bad_token",
            Self::UnknownCredential => "unknown_credential",
            Self::CredentialDisabled => "credential_disabled",
            Self::CredentialDestroyed => "credential_destroyed",
            Self::NoCertificate => "no_certificate",
            Self::WrongPin => "wrong_pin",
            Self::WrongOtp => "wrong_otp",
            Self::OtpReplayed => "otp_replayed",
            Self::HashesRequired => "hashes_required",
            Self::BadCount(_) => "bad_count",
            Self::BadSad => "bad_sad",
            Self::HashNotAuthorized => "hash_not_authorized",
            Self::TooManySignatures => "too_many_signatures",
            Self::HashAlgorithm => "hash_algorithm",
            Self::PasswordPolicy(_) => "password_policy",
            Self::TooLarge { .. } => "too_large",
            Self::NotADocument => "not_a_document",
            Self::EncryptedPdf => "encrypted_pdf",
            Self::BadDocument(_) => "bad_document",
            Self::UnknownDocument => "unknown_document",
            Self::DocumentNotPending => "document_not_pending",
            Self::ApprovalMismatch => "approval_mismatch",
            Self::DocumentChanged => "document_changed",
            Self::DocumentNotSigned => "document_not_signed",
            Self::SessionExpired => "session_expired",
            Self::PasskeyFailed(_) => "passkey_failed",
            Self::NoPasskey => "no_passkey",
            Self::BadCsrf => "bad_csrf",
        }
    }
}

/// Everything that can go wrong in the service domain.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The request was refused by the rules (and audited).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The master key does not open what it should: refuse to run.
    #[error(
        "the master key does not match this installation (the data was sealed with another key)"
    )]
    MasterKey,
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A key or certificate problem.
    #[error("key: {0}")]
    Key(#[from] shomei_keys::KeyError),
    /// The signer failed.
    #[error(transparent)]
    Signer(#[from] shomei_core::SignerError),
    /// The database could not complete the work (unreachable, restarting, the
    /// connection cut mid-transaction): nothing was granted; try again later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The service's storage (the documents directory, the database's file system)
    /// is full or over quota: nothing was kept; try again when space is freed.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// Something that should not happen.
    #[error("internal: {0}")]
    Internal(String),
}

impl ServiceError {
    /// A failed operation on one of the service's own files (`what`):
    /// [`ServiceError::StorageFull`] when the file system is full or over quota,
    /// else [`ServiceError::Internal`].
    pub fn file(what: &str, e: &std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                Self::StorageFull(format!("{what}: {e}"))
            }
            _ => Self::Internal(format!("{what}: {e}")),
        }
    }

    /// A database error that says its disk is full (SQLite's SQLITE_FULL, PostgreSQL's
    /// SQLSTATE 53100).
    pub fn is_storage_full(e: &sqlx::Error) -> bool {
        e.as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == "13" || code == "53100")
    }
}
