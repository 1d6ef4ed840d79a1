//! Envelope encryption of customer credentials: a KMS data key per secret, AES-256-GCM locally,
//! both bound to the owning project and connection.

mod envelope;

pub use envelope::{CryptoError, Envelope, Sealed, SecretContext};

/// Tokens trackses hands out (API keys, onboarding tokens) are stored only as this digest.
pub fn sha256_hex(value: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
