//! Long-term levels (ETSI EN 319 142-1 6.3): the signature time-stamp of B-T, the
//! `/DSS` validation data of B-LT and the document time-stamp of B-LTA — for the
//! signature being made, and for signatures of any producer (extension).
//!
//! Time-stamps and revocation data come through traits ([`TimestampAuthority`],
//! [`RevocationSource`]); this module never opens a socket.

use crate::pipeline::{hash_stream, Prepared, Signed};
use crate::PadesError;
use shomei_cms::attributes::signature_time_stamp;
use shomei_cms::inspect::summarize;
use shomei_core::chain::ChainCert;
use shomei_core::{Clock, Digest, DigestAlgorithm, Hasher, SignatureValue};
use shomei_pdf::{
    prepare_signature, DssData, PdfError, PdfReader, SignatureDictionary, SignatureRequest,
};
use shomei_revocation::RevocationSource;
use shomei_tsp::{TimestampAuthority, TimestampToken};
use std::io::{Read, Seek, SeekFrom, Write};

/// Bytes around a token inside the unsigned attributes (Attribute + SET + SEQUENCE
/// headers) and inside a `/Contents` placeholder; generous on purpose.
pub const TOKEN_OVERHEAD: usize = 96;

impl Prepared {
    /// B-T: verifies `value`, time-stamps it (RFC 3161 over the SignatureValue, ETSI EN
    /// 319 122-1 5.3), and embeds the CMS with the `signature-time-stamp` attribute.
    /// [`PadesError::PlaceholderTooSmall`] means: prepare again with a larger reserve.
    pub async fn finish_with_timestamp(
        self,
        value: &SignatureValue,
        tsa: &dyn TimestampAuthority,
    ) -> Result<(Signed, TimestampToken), PadesError> {
        let sig = value
            .to_cms()
            .ok_or(shomei_cms::CmsError::BadEcdsaEncoding)?;
        let (update, cades, document_digest) = self.into_parts();
        shomei_core::verify::verify_digest_signature(
            cades.chain().signing_cert(),
            cades.signature_algorithm(),
            &cades.digest_to_sign(),
            &sig,
        )
        .map_err(shomei_cms::CmsError::from)?;
        let imprint = Digest::compute(cades.signature_algorithm().digest(), &sig);
        let token = tsa.timestamp(&imprint).await?;
        let attr = signature_time_stamp(token.der()).map_err(shomei_cms::CmsError::from)?;
        let cms = cades.assemble(value, vec![attr])?;
        let mut update = update;
        match update.embed(&cms) {
            Ok(()) => Ok((Signed::from_parts(update, document_digest), token)),
            Err(PdfError::ContentsTooSmall { needed, capacity }) => {
                Err(PadesError::PlaceholderTooSmall { needed, capacity })
            }
            Err(e) => Err(e.into()),
        }
    }
}

pub use shomei_levels::{add_chain, LtvServices, Strictness, ValidationData};

/// The `/DSS` content for `data`.
pub fn dss_data(data: &ValidationData) -> DssData {
    let mut dss = DssData::default();
    dss.certs.clone_from(&data.certs);
    dss.ocsps.clone_from(&data.ocsps);
    dss.crls.clone_from(&data.crls);
    dss
}

/// Validation data for every signature and time-stamp already in the document.
pub async fn collect_document_validation_data<R: Read + Seek>(
    pdf: R,
    source: &dyn RevocationSource,
    clock: &dyn Clock,
    extra: &[ChainCert],
    strictness: Strictness,
) -> Result<ValidationData, PadesError> {
    let mut reader = PdfReader::open(pdf)?;
    let signatures = reader.signatures()?;
    let mut data = ValidationData::default();
    let mut summaries = Vec::with_capacity(signatures.len());
    for sig in &signatures {
        match summarize(&sig.contents) {
            Ok(s) => summaries.push((sig, s)),
            Err(e) => data.warnings.push(format!(
                "signature field {}: unreadable CMS: {e}",
                sig.field_name
            )),
        }
    }
    // Chains are completed from every certificate the document carries (a TSA's
    // issuer often comes with a signature's chain), then from `extra`, then from AIA.
    let mut document_certs: Vec<ChainCert> = Vec::new();
    for (_, summary) in &summaries {
        let token_certs = summary
            .signature_timestamp
            .as_deref()
            .and_then(|t| summarize(t).ok())
            .map(|t| t.certificates)
            .unwrap_or_default();
        for c in summary.certificates.iter().chain(&token_certs) {
            if !document_certs.iter().any(|d| d.der() == c.der()) {
                document_certs.push(c.clone());
            }
        }
    }
    document_certs.extend_from_slice(extra);
    for (sig, summary) in &summaries {
        let mut pool = summary.certificates.clone();
        pool.extend_from_slice(&document_certs);
        if let Some(signer) = &summary.signer {
            add_chain(&mut data, signer, &pool, source, clock, strictness).await?;
        } else {
            data.warnings.push(format!(
                "signature field {}: signer certificate not embedded",
                sig.field_name
            ));
        }
        if let Some(token) = &summary.signature_timestamp {
            if let Ok(ts) = summarize(token) {
                let mut pool = ts.certificates.clone();
                pool.extend_from_slice(&document_certs);
                if let Some(tsa) = &ts.signer {
                    add_chain(&mut data, tsa, &pool, source, clock, Strictness::Existing).await?;
                }
            }
        }
    }
    Ok(data)
}

