//! Documents signed by the service itself (issue 12): a PDF or XML file is uploaded
//! (streamed to the data directory), prepared with the library's staged pipeline — the
//! prepared state goes into the database, so any node can finish it — and shown to the
//! signer with the hash to be signed. The signer's **approval** names each document and
//! its hash; it goes through the same rules as `credentials/authorize` (PIN and TOTP,
//! a SAD bound to exactly those hashes, Sole Control Level 2) and the same atomic SAD
//! spending as `signatures/signHash`; then the level is completed (time-stamp,
//! validation data) and the signed file is kept for download until the retention ends.
//!
//! A user only ever sees their own documents: another user's id is answered as unknown.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use shomei_core::{Clock, Level, SignatureAlgorithm, SignatureValue};
use shomei_levels::LtvServices;
use shomei_revocation::RevocationSource;
use shomei_stamp::{SealImage, Stamp, StampFont};
use shomei_tsp::TimestampAuthority;

use crate::audit::{self, Event};
use crate::keystore::random_hex;
use crate::service::{Authorize, SignHashes};
use crate::store::{int, now_millis, text};
use crate::{Refusal, Service, ServiceError, User};

/// Limits of the document desk.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DocumentLimits {
    /// Largest PDF accepted, in bytes (streamed to disk, never held in memory).
    pub max_pdf_bytes: u64,
    /// Largest XML document accepted, in bytes (XML is signed in memory).
    pub max_xml_bytes: u64,
    /// Most files in one upload or approval.
    pub max_files: usize,
    /// Seconds a document (and its signed file) is kept at most.
    pub retention_secs: i64,
    /// Seconds a signed file stays after its first download (to allow a retry).
    pub download_grace_secs: i64,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_pdf_bytes: 256 << 20,
            max_xml_bytes: 32 << 20,
            max_files: 20,
            retention_secs: 3600,
            download_grace_secs: 600,
        }
    }
}

/// What the desk signs with besides the key: the TSA and revocation sources the levels
/// above B-B need, and the font of visible stamps.
#[derive(Clone)]
pub struct SigningServices {
    /// The time-stamping authority (B-T and up); `None`: only B-B.
    pub tsa: Option<Arc<dyn TimestampAuthority>>,
    /// OCSP / CRL / issuer certificates (B-LT and up).
    pub revocation: Arc<dyn RevocationSource>,
    /// The clock certificates are checked against.
    pub clock: Arc<dyn Clock>,
    /// The font of visible stamps; `None`: stamps are refused.
    pub stamp_font: Option<Arc<StampFont>>,
}

impl std::fmt::Debug for SigningServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningServices")
            .field("tsa", &self.tsa.is_some())
            .field("stamp_font", &self.stamp_font)
            .finish_non_exhaustive()
    }
}

impl SigningServices {
    fn ltv(&self) -> Option<LtvServices<'_>> {
        self.tsa
            .as_deref()
            .map(|tsa| LtvServices::new(tsa, self.revocation.as_ref(), self.clock.as_ref()))
    }
}

/// Where documents are kept and what the desk accepts.
#[derive(Debug, Clone)]
pub struct DocumentDesk {
    dir: PathBuf,
    /// The limits.
    pub limits: DocumentLimits,
    /// The services.
    pub services: SigningServices,
}

impl DocumentDesk {
    /// A desk keeping its files in `dir` (created if missing). With several nodes `dir`
    /// must be storage they share, as the database is.
    pub fn new(
        dir: PathBuf,
        limits: DocumentLimits,
        services: SigningServices,
    ) -> Result<Self, ServiceError> {
        std::fs::create_dir_all(dir.join("tmp"))
            .map_err(|e| ServiceError::Config(format!("{}: {e}", dir.display())))?;
        Ok(Self {
            dir,
            limits,
            services,
        })
    }

    fn original(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.original"))
    }

    fn signed(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.signed"))
    }

    fn seal(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.seal.png"))
    }

    fn preview(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.preview.png"))
    }

    /// A new file being uploaded, at most `limit` bytes.
    pub fn upload(&self, name: &str) -> Result<UploadWriter, ServiceError> {
        let limit = self.limits.max_pdf_bytes.max(self.limits.max_xml_bytes);
        let path = self
            .dir
            .join("tmp")
            .join(format!("{}.part", random_hex(16)?));
        let file =
            std::fs::File::create(&path).map_err(|e| ServiceError::file("upload file", &e))?;
        Ok(UploadWriter {
            file: Some(std::io::BufWriter::with_capacity(256 << 10, file)),
            path,
            name: clean_name(name),
            size: 0,
            limit,
            hasher: aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256),
            head: Vec::new(),
        })
    }
}

/// A file name fit for display and `Content-Disposition`: its last path component,
/// without control characters, at most 200 characters.
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "document".into()
    } else {
        cleaned
    }
}

/// A file being received: written to the desk's `tmp/` as it arrives, hashed on the
/// way. Dropped before [`UploadWriter::finish`], the partial file is removed.
pub struct UploadWriter {
    file: Option<std::io::BufWriter<std::fs::File>>,
    path: PathBuf,
    name: String,
    size: u64,
    limit: u64,
    hasher: aws_lc_rs::digest::Context,
    head: Vec<u8>,
}

impl std::fmt::Debug for UploadWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadWriter")
            .field("name", &self.name)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl UploadWriter {
    /// Appends a chunk; refuses ([`Refusal::TooLarge`]) past the limit.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), ServiceError> {
        let n = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        self.size = self.size.saturating_add(n);
        if self.size > self.limit {
            return Err(Refusal::TooLarge { limit: self.limit }.into());
        }
        if self.head.len() < 1024 {
            let take = (1024 - self.head.len()).min(chunk.len());
            self.head
                .extend_from_slice(chunk.get(..take).unwrap_or_default());
        }
        self.hasher.update(chunk);
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| ServiceError::Internal("upload already finished".into()))?;
        file.write_all(chunk)
            .map_err(|e| ServiceError::file("upload file", &e))
    }

    /// The complete file, flushed to disk.
    pub fn finish(mut self) -> Result<StagedFile, ServiceError> {
        let file = self
            .file
            .take()
            .ok_or_else(|| ServiceError::Internal("upload already finished".into()))?;
        let file = file
            .into_inner()
            .map_err(|e| ServiceError::file("upload file", e.error()))?;
        file.sync_all()
            .map_err(|e| ServiceError::file("upload file", &e))?;
        let hasher = std::mem::replace(
            &mut self.hasher,
            aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256),
        );
        Ok(StagedFile {
            path: std::mem::take(&mut self.path),
            name: std::mem::take(&mut self.name),
            size: self.size,
            sha256: hex::encode(hasher.finish().as_ref()),
            head: std::mem::take(&mut self.head),
        })
    }
}

