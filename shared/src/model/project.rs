use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub external_id: String,
    pub created_at: DateTime<Utc>,
}

/// An API key as stored: only its hash, never the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub project_id: String,
    pub secret_sha256: String,
    pub created_at: DateTime<Utc>,
}