/// True when every CMS signature of the document has a signature time-stamp or is
/// followed by a document time-stamp (both make B-T).
pub fn every_signature_timestamped<R: Read + Seek>(pdf: R) -> Result<bool, PadesError> {
    let mut reader = PdfReader::open(pdf)?;
    let signatures = reader.signatures()?;
    let last_doc_ts = signatures
        .iter()
        .filter(|s| s.is_document_timestamp)
        .filter_map(|s| s.byte_range.get(1).copied())
        .max();
    Ok(signatures
        .iter()
        .filter(|s| !s.is_document_timestamp)
        .all(|s| {
            let after_ts = match (last_doc_ts, s.byte_range.get(1)) {
                (Some(ts), Some(at)) => ts > *at,
                _ => false,
            };
            after_ts
                || summarize(&s.contents)
                    .map(|sum| sum.signature_timestamp.is_some())
                    .unwrap_or(false)
        }))
}

/// B-LTA (and B-T by document time-stamp): an incremental update with a
/// `/DocTimeStamp` over the whole document. Returns the bytes to append.
pub async fn document_timestamp_update<R: Read + Seek>(
    mut pdf: R,
    tsa: &dyn TimestampAuthority,
    digest: DigestAlgorithm,
) -> Result<(Vec<u8>, TimestampToken), PadesError> {
    let mut capacity = tsa.expected_token_len().saturating_add(TOKEN_OVERHEAD);
    // A token larger than learned costs one retry with the size it really had.
    for _ in 0..2 {
        pdf.seek(SeekFrom::Start(0))?;
        let mut reader = PdfReader::open(&mut pdf)?;
        let request = SignatureRequest::new(SignatureDictionary::document_timestamp(), capacity);
        let mut update = prepare_signature(&mut reader, &request)?;
        drop(reader);
        pdf.seek(SeekFrom::Start(0))?;
        let mut hasher = Hasher::new(digest);
        let total = hash_stream(&mut pdf, &mut hasher, None, update.original_len())?;
        if total != update.original_len() {
            return Err(PadesError::DocumentChanged(
                "length changed while hashing".into(),
            ));
        }
        let (before, after) = update.signed_update_parts();
        hasher.update(before);
        hasher.update(after);
        let token = tsa.timestamp(&hasher.finish()).await?;
        match update.embed(token.der()) {
            Ok(()) => return Ok((update.update_bytes().to_vec(), token)),
            Err(PdfError::ContentsTooSmall { needed, .. }) => {
                capacity = needed.saturating_add(TOKEN_OVERHEAD);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(PadesError::PlaceholderTooSmall {
        needed: capacity,
        capacity,
    })
}

/// The `/DSS` update for `data` (empty when there is nothing new).
pub fn dss_update<R: Read + Seek>(pdf: R, data: &DssData) -> Result<Vec<u8>, PadesError> {
    let mut reader = PdfReader::open(pdf)?;
    Ok(shomei_pdf::prepare_dss_update(&mut reader, data)?)
}

/// Where a signed document is written: a file or a buffer that can be read back (the
/// B-LT and B-LTA steps read what was written) and cut back (a re-signing starts over).
pub trait SignedOutput: Read + Write + Seek {
    /// Cuts the output to `len` bytes.
    fn truncate_to(&mut self, len: u64) -> std::io::Result<()>;
}

impl SignedOutput for std::fs::File {
    fn truncate_to(&mut self, len: u64) -> std::io::Result<()> {
        self.set_len(len)
    }
}

impl<T: SignedOutput + ?Sized> SignedOutput for &mut T {
    fn truncate_to(&mut self, len: u64) -> std::io::Result<()> {
        (**self).truncate_to(len)
    }
}

impl SignedOutput for std::io::Cursor<Vec<u8>> {
    fn truncate_to(&mut self, len: u64) -> std::io::Result<()> {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.get_mut().truncate(len);
        Ok(())
    }
}

/// Appends `bytes` at the end of `out` (an update of the signed file).
pub(crate) fn append<O: SignedOutput>(out: &mut O, bytes: &[u8]) -> Result<(), PadesError> {
    out.seek(SeekFrom::End(0))
        .and_then(|_| out.write_all(bytes))
        .map_err(PadesError::Write)
}

/// What every document of one signing run shares: the signer's description, the
/// signer's validation data (B-LT: gathered once, after the inputs are read and before
/// anything is signed) and the options with room reserved for the time-stamp token.
struct Run<'a> {
    description: shomei_core::SignerDescription,
    validation: Option<ValidationData>,
    options: crate::PadesOptions,
    services: Option<LtvServices<'a>>,
}

impl<'a> Run<'a> {
    async fn start(
        signer: &dyn shomei_core::RemoteSigner,
        options: &crate::PadesOptions,
        services: Option<LtvServices<'a>>,
    ) -> Result<Self, PadesError> {
        let services = shomei_levels::services_for_level(options.level, services)
            .map_err(PadesError::Options)?;
        let description = signer.describe().await?;
        let mut options = options.clone();
        if let Some(s) = &services {
            options.unsigned_attrs_reserve =
                s.tsa.expected_token_len().saturating_add(TOKEN_OVERHEAD);
        }
        Ok(Self {
            description,
            validation: None,
            options,
            services,
        })
    }

    /// The signer's validation data (B-LT and up), gathered on first use: called once
    /// the inputs have been read, so a damaged input costs no request, and before
    /// anything is signed, so a revoked, expired or not-yet-valid signer is refused
    /// first.
    async fn signer_validation(&mut self) -> Result<&ValidationData, PadesError> {
        if self.validation.is_none() {
            let data = shomei_levels::new_signer_data(
                self.options.level,
                self.services.as_ref(),
                &self.description.chain,
            )
            .await?;
            self.validation = Some(data);
        }
        self.validation
            .as_ref()
            .ok_or_else(|| PadesError::Options("internal: no signer validation data".into()))
    }

    /// Writes a copy of `pdf` to `out` while hashing it; returns what is to be signed.
    fn prepare<R: Read + Seek, O: SignedOutput>(
        &self,
        pdf: &mut R,
        out: &mut O,
    ) -> Result<Prepared, PadesError> {
        pdf.seek(SeekFrom::Start(0))?;
        let draft = crate::prepare(&mut *pdf, &self.description, &self.options)?;
        pdf.seek(SeekFrom::Start(0))?;
        out.truncate_to(0)?;
        out.seek(SeekFrom::Start(0))?;
        draft.digest_document(&mut *pdf, Some(&mut *out))
    }

    /// Embeds the value (with a signature time-stamp above B-B) and appends the update;
    /// returns the time-stamp token.
    async fn embed<O: SignedOutput>(
        &self,
        prepared: Prepared,
        value: &SignatureValue,
        out: &mut O,
    ) -> Result<Option<TimestampToken>, PadesError> {
        let Some(s) = &self.services else {
            let signed = prepared.finish(value)?;
            append(out, signed.update_bytes())?;
            return Ok(None);
        };
        let (signed, token) = prepared.finish_with_timestamp(value, s.tsa).await?;
        append(out, signed.update_bytes())?;
        Ok(Some(token))
    }

    /// B-LT and B-LTA after the signature: the signer's and the TSA's validation data
    /// in `/DSS`, then the document time-stamp.
    async fn complete<O: SignedOutput>(
        &self,
        out: &mut O,
        token: Option<TimestampToken>,
    ) -> Result<(), PadesError> {
        use crate::Level;
        let (Some(s), Some(token)) = (&self.services, token) else {
            return Ok(());
        };
        let level = self.options.level;
        if level >= Level::BLT {
            let mut validation = self.validation.clone().ok_or_else(|| {
                PadesError::Options(
                    "internal: the signer's validation data was not gathered".into(),
                )
            })?;
            if let Some(tsa_cert) = token.signer_cert() {
                let mut pool = token.certificates();
                pool.extend_from_slice(self.description.chain.certs());
                add_chain(
                    &mut validation,
                    &tsa_cert,
                    &pool,
                    s.revocation,
                    s.clock,
                    Strictness::NewSignature,
                )
                .await?;
            }
            out.seek(SeekFrom::Start(0))?;
            let update = dss_update(&mut *out, &dss_data(&validation))?;
            append(out, &update)?;
        }
        if level == Level::BLTA {
            let digest = self.description.key_kind()?.default_digest();
            let (update, _) = document_timestamp_update(&mut *out, s.tsa, digest).await?;
            append(out, &update)?;
        }
        Ok(())
    }

    /// One document from start to end; a token larger than reserved makes it sign once
    /// more with room for it.
    async fn sign_one<R: Read + Seek, O: SignedOutput>(
        &mut self,
        signer: &dyn shomei_core::RemoteSigner,
        pdf: &mut R,
        out: &mut O,
    ) -> Result<(), PadesError> {
        let mut attempt = 0;
        let token = loop {
            attempt += 1;
            let prepared = self.prepare(pdf, out)?;
            self.signer_validation().await?;
            let value = signer
                .sign_digest(prepared.signature_algorithm(), &prepared.digest_to_sign())
                .await?;
            match self.embed(prepared, &value, out).await {
                Ok(token) => break token,
                Err(PadesError::PlaceholderTooSmall { needed, capacity }) if attempt < 2 => {
                    self.grow_reserve(needed, capacity)
                }
                Err(e) => return Err(e),
            }
        };
        self.complete(out, token).await
    }

    fn grow_reserve(&mut self, needed: usize, capacity: usize) {
        self.options.unsigned_attrs_reserve = self
            .options
            .unsigned_attrs_reserve
            .saturating_add(needed.saturating_sub(capacity))
            .saturating_add(TOKEN_OVERHEAD);
    }
}

/// A signature approved later (a web flow, CSC `signDoc`): [`prepare_deferred`] at upload
/// gives a serializable [`Prepared`] whose hash the signer approves; once the device has
/// signed it, [`Deferred::finish`] embeds the value and completes the level. The
/// signer's validation data (B-LT and up) is gathered by [`Deferred::start`], before
/// anything is signed, so a revoked, expired or not-yet-valid signer is refused first.
pub struct Deferred<'a> {
    run: Run<'a>,
}

impl std::fmt::Debug for Deferred<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("level", &self.run.options.level)
            .finish_non_exhaustive()
    }
}