impl Drop for UploadWriter {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A received file waiting to be prepared; removed when dropped unless it was adopted.
#[derive(Debug)]
pub struct StagedFile {
    path: PathBuf,
    name: String,
    size: u64,
    sha256: String,
    head: Vec<u8>,
}

impl StagedFile {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The name given at upload.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A visible stamp asked for at upload.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StampRequest {
    /// Page, from 1.
    pub page: usize,
    /// Lower-left corner and size, in points from the page's lower-left corner.
    pub x: f64,
    /// See `x`.
    pub y: f64,
    /// Width in points.
    pub width: f64,
    /// Height in points.
    pub height: f64,
    /// Free text under the signer and time.
    #[serde(default)]
    pub text: Option<String>,
    /// UTC offset of the time shown, e.g. `+09:00`.
    #[serde(default)]
    pub utc_offset: Option<String>,
}

/// How to sign the documents of one upload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DocumentOptions {
    /// The credential to sign with.
    pub credential_id: String,
    /// `B-B`, `B-T`, `B-LT` or `B-LTA`.
    #[serde(default = "default_level")]
    pub level: String,
    /// PDF: `/Reason`.
    #[serde(default)]
    pub reason: Option<String>,
    /// PDF: `/Location`.
    #[serde(default)]
    pub location: Option<String>,
    /// PDF: the signature field's name.
    #[serde(default)]
    pub field: Option<String>,
    /// PDF: a visible stamp (XML documents of the same upload ignore it).
    #[serde(default)]
    pub stamp: Option<StampRequest>,
    /// XML: `enveloped` (default), `enveloping` or `detached`.
    #[serde(default)]
    pub packaging: Option<String>,
}

fn default_level() -> String {
    "B-B".into()
}

/// A document as its owner sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocumentInfo {
    /// The document's id.
    pub id: String,
    /// File name given at upload.
    pub name: String,
    /// `pdf` or `xml`.
    pub format: String,
    /// Size of the uploaded file.
    pub size: u64,
    /// SHA-256 of the uploaded file (hex).
    pub sha256: String,
    /// Pages (PDF), 0 for XML.
    pub pages: u64,
    /// PDF: the first page's box `[x0, y0, x1, y1]` in points (empty for XML).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub page_box: Vec<i64>,
    /// PDF: the visible stamp asked for, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stamp: Option<StampRequest>,
    /// The level the signature will reach.
    pub level: String,
    /// The credential.
    pub credential_id: String,
    /// The digest algorithm of `hash` (`SHA-256`, …).
    pub hash_algorithm: String,
    /// The hash to be signed (hex): what the signer approves.
    pub hash: String,
    /// `prepared`, `signed` or `failed`.
    pub state: String,
    /// Why signing failed.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub error: String,
    /// Size of the signed file, once signed.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub signed_size: u64,
    /// SHA-256 of the signed file (hex), once signed.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub signed_sha256: String,
    /// When it is deleted, milliseconds since the Unix epoch.
    pub expires_at: i64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// The prepared signature as stored.
#[derive(Serialize, Deserialize)]
enum StoredPrepared {
    Pdf(shomei_pades::Prepared),
    Xml {
        prepared: shomei_xades::Prepared,
        packaging: String,
    },
}

impl StoredPrepared {
    fn is_pdf(&self) -> bool {
        matches!(self, Self::Pdf(_))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            Self::Pdf(p) => p.signature_algorithm(),
            Self::Xml { prepared, .. } => prepared.signature_algorithm(),
        }
    }
}

/// One document approved: its id, the SHA-256 of its file and the hash to be signed,
/// exactly as the upload answered them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApprovedDocument {
    /// The document's id.
    pub id: String,
    /// SHA-256 of the file (hex), as shown.
    pub sha256: String,
    /// The hash to be signed (hex), as shown.
    pub hash: String,
}

/// The possession factor of an approval.
#[derive(Debug)]
pub enum Possession<'a> {
    /// A TOTP code.
    Totp(&'a str),
    /// A passkey assertion for a ceremony started with
    /// [`Service::passkey_approval_start`] for exactly these documents.
    Passkey {
        /// The relying party.
        rp: &'a crate::passkeys::Passkeys,
        /// The ceremony's id.
        ceremony: &'a str,
        /// The browser's `PublicKeyCredential` (its `toJSON()`).
        credential: &'a serde_json::Value,
    },
}

/// The signer's approval of a list of documents.
#[derive(Debug)]
pub struct Approval<'a> {
    /// The credential (every document's).
    pub credential_id: &'a str,
    /// The credential's PIN.
    pub pin: &'a str,
    /// The possession factor.
    pub possession: Possession<'a>,
    /// The documents and their hashes.
    pub documents: &'a [ApprovedDocument],
    /// Where the request came from (for the audit).
    pub client: &'a str,
}

/// A value as the service's keys return it (ECDSA as DER).
fn signature_value(algorithm: SignatureAlgorithm, value: Vec<u8>) -> SignatureValue {
    match algorithm {
        SignatureAlgorithm::Ecdsa(_) => SignatureValue::EcdsaDer(value),
        _ => SignatureValue::Rsa(value),
    }
}

/// The level runs one approval (or `signDoc`) finishes its documents with — only for
/// the formats it has, so the signer's validation data (B-LT) is not gathered for a
/// format that is not there.
struct Runs<'a> {
    pades: Option<shomei_pades::ltv::Deferred<'a>>,
    xades: Option<shomei_xades::ltv::Deferred<'a>>,
}

impl<'a> Runs<'a> {
    async fn start(
        chain: &shomei_core::CertificateChain,
        level: Level,
        desk: &'a DocumentDesk,
        pdf: impl Iterator<Item = bool>,
    ) -> Result<Self, ServiceError> {
        let (mut any_pdf, mut any_xml) = (false, false);
        for is_pdf in pdf {
            any_pdf |= is_pdf;
            any_xml |= !is_pdf;
        }
        let failed =
            |e: &dyn std::fmt::Display| ServiceError::Internal(format!("signer validation: {e}"));
        let pades = if any_pdf {
            Some(
                shomei_pades::ltv::Deferred::start(chain, level, desk.services.ltv())
                    .await
                    .map_err(|e| failed(&e))?,
            )
        } else {
            None
        };
        let xades = if any_xml {
            Some(
                shomei_xades::ltv::Deferred::start(chain, level, desk.services.ltv())
                    .await
                    .map_err(|e| failed(&e))?,
            )
        } else {
            None
        };
        Ok(Self { pades, xades })
    }

