use shomei_core::verify::VerifyError;

/// Errors while building CAdES signed data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    /// DER encoding or decoding failed.
    #[error("DER: {0}")]
    Der(#[from] der::Error),
    /// The signer returned a value that does not verify or has the wrong shape.
    #[error("the signature value was refused: {0}")]
    BadSignature(#[from] VerifyError),
    /// An ECDSA value could not be converted to DER.
    #[error("the signer returned an ECDSA value that is neither DER nor r||s")]
    BadEcdsaEncoding,
    /// The requested algorithm does not match the signing key.
    #[error("{0}")]
    Algorithm(String),
    /// The certificate could not be used.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The signature is neither DER nor BER this reader accepts.
    #[error(transparent)]
    Ber(#[from] shomei_core::ber::BerError),
}