/// Stage 1 of a deferred signature: reads `pdf`, builds the update for
/// `options.level` (with room for the signature time-stamp above B-B; the services must
/// be those [`Deferred::start`] will get) and hashes the ByteRange. Nothing is written.
pub fn prepare_deferred<R: Read + Seek>(
    description: &shomei_core::SignerDescription,
    mut pdf: R,
    options: &crate::PadesOptions,
    services: Option<LtvServices<'_>>,
) -> Result<Prepared, PadesError> {
    let services =
        shomei_levels::services_for_level(options.level, services).map_err(PadesError::Options)?;
    let mut options = options.clone();
    if let Some(s) = &services {
        options.unsigned_attrs_reserve = s.tsa.expected_token_len().saturating_add(TOKEN_OVERHEAD);
    }
    pdf.seek(SeekFrom::Start(0))?;
    let draft = crate::prepare(&mut pdf, description, &options)?;
    pdf.seek(SeekFrom::Start(0))?;
    draft.digest_document(pdf, None)
}

impl<'a> Deferred<'a> {
    /// Gets ready to finish signatures of `chain`'s signer at `level`: checks the
    /// services the level needs and gathers the signer's validation data (B-LT, B-LTA).
    pub async fn start(
        chain: &shomei_core::CertificateChain,
        level: crate::Level,
        services: Option<LtvServices<'a>>,
    ) -> Result<Self, PadesError> {
        let services =
            shomei_levels::services_for_level(level, services).map_err(PadesError::Options)?;
        let kind = chain.signing_cert().key_kind()?;
        let description = shomei_core::SignerDescription::for_key(chain.clone(), kind);
        let mut run = Run {
            description,
            validation: None,
            options: crate::PadesOptions {
                level,
                ..Default::default()
            },
            services,
        };
        run.signer_validation().await?;
        Ok(Self { run })
    }

