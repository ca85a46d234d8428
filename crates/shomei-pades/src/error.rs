/// Errors of the PAdES pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PadesError {
    /// The PDF could not be read or updated (bad input).
    #[error(transparent)]
    Pdf(#[from] shomei_pdf::PdfError),
    /// Building or assembling the CMS failed.
    #[error(transparent)]
    Cms(#[from] shomei_cms::CmsError),
    /// The signer refused or failed.
    #[error(transparent)]
    Signer(#[from] shomei_core::SignerError),
    /// The signing certificate cannot be used.
    #[error("signing certificate: {0}")]
    Certificate(#[from] shomei_core::ChainError),
    /// The visible stamp cannot be made (font, image, text or rectangle).
    #[error(transparent)]
    Stamp(#[from] shomei_stamp::StampError),
    /// Reading the original document failed.
    #[error("reading the document: {0}")]
    Io(#[from] std::io::Error),
    /// Writing the signed document failed (e.g. the file system is full): the output
    /// is incomplete and must not be kept.
    #[error("writing the signed document: {0}")]
    Write(std::io::Error),
    /// The requested combination of options is not possible.
    #[error("{0}")]
    Options(String),
    /// The time-stamping authority failed or refused.
    #[error("time-stamp: {0}")]
    Timestamp(#[from] shomei_tsp::TspError),
    /// Revocation data could not be gathered, or a certificate is revoked or expired.
    #[error("validation data: {0}")]
    Revocation(#[from] shomei_revocation::RevocationError),
    /// The CMS with its time-stamp token did not fit the reserved space; the caller
    /// signs again with a larger placeholder.
    #[error("the signature needs {needed} bytes but {capacity} were reserved")]
    PlaceholderTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes reserved.
        capacity: usize,
    },
    /// A signature of the document is broken or cannot be checked, so it is not
    /// extended (time-stamping it would make a broken signature look archived).
    #[error(
        "signature field `{field}` {}; nothing was written (--force extends it anyway)",
        if failure.is_broken() { format!("is broken: {failure}") } else { format!("{failure}") }
    )]
    BrokenSignature {
        /// The signature field's full name.
        field: String,
        /// What failed.
        failure: shomei_cms::check::CheckFailure,
    },
    /// The document given to a later stage is not the one that was prepared.
    #[error("the document changed since it was prepared: {0}")]
    DocumentChanged(String),
}

impl PadesError {
    /// True when the cause is the input document or the options (bad input, exit code 2),
    /// false when signing itself failed (exit code 1).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            Self::Pdf(_) | Self::Options(_) | Self::Io(_) | Self::Stamp(_)
        ) && !matches!(
            self,
            Self::Pdf(shomei_pdf::PdfError::ContentsTooSmall { .. })
        )
    }
}