    fn pades(&self) -> Result<&shomei_pades::ltv::Deferred<'a>, ServiceError> {
        self.pades
            .as_ref()
            .ok_or_else(|| ServiceError::Internal("no PAdES run".into()))
    }

    fn xades(&self) -> Result<&shomei_xades::ltv::Deferred<'a>, ServiceError> {
        self.xades
            .as_ref()
            .ok_or_else(|| ServiceError::Internal("no XAdES run".into()))
    }
}

fn parse_level(level: &str) -> Result<Level, ServiceError> {
    level
        .parse::<Level>()
        .map_err(|_| Refusal::BadDocument(format!("unknown level {level:?}")).into())
}

fn packaging(name: &str) -> Result<shomei_xades::Packaging, ServiceError> {
    match name {
        "enveloped" => Ok(shomei_xades::Packaging::Enveloped),
        "enveloping" => Ok(shomei_xades::Packaging::Enveloping),
        "detached" => Ok(shomei_xades::Packaging::Detached {
            uri: "document.xml".into(),
        }),
        other => Err(Refusal::BadDocument(format!(
            "unknown XML packaging {other:?} (enveloped, enveloping or detached)"
        ))
        .into()),
    }
}

fn info_from_row(row: &sqlx::any::AnyRow) -> Result<DocumentInfo, ServiceError> {
    let hash_alg = text(row, "hash_alg")?;
    let page_box: Vec<i64> = text(row, "page_box")?
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let options: Option<DocumentOptions> = serde_json::from_str(&text(row, "options")?).ok();
    Ok(DocumentInfo {
        id: text(row, "id")?,
        name: text(row, "name")?,
        format: text(row, "format")?,
        size: u64::try_from(int(row, "size")?).unwrap_or(0),
        sha256: text(row, "sha256")?,
        pages: u64::try_from(int(row, "pages")?).unwrap_or(0),
        page_box,
        stamp: options.and_then(|o| o.stamp),
        level: text(row, "level")?,
        credential_id: text(row, "credential_id")?,
        hash_algorithm: hash_alg,
        hash: text(row, "hash")?,
        state: text(row, "state")?,
        error: text(row, "error")?,
        signed_size: u64::try_from(int(row, "signed_size")?).unwrap_or(0),
        signed_sha256: text(row, "signed_sha256")?,
        expires_at: int(row, "expires_at")?,
    })
}

const COLUMNS: &str = "id, name, format, size, sha256, pages, page_box, options, level, \
                       credential_id, hash_alg, hash, state, error, signed_size, signed_sha256, \
                       expires_at";

/// SHA-256 of a file, streamed.
fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 256 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hex::encode(ctx.finish().as_ref()))
}