    /// Stage 3 of a deferred signature: copies `original` to `out` (emptied first) while
    /// checking it is byte for byte the document that was prepared
    /// ([`PadesError::DocumentChanged`] if not), embeds `value` (verified against the
    /// signing certificate; time-stamped above B-B) and completes the level (`/DSS`,
    /// document time-stamp).
    pub async fn finish<R: Read, O: SignedOutput>(
        &self,
        prepared: Prepared,
        value: &SignatureValue,
        original: R,
        out: &mut O,
    ) -> Result<(), PadesError> {
        if prepared.chain().signing_cert().der() != self.run.description.chain.signing_cert().der()
        {
            return Err(PadesError::Options(
                "the prepared signature is another signer's".into(),
            ));
        }
        out.truncate_to(0)?;
        out.seek(SeekFrom::Start(0))?;
        let expected = prepared.document_digest().clone();
        let mut hasher = shomei_core::Hasher::new(expected.algorithm());
        let len = prepared.original_len();
        let total = hash_stream(original, &mut hasher, Some(&mut *out), len)?;
        let (before, after) = prepared.signed_update_parts();
        hasher.update(before);
        hasher.update(after);
        if total != len || hasher.finish() != expected {
            return Err(PadesError::DocumentChanged(
                "the document is not the one whose hash was approved".into(),
            ));
        }
        let token = self.run.embed(prepared, value, out).await?;
        self.run.complete(out, token).await
    }
}

