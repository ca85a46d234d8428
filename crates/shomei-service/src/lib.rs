//! The domain of shomei's remote signing service (CEN EN 419 241-1/-2): users with a
//! password and a TOTP second factor, credentials whose keys are generated and kept
//! sealed by the service (never exportable), signature activation data (SAD) bound to
//! the exact hashes (Sole Control Level 2) and spent atomically, and a hash-chained
//! audit trail written in the same transaction as what it records. Storage is SQLite
//! (embedded default) or PostgreSQL through one set of migrations. No HTTP here: the
//! server crate maps these calls to the CSC API.
//!
//! Status: the domain core (the HTTP routes are in `shomei-server`). Not yet here:
//! PKCS#11-held keys, audit anchoring by time-stamps.

#![forbid(unsafe_code)]

pub mod audit;
pub mod demo;
mod error;
pub mod keystore;
mod service;
pub mod store;

pub use error::{Refusal, ServiceError};
pub use keystore::{KeyKind, MasterKey};
pub use service::{
    Authorize, CredentialInfo, Policy, Role, Sad, Service, Session, SignHashes, TotpEnrollment,
    User,
};
pub use store::{Backend, Store};
