//! The staged signing pipeline.

use crate::{PadesError, PadesOptions};
use serde::{Deserialize, Serialize};
use shomei_cms::{CadesOptions, PreparedCades};
use shomei_core::{
    CertificateChain, Digest, DigestAlgorithm, Hasher, RemoteSigner, SignatureAlgorithm,
    SignatureValue, SignerDescription, UtcTime,
};
use shomei_pdf::{PdfReader, PreparedUpdate, SignatureDictionary, SignatureRequest};
use std::io::{Read, Seek, Write};

/// Slack added to the exact CMS size so that a device returning a slightly different
/// encoding (e.g. an ECDSA value with an extra sign byte) still fits.
const CONTENTS_SLACK: usize = 32;

/// Size of the read buffer when hashing the original document: large enough for the
/// kernel to stream, small enough to keep peak memory flat for any file size.
const HASH_CHUNK: usize = 1 << 20;

/// Reads `src` to its end in chunks, hashing every byte and copying it to `copy`.
/// Returns the number of bytes read. A failed read is [`PadesError::Io`], a failed
/// write of the copy [`PadesError::Write`].
pub(crate) fn hash_stream<R: Read>(
    mut src: R,
    hasher: &mut Hasher,
    mut copy: Option<&mut dyn Write>,
    expected_len: u64,
) -> Result<u64, PadesError> {
    let mut buf = vec![0u8; chunk_len(expected_len)];
    let mut total: u64 = 0;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(PadesError::Io(e)),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        hasher.update(chunk);
        if let Some(w) = copy.as_mut() {
            w.write_all(chunk).map_err(PadesError::Write)?;
        }
        total = total.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
    }
}

/// A read buffer no larger than the document (plus one byte to see its end).
pub(crate) fn chunk_len(original_len: u64) -> usize {
    usize::try_from(original_len.saturating_add(1))
        .unwrap_or(HASH_CHUNK)
        .min(HASH_CHUNK)
}

/// Stage 1: the incremental update with its placeholder; the document is not hashed yet.
#[derive(Debug, Clone)]
pub struct Draft {
    update: PreparedUpdate,
    chain: CertificateChain,
    digest: DigestAlgorithm,
    algorithm: SignatureAlgorithm,
}

/// Stage 2: hashed and ready to be signed. Serializable: store it, sign elsewhere,
/// resume with [`Prepared::finish`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prepared {
    update: PreparedUpdate,
    cades: PreparedCades,
    document_digest: Digest,
}

/// Stage 3: the signature is embedded; write it out.
#[derive(Debug, Clone)]
pub struct Signed {
    update: PreparedUpdate,
    document_digest: Digest,
}

/// Stage 1: reads only the objects the signature needs and builds the incremental update.
pub fn prepare<R: Read + Seek>(
    pdf: R,
    description: &SignerDescription,
    options: &PadesOptions,
) -> Result<Draft, PadesError> {
    if let Some(p) = options.certify {
        if !(1..=3).contains(&p) {
            return Err(PadesError::Options(format!(
                "certification level must be 1, 2 or 3, not {p}"
            )));
        }
    }
    let algorithm = description
        .choose_algorithm(options.digest, options.rsa_pss)
        .map_err(PadesError::Options)?;
    let digest = algorithm.digest();
    // The signed attributes have the same size for every digest value, so a dummy
    // digest gives the exact CMS size for the longest signature the device can return.
    let dummy = Digest::new(digest, vec![0; digest.output_len()])
        .ok_or_else(|| PadesError::Options("digest length".into()))?;
    let sizing = PreparedCades::new(
        &description.chain,
        &dummy,
        &CadesOptions::pades(digest, algorithm),
    )?;
    let capacity = sizing
        .assembled_len(description.max_signature_len)?
        .saturating_add(options.unsigned_attrs_reserve)
        .saturating_add(CONTENTS_SLACK);

    let mut reader = PdfReader::open(pdf)?;
    let time = UtcTime::from_system_time(options.signing_time)
        .ok_or_else(|| PadesError::Options("signing time out of range".into()))?;
    let mut dictionary = SignatureDictionary::default();
    dictionary.sub_filter = "ETSI.CAdES.detached".into();
    dictionary.signing_time = Some(time.to_pdf_date());
    dictionary.reason.clone_from(&options.reason);
    dictionary.location.clone_from(&options.location);
    dictionary.contact_info.clone_from(&options.contact_info);
    dictionary.name.clone_from(&options.name);
    dictionary.certify = options.certify;
    let mut request = SignatureRequest::default();
    request.field_name.clone_from(&options.field_name);
    request.dictionary = dictionary;
    request.contents_capacity = capacity;
    if let Some(stamp) = &options.stamp {
        let signer = description.chain.signing_cert();
        let name = options
            .name
            .clone()
            .or_else(|| signer.common_name())
            .unwrap_or_else(|| signer.subject());
        request.appearance = Some(stamp.render(&name, options.signing_time)?);
    }
    let update = shomei_pdf::prepare_signature(&mut reader, &request)?;
    Ok(Draft {
        update,
        chain: description.chain.clone(),
        digest,
        algorithm,
    })
}

