//! Shared building blocks of shomei: algorithm identifiers, digests, certificate
//! chains, the clock, and the [`RemoteSigner`] trait through which every document
//! profile reaches the key, wherever the signature creation device (SCDev) lives.
//!
//! The format crates never see a private key. They compute a [`Digest`], hand it to a
//! [`RemoteSigner`] together with a [`SignatureAlgorithm`], and embed the value that
//! comes back — after [`verify::verify_digest_signature`] has checked it against the
//! signing certificate.

#![forbid(unsafe_code)]

pub mod alg;
pub mod ber;
pub mod blocking;
pub mod chain;
pub mod check;
pub mod cms_raw;
pub mod digest;
pub mod ecdsa;
pub mod ess;
pub mod level;
pub mod signer;
pub mod time;
pub mod transport;
pub mod verify;

pub use alg::{DigestAlgorithm, KeyKind, SignatureAlgorithm};
pub use chain::{CertificateChain, ChainError};
pub use digest::{Digest, Hasher};
pub use level::Level;
pub use signer::{RemoteSigner, SignatureValue, SignerDescription, SignerError};
pub use time::{Clock, FixedClock, SystemClock, UtcTime};
pub use transport::{HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError};