/// Writes `path` through a temporary file in the same directory and a rename: complete
/// or absent.
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    let dir = path
        .parent()
        .ok_or_else(|| ServiceError::Internal("no parent directory".into()))?;
    let tmp = dir.join("tmp").join(format!("{}.out", random_hex(16)?));
    let result = (|| {
        let mut file =
            std::fs::File::create(&tmp).map_err(|e| ServiceError::file("signed file", &e))?;
        fill(&mut file)?;
        file.sync_all()
            .map_err(|e| ServiceError::file("signed file", &e))?;
        std::fs::rename(&tmp, path).map_err(|e| ServiceError::file("signed file", &e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl Service {
    /// Prepares an uploaded file for signing by `user` with `options` and records it:
    /// the answer carries the hash to be signed. Refuses (and audits) what is not a
    /// PDF or XML document, an encrypted PDF, a document that cannot be signed as
    /// asked, and a credential the user may not sign with.
    pub async fn add_document(
        &self,
        user: &User,
        desk: &DocumentDesk,
        file: StagedFile,
        options: &DocumentOptions,
        seal_png: Option<Arc<Vec<u8>>>,
    ) -> Result<DocumentInfo, ServiceError> {
        let detail = json!({ "document": file.name, "credential": options.credential_id });
        let seal = match &seal_png {
            Some(png) => match SealImage::from_png(png) {
                Ok(img) => Some((Arc::new(img), Arc::clone(png))),
                Err(e) => {
                    return Err(self
                        .refuse(&user.name, Refusal::BadDocument(e.to_string()), detail)
                        .await)
                }
            },
            None => None,
        };
        match self.prepare_document(user, desk, file, options, seal).await {
            Err(ServiceError::Refused(r)) => Err(self.refuse(&user.name, r, detail).await),
            other => other,
        }
    }

    async fn prepare_document(
        &self,
        user: &User,
        desk: &DocumentDesk,
        mut file: StagedFile,
        options: &DocumentOptions,
        seal: Option<(Arc<SealImage>, Arc<Vec<u8>>)>,
    ) -> Result<DocumentInfo, ServiceError> {
        let (info, _) = self.usable_credential(user, &options.credential_id).await?;
        let chain = info.chain.clone().ok_or(Refusal::NoCertificate)?;
        let level = parse_level(&options.level)?;
        if level > Level::BB && desk.services.tsa.is_none() {
            return Err(Refusal::BadDocument(format!(
                "{level} needs a time-stamping authority, and this service has none configured"
            ))
            .into());
        }
        let format = sniff(&file.head).ok_or(Refusal::NotADocument)?;
        let id = random_hex(16)?;
        let now = now_millis();
        let kind = chain
            .signing_cert()
            .key_kind()
            .map_err(|e| ServiceError::Internal(format!("credential certificate: {e}")))?;
        let description = shomei_core::SignerDescription::for_key(chain, kind);
        let time = std::time::SystemTime::now();
        let mut first_page = Vec::new();
        let (pages, stored) = match format {
            "pdf" => {
                if file.size > desk.limits.max_pdf_bytes {
                    return Err(Refusal::TooLarge {
                        limit: desk.limits.max_pdf_bytes,
                    }
                    .into());
                }
                let image = seal.as_ref().map(|(img, _)| Arc::clone(img));
                let (pages, page_box, prepared) =
                    prepare_pdf(desk, &file.path, description, options, image, time).await?;
                first_page = page_box;
                (pages, StoredPrepared::Pdf(prepared))
            }
            _ => {
                if file.size > desk.limits.max_xml_bytes {
                    return Err(Refusal::TooLarge {
                        limit: desk.limits.max_xml_bytes,
                    }
                    .into());
                }
                let name = options
                    .packaging
                    .clone()
                    .unwrap_or_else(|| "enveloped".into());
                let mut xades = shomei_xades::XadesOptions::new(time);
                xades.level = level;
                xades.packaging = packaging(&name)?;
                let data =
                    std::fs::read(&file.path).map_err(|e| ServiceError::file("upload file", &e))?;
                let prepared = shomei_core::blocking::run_blocking(move || {
                    shomei_xades::prepare(&data, &description, &xades)
                })
                .await?
                .map_err(|e| Refusal::BadDocument(e.to_string()))?;
                (
                    0,
                    StoredPrepared::Xml {
                        prepared,
                        packaging: name,
                    },
                )
            }
        };
        let digest = match &stored {
            StoredPrepared::Pdf(p) => p.digest_to_sign(),
            StoredPrepared::Xml { prepared, .. } => prepared.digest_to_sign(),
        };
        let prepared_json = serde_json::to_string(&stored)
            .map_err(|e| ServiceError::Internal(format!("prepared state: {e}")))?;
        std::fs::rename(&file.path, desk.original(&id))
            .map_err(|e| ServiceError::file("upload file", &e))?;
        file.path = PathBuf::new();
        if let (Some((_, png)), "pdf") = (&seal, format) {
            // Kept for placing the stamp again from the review screen.
            std::fs::write(desk.seal(&id), png.as_slice())
                .map_err(|e| ServiceError::file("seal file", &e))?;
        }
        let expires_at = now.saturating_add(desk.limits.retention_secs.saturating_mul(1000));
        let row = DocumentInfo {
            id: id.clone(),
            name: file.name.clone(),
            format: format.into(),
            size: file.size,
            sha256: file.sha256.clone(),
            pages,
            page_box: first_page.clone(),
            stamp: options.stamp.clone(),
            level: level.to_string(),
            credential_id: options.credential_id.clone(),
            hash_algorithm: digest.algorithm().name().to_string(),
            hash: hex::encode(digest.as_bytes()),
            state: "prepared".into(),
            error: String::new(),
            signed_size: 0,
            signed_sha256: String::new(),
            expires_at,
        };
        let mut tx = self.store().pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO documents (id, user_id, credential_id, name, format, size, sha256, pages, \
             level, hash_alg, hash, prepared, state, created_at, expires_at, page_box, options) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'prepared', $13, $14, $15, $16)",
        )
        .bind(&id)
        .bind(&user.id)
        .bind(&options.credential_id)
        .bind(&row.name)
        .bind(format)
        .bind(i64::try_from(row.size).unwrap_or(i64::MAX))
        .bind(&row.sha256)
        .bind(i64::try_from(pages).unwrap_or(0))
        .bind(&row.level)
        .bind(digest.algorithm().name())
        .bind(&row.hash)
        .bind(&prepared_json)
        .bind(now)
        .bind(expires_at)
        .bind(
            first_page
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        )
        .bind(
            serde_json::to_string(options)
                .map_err(|e| ServiceError::Internal(format!("options: {e}")))?,
        )
        .execute(&mut *tx)
        .await;
        if let Err(e) = inserted {
            let _ = std::fs::remove_file(desk.original(&id));
            return Err(e.into());
        }
        audit::append(
            &mut tx,
            &Event {
                kind: "document.upload",
                actor: &user.name,
                detail: json!({
                    "document": id,
                    "name": row.name,
                    "format": format,
                    "size": row.size,
                    "sha256": row.sha256,
                    "level": row.level,
                    "credential": options.credential_id,
                    "hash": row.hash,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// The documents of `user`, newest first.
    pub async fn documents(&self, user: &User) -> Result<Vec<DocumentInfo>, ServiceError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM documents WHERE user_id = $1 ORDER BY created_at DESC, id"
        );
        let rows = sqlx::query(&sql)
            .bind(&user.id)
            .fetch_all(self.store().pool())
            .await?;
        rows.iter().map(info_from_row).collect()
    }

    /// One document of `user`; another user's is [`Refusal::UnknownDocument`].
    pub async fn document(&self, user: &User, id: &str) -> Result<DocumentInfo, ServiceError> {
        let sql = format!("SELECT {COLUMNS} FROM documents WHERE id = $1 AND user_id = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(&user.id)
            .fetch_optional(self.store().pool())
            .await?;
        match row {
            Some(row) => info_from_row(&row),
            None => Err(self
                .refuse(
                    &user.name,
                    Refusal::UnknownDocument,
                    json!({ "document": id }),
                )
                .await),
        }
    }

    /// The rows of the documents an approval names, checked: each is the user's, still
    /// waiting, named once, with the file SHA-256, hash and credential the upload
    /// showed. A refusal is audited with `detail`.
    async fn approved_rows(
        &self,
        user: &User,
        credential_id: &str,
        documents: &[ApprovedDocument],
        detail: &serde_json::Value,
    ) -> Result<Vec<(String, sqlx::any::AnyRow)>, ServiceError> {
        let mut rows: Vec<(String, sqlx::any::AnyRow)> = Vec::with_capacity(documents.len());
        for wanted in documents {
            let row = sqlx::query(
                "SELECT id, credential_id, format, sha256, level, hash_alg, hash, prepared, state \
                 FROM documents WHERE id = $1 AND user_id = $2",
            )
            .bind(&wanted.id)
            .bind(&user.id)
            .fetch_optional(self.store().pool())
            .await?;
            let Some(row) = row else {
                return Err(self
                    .refuse(&user.name, Refusal::UnknownDocument, detail.clone())
                    .await);
            };
            if text(&row, "state")? != "prepared" {
                return Err(self
                    .refuse(&user.name, Refusal::DocumentNotPending, detail.clone())
                    .await);
            }
            // The list approved must be what the upload showed: the file and the hash.
            let matches = text(&row, "sha256")?.eq_ignore_ascii_case(&wanted.sha256)
                && text(&row, "hash")?.eq_ignore_ascii_case(&wanted.hash)
                && text(&row, "credential_id")? == credential_id;
            if !matches || rows.iter().any(|(id, ..)| *id == wanted.id) {
                return Err(self
                    .refuse(&user.name, Refusal::ApprovalMismatch, detail.clone())
                    .await);
            }
            rows.push((wanted.id.clone(), row));
        }
        Ok(rows)
    }

    /// The binding a passkey approval of `documents` must sign (see
    /// [`crate::passkeys`]): the documents are checked as [`Self::approve_documents`]
    /// checks them (the user's, waiting, the file and hash shown), then a ceremony is
    /// started whose challenge is bound to their hashes.
    pub async fn approve_documents_passkey_start(
        &self,
        user: &User,
        rp: &crate::passkeys::Passkeys,
        credential_id: &str,
        documents: &[ApprovedDocument],
    ) -> Result<(String, serde_json::Value), ServiceError> {
        let detail = json!({ "credential": credential_id, "via": "passkey" });
        let rows = self
            .approved_rows(user, credential_id, documents, &detail)
            .await?;
        let mut algorithm: Option<String> = None;
        for (_, row) in &rows {
            let alg = text(row, "hash_alg")?;
            if algorithm.as_ref().is_some_and(|a| *a != alg) {
                return Err(self
                    .refuse(&user.name, Refusal::ApprovalMismatch, detail)
                    .await);
            }
            algorithm = Some(alg);
        }
        let hashes = documents
            .iter()
            .map(|d| hex::decode(&d.hash).map_err(|_| Refusal::ApprovalMismatch))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(algorithm) = algorithm else {
            return Err(self
                .refuse(
                    &user.name,
                    Refusal::BadDocument("no document to approve".into()),
                    detail,
                )
                .await);
        };
        self.passkey_approval_start(
            rp,
            user,
            &crate::passkeys::ApprovalBinding {
                credential_id,
                hash_algorithm: &algorithm,
                hashes: &hashes,
            },
        )
        .await
    }

    /// The signer approves `approval.documents`: each must be the user's, still
    /// waiting, with the file and hash the upload showed, and its file unchanged on
    /// disk. Then one SAD bound to exactly those hashes is granted (PIN and TOTP, the
    /// rules of `credentials/authorize`) and spent (`signatures/signHash`), and each
    /// document is finished at its level. Returns the documents as they end up; a
    /// document that fails after signing is marked `failed` with the reason.
    pub async fn approve_documents(
        &self,
        user: &User,
        desk: &DocumentDesk,
        approval: &Approval<'_>,
    ) -> Result<Vec<DocumentInfo>, ServiceError> {
        let ids: Vec<&str> = approval.documents.iter().map(|d| d.id.as_str()).collect();
        let detail = json!({ "credential": approval.credential_id, "documents": ids });
        if approval.documents.is_empty() || approval.documents.len() > desk.limits.max_files {
            return Err(self
                .refuse(
                    &user.name,
                    Refusal::BadDocument(format!(
                        "approve between 1 and {} documents",
                        desk.limits.max_files
                    )),
                    detail,
                )
                .await);
        }
        let rows = self
            .approved_rows(user, approval.credential_id, approval.documents, &detail)
            .await?;
        // The files must still be the ones prepared.
        for (id, row) in &rows {
            let path = desk.original(id);
            let sha = shomei_core::blocking::run_blocking(move || sha256_file(&path))
                .await?
                .map_err(|e| ServiceError::Internal(format!("document file: {e}")))?;
            if sha != text(row, "sha256")? {
                self.fail_document(id, "the uploaded file changed before approval")
                    .await?;
                return Err(self
                    .refuse(&user.name, Refusal::DocumentChanged, detail)
                    .await);
            }
        }
        let mut prepared = Vec::with_capacity(rows.len());
        for (id, row) in &rows {
            let stored: StoredPrepared = serde_json::from_str(&text(row, "prepared")?)
                .map_err(|e| ServiceError::Internal(format!("prepared state of {id}: {e}")))?;
            prepared.push(stored);
        }
        let algorithm = prepared
            .first()
            .map(StoredPrepared::algorithm)
            .ok_or_else(|| ServiceError::Internal("no document".into()))?;
        if prepared.iter().any(|p| p.algorithm() != algorithm) {
            return Err(self
                .refuse(&user.name, Refusal::HashAlgorithm, detail)
                .await);
        }
        let (info, _) = self.usable_credential(user, approval.credential_id).await?;
        let chain = info.chain.ok_or(Refusal::NoCertificate)?;
        let top = rows
            .iter()
            .map(|(_, r)| text(r, "level").ok().and_then(|l| l.parse::<Level>().ok()))
            .collect::<Option<Vec<Level>>>()
            .ok_or_else(|| ServiceError::Internal("stored level".into()))?
            .into_iter()
            .max()
            .unwrap_or(Level::BB);
        // Before anything is signed: the services the levels need, and (B-LT) the
        // signer's own validation data — a revoked signer is refused here.
        let runs = Runs::start(
            &chain,
            top,
            desk,
            prepared.iter().map(StoredPrepared::is_pdf),
        )
        .await?;
        let hashes: Vec<Vec<u8>> = approval
            .documents
            .iter()
            .map(|d| hex::decode(&d.hash).map_err(|_| Refusal::ApprovalMismatch))
            .collect::<Result<_, _>>()?;
        let n = i64::try_from(hashes.len()).unwrap_or(i64::MAX);
        let otp = match &approval.possession {
            Possession::Totp(code) => *code,
            Possession::Passkey {
                rp,
                ceremony,
                credential,
            } => {
                // The authenticator signed a challenge bound to exactly these hashes.
                self.passkey_approval_finish(
                    rp,
                    user,
                    ceremony,
                    credential,
                    &crate::passkeys::ApprovalBinding {
                        credential_id: approval.credential_id,
                        hash_algorithm: algorithm.digest().name(),
                        hashes: &hashes,
                    },
                )
                .await?;
                ""
            }
        };
        let sad = self
            .authorize(
                user,
                &Authorize {
                    credential_id: approval.credential_id,
                    pin: approval.pin,
                    otp,
                    possession_verified: matches!(approval.possession, Possession::Passkey { .. }),
                    hash_algorithm: Some(algorithm.digest()),
                    hashes: &hashes,
                    num_signatures: n,
                    client: approval.client,
                },
            )
            .await?;
        let values = self
            .sign_hashes(
                user,
                &SignHashes {
                    credential_id: approval.credential_id,
                    sad: &sad.sad,
                    hashes: &hashes,
                    algorithm,
                },
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (((id, row), stored), value) in rows.iter().zip(prepared).zip(values) {
            let value = signature_value(algorithm, value);
            let level = text(row, "level")?;
            let finished = self
                .finish_document(desk, id, &level, stored, &value, &runs)
                .await;
            match finished {
                Ok((size, sha)) => {
                    sqlx::query(
                        "UPDATE documents SET state = 'signed', signed_size = $1, signed_sha256 = $2 \
                         WHERE id = $3",
                    )
                    .bind(i64::try_from(size).unwrap_or(i64::MAX))
                    .bind(&sha)
                    .bind(id)
                    .execute(self.store().pool())
                    .await?;
                    self.append_event(
                        "document.signed",
                        &user.name,
                        json!({ "document": id, "level": level, "size": size, "sha256": sha }),
                    )
                    .await?;
                }
                Err(e) => {
                    tracing::warn!(document = %id, error = %e, "finishing a document failed");
                    self.fail_document(id, &e.to_string()).await?;
                    self.append_event(
                        "document.failed",
                        &user.name,
                        json!({ "document": id, "error": e.to_string() }),
                    )
                    .await?;
                }
            }
            out.push(self.document(user, id).await?);
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish_document(
        &self,
        desk: &DocumentDesk,
        id: &str,
        level: &str,
        stored: StoredPrepared,
        value: &SignatureValue,
        runs: &Runs<'_>,
    ) -> Result<(u64, String), ServiceError> {
        let level = parse_level(level)?;
        let target = desk.signed(id);
        match stored {
            StoredPrepared::Pdf(prepared) => {
                let original = std::fs::File::open(desk.original(id))
                    .map_err(|e| ServiceError::Internal(format!("document file: {e}")))?;
                let tmp = desk
                    .dir
                    .join("tmp")
                    .join(format!("{}.out", random_hex(16)?));
                let mut out = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(&tmp)
                    .map_err(|e| ServiceError::file("signed file", &e))?;
                let done = runs
                    .pades()?
                    .finish(prepared, value, std::io::BufReader::new(original), &mut out)
                    .await
                    .map_err(|e| ServiceError::Internal(e.to_string()))
                    .and_then(|()| {
                        out.sync_all()
                            .and_then(|()| std::fs::rename(&tmp, &target))
                            .map_err(|e| ServiceError::file("signed file", &e))
                    });
                if let Err(e) = done {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            }
            StoredPrepared::Xml {
                prepared,
                packaging: name,
            } => {
                let data = std::fs::read(desk.original(id))
                    .map_err(|e| ServiceError::Internal(format!("document file: {e}")))?;
                let mut options = shomei_xades::XadesOptions::default();
                options.level = level;
                options.packaging = packaging(&name)?;
                let signed = runs
                    .xades()?
                    .finish(&prepared, &data, &options, value)
                    .await
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                write_atomically(&target, |f| {
                    f.write_all(&signed)
                        .map_err(|e| ServiceError::file("signed file", &e))
                })?;
            }
        }
        let path = target.clone();
        let sha = shomei_core::blocking::run_blocking(move || sha256_file(&path))
            .await?
            .map_err(|e| ServiceError::file("signed file", &e))?;
        let size = std::fs::metadata(&target)
            .map_err(|e| ServiceError::file("signed file", &e))?
            .len();
        Ok((size, sha))
    }

    async fn fail_document(&self, id: &str, why: &str) -> Result<(), ServiceError> {
        sqlx::query("UPDATE documents SET state = 'failed', error = $1 WHERE id = $2")
            .bind(why)
            .bind(id)
            .execute(self.store().pool())
            .await?;
        Ok(())
    }

    async fn append_event(
        &self,
        kind: &'static str,
        actor: &str,
        detail: serde_json::Value,
    ) -> Result<(), ServiceError> {
        self.append_alone(&Event {
            kind,
            actor,
            detail,
        })
        .await
    }

    /// The signed file of one of `user`'s documents, opened for reading; the first
    /// download starts the grace period after which it is deleted.
    pub async fn signed_document(
        &self,
        user: &User,
        desk: &DocumentDesk,
        id: &str,
    ) -> Result<(DocumentInfo, std::fs::File), ServiceError> {
        let info = self.document(user, id).await?;
        if info.state != "signed" {
            return Err(self
                .refuse(
                    &user.name,
                    Refusal::DocumentNotSigned,
                    json!({ "document": id }),
                )
                .await);
        }
        let file = std::fs::File::open(desk.signed(id))
            .map_err(|e| ServiceError::file("signed file", &e))?;
        let now = now_millis();
        let grace = now.saturating_add(desk.limits.download_grace_secs.saturating_mul(1000));
        sqlx::query(
            "UPDATE documents SET downloaded_at = $1, expires_at = CASE WHEN expires_at > $2 \
             THEN $2 ELSE expires_at END WHERE id = $3 AND downloaded_at = 0",
        )
        .bind(now)
        .bind(grace)
        .bind(id)
        .execute(self.store().pool())
        .await?;
        self.append_event(
            "document.download",
            &user.name,
            json!({ "document": id, "sha256": info.signed_sha256 }),
        )
        .await?;
        Ok((info, file))
    }

    /// Deletes one of `user`'s documents and its files.
    pub async fn delete_document(
        &self,
        user: &User,
        desk: &DocumentDesk,
        id: &str,
    ) -> Result<(), ServiceError> {
        self.document(user, id).await?;
        sqlx::query("DELETE FROM documents WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(&user.id)
            .execute(self.store().pool())
            .await?;
        remove_files(desk, id);
        self.append_event("document.delete", &user.name, json!({ "document": id }))
            .await
    }

    /// Deletes every document whose retention is over (and its files); returns how
    /// many. Run periodically by the server; safe on several nodes at once.
    pub async fn purge_documents(&self, desk: &DocumentDesk) -> Result<usize, ServiceError> {
        let now = now_millis();
        let rows = sqlx::query("SELECT id FROM documents WHERE expires_at <= $1")
            .bind(now)
            .fetch_all(self.store().pool())
            .await?;
        let mut purged = 0;
        for row in rows {
            let id = text(&row, "id")?;
            let done = sqlx::query("DELETE FROM documents WHERE id = $1 AND expires_at <= $2")
                .bind(&id)
                .bind(now)
                .execute(self.store().pool())
                .await?;
            if done.rows_affected() == 1 {
                remove_files(desk, &id);
                purged += 1;
            }
        }
        if purged > 0 {
            self.append_event("document.purge", "-", json!({ "documents": purged }))
                .await?;
        }
        Ok(purged)
    }
}

fn remove_files(desk: &DocumentDesk, id: &str) {
    for path in [
        desk.original(id),
        desk.signed(id),
        desk.seal(id),
        desk.preview(id),
    ] {
        let _ = std::fs::remove_file(path);
    }
}

/// `pdf` or `xml` from the first bytes; `None` for anything else.
fn sniff(head: &[u8]) -> Option<&'static str> {
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Some("pdf");
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace())?;
    (*first == b'<').then_some("xml")
}

/// Reads a PDF's page count and first page box and prepares its signature with the
/// options (stamp and seal included), off the async workers.
async fn prepare_pdf(
    desk: &DocumentDesk,
    path: &Path,
    description: shomei_core::SignerDescription,
    options: &DocumentOptions,
    seal: Option<Arc<SealImage>>,
    time: std::time::SystemTime,
) -> Result<(u64, Vec<i64>, shomei_pades::Prepared), ServiceError> {
    let mut pades = shomei_pades::PadesOptions::default();
    pades.level = parse_level(&options.level)?;
    pades.signing_time = time;
    pades.reason.clone_from(&options.reason);
    pades.location.clone_from(&options.location);
    pades.field_name.clone_from(&options.field);
    if let Some(s) = &options.stamp {
        pades.stamp = Some(stamp(desk, s, seal)?);
    }
    let path = path.to_path_buf();
    let services = desk.services.clone();
    let work = move || -> Result<(u64, Vec<i64>, shomei_pades::Prepared), ServiceError> {
        let mut f =
            std::fs::File::open(&path).map_err(|e| ServiceError::file("upload file", &e))?;
        let (pages, page_box) = shomei_pdf::PdfReader::open(&mut f)
            .and_then(|mut r| Ok((r.page_count()?, r.page_box(0)?)))
            .map_err(pdf_refusal)?;
        f.rewind()
            .map_err(|e| ServiceError::file("upload file", &e))?;
        let prepared = shomei_pades::ltv::prepare_deferred(&description, f, &pades, services.ltv())
            .map_err(pades_refusal)?;
        // Rounded to whole points: for display and for placing the stamp by clicking.
        #[allow(clippy::as_conversions)]
        let page_box = page_box.iter().map(|v| v.round() as i64).collect();
        Ok((u64::try_from(pages).unwrap_or(0), page_box, prepared))
    };
    shomei_core::blocking::run_blocking(work).await?
}

fn stamp(
    desk: &DocumentDesk,
    req: &StampRequest,
    seal: Option<Arc<SealImage>>,
) -> Result<Stamp, ServiceError> {
    let font =
        desk.services.stamp_font.clone().ok_or_else(|| {
            Refusal::BadDocument("this service has no stamp font configured".into())
        })?;
    let finite = [req.x, req.y, req.width, req.height]
        .iter()
        .all(|v| v.is_finite() && v.abs() < 1e6);
    if req.page == 0 || !finite || req.width <= 0.0 || req.height <= 0.0 {
        return Err(Refusal::BadDocument(
            "the stamp needs a page from 1 and a positive width and height".into(),
        )
        .into());
    }
    let mut stamp = Stamp::new(
        req.page.saturating_sub(1),
        [req.x, req.y, req.x + req.width, req.y + req.height],
        font,
    );
    if let Some(text) = &req.text {
        Stamp::check_text(text).map_err(|e| Refusal::BadDocument(e.to_string()))?;
        stamp.text = Some(text.clone());
    }
    if let Some(offset) = &req.utc_offset {
        stamp.utc_offset_minutes =
            Stamp::parse_utc_offset(offset).map_err(|e| Refusal::BadDocument(e.to_string()))?;
    }
    stamp.seal = seal;
    Ok(stamp)
}

fn pdf_refusal(e: shomei_pdf::PdfError) -> ServiceError {
    match e {
        shomei_pdf::PdfError::Encrypted => Refusal::EncryptedPdf.into(),
        shomei_pdf::PdfError::Io(e) => ServiceError::file("upload file", &e),
        other => Refusal::BadDocument(other.to_string()).into(),
    }
}

fn pades_refusal(e: shomei_pades::PadesError) -> ServiceError {
    match e {
        shomei_pades::PadesError::Pdf(p) => pdf_refusal(p),
        e if e.is_input_error() => Refusal::BadDocument(e.to_string()).into(),
        e => ServiceError::Internal(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_first_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("pdf"));
        assert_eq!(
            sniff(b"\xef\xbb\xbf  <?xml version='1.0'?><a/>"),
            Some("xml")
        );
        assert_eq!(sniff(b"<doc/>"), Some("xml"));
        assert_eq!(sniff(b"PK\x03\x04"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\x\\契約書.pdf"), "契約書.pdf");
        assert_eq!(clean_name("a\"b\nc.pdf"), "abc.pdf");
        assert_eq!(clean_name("   "), "document");
    }
}

impl Service {
    /// A PNG of the first page of one of `user`'s PDFs (rendered once, then kept with
    /// the document). `None` when the renderer cannot draw it.
    pub async fn document_preview(
        &self,
        user: &User,
        desk: &DocumentDesk,
        id: &str,
    ) -> Result<Option<Vec<u8>>, ServiceError> {
        let info = self.document(user, id).await?;
        if info.format != "pdf" {
            return Ok(None);
        }
        let cached = desk.preview(id);
        if let Ok(png) = std::fs::read(&cached) {
            return Ok(Some(png));
        }
        let original = desk.original(id);
        let Ok(pdf) = std::fs::read(&original) else {
            return Ok(None);
        };
        // A panic inside the renderer ends this task only: no preview.
        let png = tokio::task::spawn_blocking(move || crate::preview::render_first_page(pdf))
            .await
            .ok()
            .flatten();
        if let Some(png) = &png {
            let _ = write_atomically(&cached, |f| {
                f.write_all(png)
                    .map_err(|e| ServiceError::Internal(format!("preview: {e}")))
            });
        }
        Ok(png)
    }

    /// Places (or removes) the visible stamp of one of `user`'s prepared PDFs: the
    /// signature is prepared again from the stored file, so the hash to be signed
    /// changes; the answer shows the new one.
    pub async fn restamp_document(
        &self,
        user: &User,
        desk: &DocumentDesk,
        id: &str,
        stamp: Option<StampRequest>,
    ) -> Result<DocumentInfo, ServiceError> {
        let detail = json!({ "document": id });
        let row = sqlx::query(
            "SELECT format, state, options, credential_id FROM documents WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(&user.id)
        .fetch_optional(self.store().pool())
        .await?;
        let Some(row) = row else {
            return Err(self
                .refuse(&user.name, Refusal::UnknownDocument, detail)
                .await);
        };
        if text(&row, "state")? != "prepared" {
            return Err(self
                .refuse(&user.name, Refusal::DocumentNotPending, detail)
                .await);
        }
        if text(&row, "format")? != "pdf" {
            return Err(self
                .refuse(
                    &user.name,
                    Refusal::BadDocument("a visible stamp is for PDF documents".into()),
                    detail,
                )
                .await);
        }
        let mut options: DocumentOptions = serde_json::from_str(&text(&row, "options")?)
            .map_err(|e| ServiceError::Internal(format!("stored options: {e}")))?;
        options.stamp = stamp;
        let seal = match std::fs::read(desk.seal(id)) {
            Ok(png) => {
                Some(Arc::new(SealImage::from_png(&png).map_err(|e| {
                    ServiceError::Internal(format!("stored seal: {e}"))
                })?))
            }
            Err(_) => None,
        };
        let (info, _) = self.usable_credential(user, &options.credential_id).await?;
        let chain = info.chain.ok_or(Refusal::NoCertificate)?;
        let kind = chain
            .signing_cert()
            .key_kind()
            .map_err(|e| ServiceError::Internal(format!("credential certificate: {e}")))?;
        let description = shomei_core::SignerDescription::for_key(chain, kind);
        let prepared = prepare_pdf(
            desk,
            &desk.original(id),
            description,
            &options,
            seal,
            std::time::SystemTime::now(),
        )
        .await;
        let (_, _, prepared) = match prepared {
            Ok(p) => p,
            Err(ServiceError::Refused(r)) => return Err(self.refuse(&user.name, r, detail).await),
            Err(e) => return Err(e),
        };
        let digest = prepared.digest_to_sign();
        let stored = serde_json::to_string(&StoredPrepared::Pdf(prepared))
            .map_err(|e| ServiceError::Internal(format!("prepared state: {e}")))?;
        let hash = hex::encode(digest.as_bytes());
        let mut tx = self.store().pool().begin().await?;
        let done = sqlx::query(
            "UPDATE documents SET prepared = $1, hash = $2, options = $3 \
             WHERE id = $4 AND user_id = $5 AND state = 'prepared'",
        )
        .bind(&stored)
        .bind(&hash)
        .bind(
            serde_json::to_string(&options)
                .map_err(|e| ServiceError::Internal(format!("options: {e}")))?,
        )
        .bind(id)
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(Refusal::DocumentNotPending.into());
        }
        audit::append(
            &mut tx,
            &Event {
                kind: "document.stamp",
                actor: &user.name,
                detail: json!({ "document": id, "stamp": options.stamp, "hash": hash }),
            },
        )
        .await?;
        tx.commit().await?;
        self.document(user, id).await
    }
}

/// One document of a CSC `signatures/signDoc` call.
#[derive(Debug, Clone)]
pub struct SignDocRequest {
    /// The document.
    pub data: Vec<u8>,
    /// `true`: PAdES (`signature_format` P); `false`: XAdES (X).
    pub pdf: bool,
    /// The level (`conformance_level` Ades-B-B … Ades-B-LTA).
    pub level: Level,
    /// XAdES packaging: `enveloped` (default), `enveloping`, `detached`.
    pub packaging: Option<String>,
}

impl Service {
    /// CSC `signatures/signDoc`: the service builds PAdES or XAdES signatures of the
    /// given documents under a SAD bound to the documents' hashes (`hash_algorithm` of
    /// each document's bytes, in order — what the client gave `credentials/authorize`).
    /// The SAD is spent for those hashes in the same atomic group commit as
    /// `signHash`; the key signs the data-to-be-signed built from them. Returns the
    /// signed documents, in order.
    pub async fn sign_documents(
        &self,
        token: &str,
        desk: &DocumentDesk,
        credential_id: &str,
        sad: &str,
        hash_algorithm: shomei_core::DigestAlgorithm,
        docs: &[SignDocRequest],
    ) -> Result<Vec<Vec<u8>>, ServiceError> {
        let user = self.token_user(token).await?;
        let detail = json!({ "credential": credential_id, "via": "signDoc" });
        if docs.is_empty() || docs.len() > desk.limits.max_files {
            return Err(self
                .refuse(
                    &user.name,
                    Refusal::BadDocument(format!(
                        "give between 1 and {} documents",
                        desk.limits.max_files
                    )),
                    detail,
                )
                .await);
        }
        let (info, _) = self.usable_credential(&user, credential_id).await?;
        let chain = info.chain.ok_or(Refusal::NoCertificate)?;
        let kind = chain
            .signing_cert()
            .key_kind()
            .map_err(|e| ServiceError::Internal(format!("credential certificate: {e}")))?;
        let description = shomei_core::SignerDescription::for_key(chain.clone(), kind);
        let time = std::time::SystemTime::now();
        let mut prepared = Vec::with_capacity(docs.len());
        for doc in docs {
            let stored = if doc.pdf {
                let mut options = shomei_pades::PadesOptions::default();
                options.level = doc.level;
                options.signing_time = time;
                shomei_pades::ltv::prepare_deferred(
                    &description,
                    std::io::Cursor::new(&doc.data),
                    &options,
                    desk.services.ltv(),
                )
                .map(StoredPrepared::Pdf)
                .map_err(pades_refusal)
            } else {
                let name = doc.packaging.clone().unwrap_or_else(|| "enveloped".into());
                let mut options = shomei_xades::XadesOptions::new(time);
                options.level = doc.level;
                options.packaging = packaging(&name)?;
                shomei_xades::prepare(&doc.data, &description, &options)
                    .map(|prepared| StoredPrepared::Xml {
                        prepared,
                        packaging: name,
                    })
                    .map_err(|e| Refusal::BadDocument(e.to_string()).into())
            };
            match stored {
                Ok(p) => prepared.push(p),
                Err(ServiceError::Refused(r)) => {
                    return Err(self.refuse(&user.name, r, detail).await)
                }
                Err(e) => return Err(e),
            }
        }
        let algorithm = prepared
            .first()
            .map(StoredPrepared::algorithm)
            .ok_or_else(|| ServiceError::Internal("no document".into()))?;
        if prepared.iter().any(|p| p.algorithm() != algorithm) {
            return Err(self
                .refuse(&user.name, Refusal::HashAlgorithm, detail)
                .await);
        }
        let top = docs.iter().map(|d| d.level).max().unwrap_or(Level::BB);
        let runs = Runs::start(
            &chain,
            top,
            desk,
            prepared.iter().map(StoredPrepared::is_pdf),
        )
        .await?;
        let bound: Vec<Vec<u8>> = docs
            .iter()
            .map(|d| {
                shomei_core::Digest::compute(hash_algorithm, &d.data)
                    .as_bytes()
                    .to_vec()
            })
            .collect();
        let digests: Vec<shomei_core::Digest> = prepared
            .iter()
            .map(|p| match p {
                StoredPrepared::Pdf(p) => p.digest_to_sign(),
                StoredPrepared::Xml { prepared, .. } => prepared.digest_to_sign(),
            })
            .collect();
        let values = self
            .sign_bound(
                crate::service::Caller::Token(crate::keystore::secret_id(token)),
                credential_id,
                sad,
                (hash_algorithm, &bound),
                algorithm,
                digests,
            )
            .await?;
        let mut out = Vec::with_capacity(docs.len());
        for ((doc, stored), value) in docs.iter().zip(prepared).zip(values) {
            let value = signature_value(algorithm, value);
            let signed = match stored {
                StoredPrepared::Pdf(p) => {
                    let mut buf =
                        std::io::Cursor::new(Vec::with_capacity(doc.data.len() + (64 << 10)));
                    runs.pades()?
                        .finish(p, &value, doc.data.as_slice(), &mut buf)
                        .await
                        .map_err(|e| ServiceError::Internal(e.to_string()))?;
                    buf.into_inner()
                }
                StoredPrepared::Xml {
                    prepared,
                    packaging: name,
                } => {
                    let mut options = shomei_xades::XadesOptions::default();
                    options.level = doc.level;
                    options.packaging = packaging(&name)?;
                    runs.xades()?
                        .finish(&prepared, &doc.data, &options, &value)
                        .await
                        .map_err(|e| ServiceError::Internal(e.to_string()))?
                }
            };
            out.push(signed);
        }
        Ok(out)
    }
}
