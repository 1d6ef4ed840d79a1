use chrono::{DateTime, Duration, Utc};

use super::ids;
use crate::digest::sha256_hex;

/// How long a quick-create link stays usable: long enough to hand it to whoever may create
/// stacks in the customer's account.
pub const LINK_VALIDITY: Duration = Duration::days(7);

/// A role-mode link handed out: which project and connection id a stack's `ConnectionToken`
/// stands for. Only the token's hash is stored; the stack that used it, beside it in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Onboarding {
    pub token_sha256: String,
    pub project_id: String,
    /// Minted with the link, because the link's webhook URL already names it.
    pub connection_id: String,
    pub region: String,
    pub expires_at: DateTime<Utc>,
}

impl Onboarding {
    /// A new link's token (shown once, in the link) and the record to store.
    pub fn mint(project_id: &str, region: &str, now: DateTime<Utc>) -> (String, Onboarding) {
        // 192 bits, and only characters the template's AllowedPattern takes.
        let token = format!("ct_{}", ids::random_hex(24));
        let record = Onboarding {
            token_sha256: sha256_hex(&token),
            project_id: project_id.to_owned(),
            connection_id: ids::connection_id(),
            region: region.to_owned(),
            expires_at: now + LINK_VALIDITY,
        };
        (token, record)
    }
}
