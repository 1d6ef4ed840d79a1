//! Identifiers trackses mints. Prefixes make a pasted id self-describing; ULIDs sort by creation.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

pub fn project_id() -> String {
    format!("prj_{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub fn connection_id() -> String {
    format!("con_{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub fn endpoint_id() -> String {
    format!("ep_{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub fn alert_rule_id() -> String {
    format!("rule_{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub fn channel_id() -> String {
    format!("ch_{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// Alert ids sort by opening: a project's history pages on them.
pub fn alert_id() -> String {
    ulid::Ulid::new().to_string()
}

pub fn api_key_id() -> String {
    format!("key{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// Event ids sort by arrival, which is what the live tail (`after=`) pages on.
pub fn event_id() -> String {
    ulid::Ulid::new().to_string()
}

/// `n` bytes from the OS CSPRNG, hex encoded.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // SystemRandom reads the OS generator; it fails only if the OS has none, which is unrecoverable.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system random generator failed");
    hex::encode(bytes)
}

/// STS allows `[\w+=,.@:/-]` in an external id; hex is a subset and 20 bytes give 160 bits.
pub fn external_id() -> String {
    format!("trackses-{}", random_hex(20))
}

/// Whether a client-supplied identifier may become part of a table key: bounded (DynamoDB
/// refuses keys over 1-2 KB, which would otherwise surface as a server error) and free of the
/// `#` that separates key parts.
pub fn is_key_safe(id: &str) -> bool {
    (1..=200).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@+=:-".contains(&b))
}

/// An AWS account id: twelve digits.
pub fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_safe_ids() {
        assert!(is_key_safe("prj_01m83vb6dxc6hd6xj6r76x0vrw"));
        assert!(is_key_safe(
            "0102017cda9fa5c6-be6757c7-8954-4f49-bea4-259cb6e602de-000000"
        ));
        for bad in ["", "a#b", "a/b", "a b", "ü", &"x".repeat(201)] {
            assert!(!is_key_safe(bad), "{bad}");
        }
    }

    #[test]
    fn external_ids_use_only_what_sts_allows() {
        let id = external_id();
        assert!(id.len() >= 2 + 32, "at least 128 bits");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/-_".contains(&b))
        );
        assert_ne!(id, external_id());
    }
}
