//! The Standard Webhooks signature (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 over "id.timestamp.body">`. Chosen over a format of
//! our own so that a receiver verifies with a library it already has (Svix's and the standard's
//! own, in every common language); the timestamp in the signed content bounds replays.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// How a secret is written: the standard's prefix, then the key in base64.
const PREFIX: &str = "whsec_";
/// 256 bits, HMAC-SHA256's block-sized key.
const KEY_BYTES: usize = 32;

/// A signing key. Shown to its owner once, when it is made; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

impl SigningSecret {
    pub fn generate() -> SigningSecret {
        let mut key = Zeroizing::new(vec![0u8; KEY_BYTES]);
        // SystemRandom reads the OS generator; it fails only if the OS has none.
        SystemRandom::new()
            .fill(&mut key)
            .expect("the operating system random generator failed");
        SigningSecret(key)
    }

    /// A secret as `reveal` wrote it.
    pub fn parse(written: &str) -> Option<SigningSecret> {
        let key = STANDARD.decode(written.strip_prefix(PREFIX)?).ok()?;
        (!key.is_empty()).then(|| SigningSecret(Zeroizing::new(key)))
    }

    /// The secret as its owner configures it in a verifying library (`whsec_…`): for the one
    /// response that hands it over, and for storage.
    pub fn reveal(&self) -> Zeroizing<String> {
        Zeroizing::new([PREFIX, &STANDARD.encode(&*self.0)].concat())
    }
}

/// The `webhook-signature` header for `body` sent as message `id` at `timestamp` (Unix seconds):
/// one `v1,` signature per secret, space-separated, so that while a rotated secret is still
/// honoured a receiver holding either verifies.
pub fn sign(secrets: &[&SigningSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    secrets
        .iter()
        .map(|secret| {
            let key = hmac::Key::new(hmac::HMAC_SHA256, &secret.0);
            let mut context = hmac::Context::with_key(&key);
            for part in [id.as_bytes(), b".", timestamp.as_bytes(), b".", body] {
                context.update(part);
            }
            ["v1,", &STANDARD.encode(context.sign().as_ref())].concat()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard's published vector: what says a receiver's library accepts ours.
    #[test]
    fn the_standard_webhooks_test_vector_reproduces() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &[&secret],
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_round_trips_and_never_prints() {
        let secret = SigningSecret::generate();
        let written = secret.reveal();
        assert!(written.starts_with("whsec_"));
        assert_eq!(SigningSecret::parse(&written), Some(secret.clone()));
        assert!(!format!("{secret:?}").contains(&written[6..]));
        assert_eq!(
            SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            None
        );
        assert_eq!(SigningSecret::parse("whsec_"), None);
    }

    #[test]
    fn each_secret_signs_and_they_differ() {
        let (a, b) = (SigningSecret::generate(), SigningSecret::generate());
        let both = sign(&[&a, &b], "id", 1, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(
            parts,
            [sign(&[&a], "id", 1, b"{}"), sign(&[&b], "id", 1, b"{}")]
        );
        assert_ne!(parts[0], parts[1]);
    }
}