impl Draft {
    /// Length the original document must have.
    pub fn original_len(&self) -> u64 {
        self.update.original_len()
    }

    /// The incremental update (placeholder still empty).
    pub fn update(&self) -> &PreparedUpdate {
        &self.update
    }

    /// Stage 2: hashes the ByteRange — the original bytes, read once from `original`,
    /// then the update around the placeholder. If `copy` is given, every original byte
    /// is also written there, so a caller can produce the output file in the same pass.
    pub fn digest_document<R: Read>(
        self,
        original: R,
        copy: Option<&mut dyn Write>,
    ) -> Result<Prepared, PadesError> {
        let mut hasher = Hasher::new(self.digest);
        let total = hash_stream(original, &mut hasher, copy, self.update.original_len())?;
        if total != self.update.original_len() {
            return Err(PadesError::DocumentChanged(format!(
                "expected {} bytes, read {total}",
                self.update.original_len()
            )));
        }
        let (before, after) = self.update.signed_update_parts();
        hasher.update(before);
        hasher.update(after);
        let document_digest = hasher.finish();
        let cades = PreparedCades::new(
            &self.chain,
            &document_digest,
            &CadesOptions::pades(self.digest, self.algorithm),
        )?;
        Ok(Prepared {
            update: self.update,
            cades,
            document_digest,
        })
    }
}

impl Prepared {
    /// What the signer must sign.
    pub fn digest_to_sign(&self) -> Digest {
        self.cades.digest_to_sign()
    }

    /// The signature scheme to ask the signer for.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        self.cades.signature_algorithm()
    }

    /// Length of the original document.
    pub fn original_len(&self) -> u64 {
        self.update.original_len()
    }

    /// The signer's certificate chain.
    pub fn chain(&self) -> &shomei_core::CertificateChain {
        self.cades.chain()
    }

    /// The parts of the update covered by the ByteRange (see
    /// [`shomei_pdf::PreparedUpdate::signed_update_parts`]).
    pub(crate) fn signed_update_parts(&self) -> (&[u8], &[u8]) {
        self.update.signed_update_parts()
    }

    /// The digest of the ByteRange (the CMS message-digest).
    pub fn document_digest(&self) -> &Digest {
        &self.document_digest
    }

    /// Stage 3: verifies the value against the signing certificate, assembles the CMS
    /// and writes it into the placeholder.
    pub fn finish(self, value: &SignatureValue) -> Result<Signed, PadesError> {
        let cms = self.cades.assemble(value, Vec::new())?;
        let mut update = self.update;
        update.embed(&cms)?;
        Ok(Signed {
            update,
            document_digest: self.document_digest,
        })
    }
}

impl Prepared {
    pub(crate) fn into_parts(self) -> (PreparedUpdate, PreparedCades, Digest) {
        (self.update, self.cades, self.document_digest)
    }
}

impl Signed {
    pub(crate) fn from_parts(update: PreparedUpdate, document_digest: Digest) -> Self {
        Self {
            update,
            document_digest,
        }
    }

    /// The bytes to append after the original document.
    pub fn update_bytes(&self) -> &[u8] {
        self.update.update_bytes()
    }

    /// The final `/ByteRange`.
    pub fn byte_range(&self) -> [u64; 4] {
        self.update.byte_range()
    }

    /// Writes the whole signed file: `original` (which must be the prepared document;
    /// its digest is checked while copying) followed by the update.
    pub fn write_to<R: Read, W: Write>(&self, original: R, mut out: W) -> Result<(), PadesError> {
        let mut hasher = Hasher::new(self.document_digest.algorithm());
        hash_stream(
            original,
            &mut hasher,
            Some(&mut out),
            self.update.original_len(),
        )?;
        let (before, after) = self.update.signed_update_parts();
        hasher.update(before);
        hasher.update(after);
        if hasher.finish() != self.document_digest {
            return Err(PadesError::DocumentChanged(
                "its bytes differ from the prepared document".into(),
            ));
        }
        out.write_all(self.update.update_bytes())
            .and_then(|()| out.flush())
            .map_err(PadesError::Write)
    }
}

/// Runs every stage for a PDF held in memory and returns the signed file.
pub async fn sign_document(
    signer: &dyn RemoteSigner,
    pdf: &[u8],
    options: &PadesOptions,
) -> Result<Vec<u8>, PadesError> {
    let description = signer.describe().await?;
    let draft = prepare(std::io::Cursor::new(pdf), &description, options)?;
    let prepared = draft.digest_document(pdf, None)?;
    let value = signer
        .sign_digest(prepared.signature_algorithm(), &prepared.digest_to_sign())
        .await?;
    let signed = prepared.finish(&value)?;
    let mut out = Vec::with_capacity(pdf.len().saturating_add(signed.update_bytes().len()));
    out.extend_from_slice(pdf);
    out.extend_from_slice(signed.update_bytes());
    Ok(out)
}

impl shomei_levels::ToBeSigned for Prepared {
    fn signature_algorithm(&self) -> SignatureAlgorithm {
        Prepared::signature_algorithm(self)
    }

    fn digest_to_sign(&self) -> Digest {
        Prepared::digest_to_sign(self)
    }
}
