//! The error type of this crate.

/// Everything that can go wrong while creating a XAdES signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum XadesError {
    /// The document is not acceptable XML (syntax, entity declarations, limits, ...).
    #[error("XML document: {0}")]
    Xml(#[from] shomei_xml::XmlError),
    /// The signer refused or failed.
    #[error(transparent)]
    Signer(#[from] shomei_core::SignerError),
    /// The signing certificate cannot be used.
    #[error("signing certificate: {0}")]
    Certificate(#[from] shomei_core::ChainError),
    /// The time-stamping authority failed or answered with an unusable token.
    #[error(transparent)]
    Timestamp(#[from] shomei_tsp::TspError),
    /// Revocation data could not be had, or a certificate must not be used.
    #[error(transparent)]
    Revocation(#[from] shomei_revocation::RevocationError),
    /// The signature value returned by the device does not verify.
    #[error("signature value refused: {0}")]
    Verify(#[from] shomei_core::verify::VerifyError),
    /// A signature of the document is broken or cannot be checked, so it is not
    /// extended (time-stamping it would make a broken signature look archived).
    #[error(
        "signature `{id}` {}; nothing was written (--force extends it anyway)",
        match failure {
            crate::check::CheckFailure::Unchecked(_) => format!("{failure}"),
            _ => format!("is broken: {failure}"),
        }
    )]
    BrokenSignature {
        /// The `ds:Signature`'s Id (or its position, `signature 2`).
        id: String,
        /// What failed.
        failure: crate::check::CheckFailure,
    },
    /// The requested combination of options is not possible.
    #[error("{0}")]
    Options(String),
    /// A reference's data cannot be produced from the document: no element has its Id,
    /// its base64 is malformed (the signature cannot be valid).
    #[error("{0}")]
    Reference(String),
    /// A reference uses a transform outside the allow-list (C14N 1.0/1.1/exclusive,
    /// enveloped signature, base64, the XPath filters that leave out signatures):
    /// default-deny, as XSLT and arbitrary XPath can make a signature mean anything.
    #[error("transform not allowed: {0}")]
    Transform(String),
    /// The document uses something this crate does not handle yet.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Writing the output failed.
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
    /// Encoding a certificate field failed.
    #[error("DER encoding: {0}")]
    Der(#[from] der::Error),
}
