//! The one digest trackses keeps instead of a secret.

/// Tokens trackses hands out (API keys, onboarding tokens, topic proofs) are stored only as this.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        value.as_bytes(),
    ))
}