/// Signs `pdf` at `options.level`, B-B to B-LTA, writing the whole signed file to `out`
/// (which must be empty). The original is read once, hashed and copied in the same
/// pass, so large files sign in flat memory. A time-stamp token larger than reserved
/// makes it sign once more with room for it (never a corrupt file); a revoked, expired
/// or not-yet-valid signer is refused at B-LT before anything is signed.
pub async fn sign_at_level<R: Read + Seek, O: SignedOutput>(
    signer: &dyn shomei_core::RemoteSigner,
    mut pdf: R,
    out: &mut O,
    options: &crate::PadesOptions,
    services: Option<LtvServices<'_>>,
) -> Result<(), PadesError> {
    let mut run = Run::start(signer, options, services).await?;
    run.sign_one(signer, &mut pdf, out).await
}

/// One document of a batch: where it is read from and written to.
#[derive(Debug)]
pub struct BatchItem<R, O> {
    /// The PDF.
    pub input: R,
    /// Where the signed PDF goes (empty at the start).
    pub output: O,
}

/// Signs every document of `items` at `options.level` with **one** call to
/// [`shomei_core::RemoteSigner::sign_digests`] for all of them — one authorization at a
/// remote signing service (CSC: one SAD for N hashes). Returns one result per item, in
/// order: a document that cannot be prepared fails alone and the others are signed. A
/// time-stamp token larger than reserved re-signs that one document on its own.
/// `done(i)` is called as each document is finished (or has failed).
pub async fn sign_batch_at_level<R: Read + Seek, O: SignedOutput>(
    signer: &dyn shomei_core::RemoteSigner,
    items: &mut [BatchItem<R, O>],
    options: &crate::PadesOptions,
    services: Option<LtvServices<'_>>,
    done: &mut (dyn FnMut(usize) + Send),
) -> Result<Vec<Result<(), PadesError>>, PadesError> {
    let mut run = Run::start(signer, options, services).await?;
    let mut results: Vec<Result<(), PadesError>> = Vec::with_capacity(items.len());
    let mut pending = Vec::new();
    for (i, item) in items.iter_mut().enumerate() {
        match run.prepare(&mut item.input, &mut item.output) {
            Ok(p) => {
                pending.push((i, p));
                results.push(Ok(()));
            }
            Err(e) => {
                results.push(Err(e));
                done(i);
            }
        }
    }
    if pending.is_empty() {
        return Ok(results);
    }
    run.signer_validation().await?;
    let (indices, pending): (Vec<usize>, Vec<Prepared>) = pending.into_iter().unzip();
    let values = shomei_levels::sign_prepared(signer, &pending).await?;
    for ((i, prepared), value) in indices.into_iter().zip(pending).zip(values) {
        let Some(item) = items.get_mut(i) else {
            continue;
        };
        let outcome = match run.embed(prepared, &value, &mut item.output).await {
            Ok(token) => run.complete(&mut item.output, token).await,
            Err(PadesError::PlaceholderTooSmall { needed, capacity }) => {
                run.grow_reserve(needed, capacity);
                run.sign_one(signer, &mut item.input, &mut item.output)
                    .await
            }
            Err(e) => Err(e),
        };
        if let Some(slot) = results.get_mut(i) {
            *slot = outcome;
        }
        done(i);
    }
    Ok(results)
}

/// [`sign_at_level`] for a PDF held in memory; returns the whole signed file.
pub async fn sign_document_at_level(
    signer: &dyn shomei_core::RemoteSigner,
    pdf: &[u8],
    options: &crate::PadesOptions,
    services: Option<LtvServices<'_>>,
) -> Result<Vec<u8>, PadesError> {
    let mut out = std::io::Cursor::new(Vec::with_capacity(pdf.len().saturating_add(16 << 10)));
    sign_at_level(
        signer,
        std::io::Cursor::new(pdf),
        &mut out,
        options,
        services,
    )
    .await?;
    Ok(out.into_inner())
}
