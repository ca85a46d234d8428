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
    /// Reading the original document failed.
    #[error("reading the document: {0}")]
    Io(#[from] std::io::Error),
    /// The requested combination of options is not possible.
    #[error("{0}")]
    Options(String),
    /// The document given to a later stage is not the one that was prepared.
    #[error("the document changed since it was prepared: {0}")]
    DocumentChanged(String),
}

impl PadesError {
    /// True when the cause is the input document or the options (bad input, exit code 2),
    /// false when signing itself failed (exit code 1).
    pub fn is_input_error(&self) -> bool {
        matches!(self, Self::Pdf(_) | Self::Options(_) | Self::Io(_))
    }
}
