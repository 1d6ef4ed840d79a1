use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    pub id: String,
    pub name: String,
    pub external_id: String,
    pub created_at: DateTime<Utc>,
}

/// What a key may do. `read`: the dashboard and every query. `admin`: also keys, connections,
/// identities and teardown, the routes that act in a customer's account or on access itself.
/// The default is the least privilege: a new key only reads unless asked otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    #[default]
    Read,
    Admin,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Read => "read",
            KeyScope::Admin => "admin",
        }
    }

    /// Keys stored before scopes existed could do everything: they stay admin keys.
    pub fn parse(stored: Option<&str>) -> Option<KeyScope> {
        match stored {
            None | Some("admin") => Some(KeyScope::Admin),
            Some("read") => Some(KeyScope::Read),
            Some(_) => None,
        }
    }

    pub fn allows(self, needed: KeyScope) -> bool {
        self == KeyScope::Admin || needed == KeyScope::Read
    }
}

/// An API key as stored: only its hash, never the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub project_id: String,
    pub secret_sha256: String,
    pub scope: KeyScope,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A key as the API lists it: everything but its hash.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    pub id: String,
    pub label: Option<String>,
    pub scope: KeyScope,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&ApiKeyRecord> for ApiKeyView {
    fn from(key: &ApiKeyRecord) -> ApiKeyView {
        ApiKeyView {
            id: key.id.clone(),
            label: key.label.clone(),
            scope: key.scope,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admin_keys_do_admin_work() {
        assert!(KeyScope::Admin.allows(KeyScope::Admin));
        assert!(KeyScope::Admin.allows(KeyScope::Read));
        assert!(KeyScope::Read.allows(KeyScope::Read));
        assert!(!KeyScope::Read.allows(KeyScope::Admin));
        assert_eq!(KeyScope::parse(None), Some(KeyScope::Admin));
        assert_eq!(KeyScope::parse(Some("root")), None);
    }
}
