//! Envelope encryption of customer credentials: a KMS data key per secret, AES-256-GCM locally,
//! both bound to the owning project and connection.

mod envelope;

pub use envelope::{CryptoError, Envelope, Sealed, SecretContext};
