//! Identifiers trackses mints. Prefixes make a pasted id self-describing; ULIDs sort by creation.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

pub fn project_id() -> String {
    format!("prj_{}", ulid::Ulid::new().to_string().to_lowercase())
}

pub fn connection_id() -> String {
    format!("con_{}", ulid::Ulid::new().to_string().to_lowercase())
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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// STS allows `[\w+=,.@:/-]` in an external id; hex is a subset and 20 bytes give 160 bits.
pub fn external_id() -> String {
    format!("trackses-{}", random_hex(20))
}
