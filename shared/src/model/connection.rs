use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionMode {
    Manual,
    Automatic,
    Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Registered; waiting for SNS to confirm the subscription.
    Pending,
    Wiring,
    Active,
    /// SNS told us the subscription was removed.
    Unsubscribed,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    /// Internal: the API shows connections only inside their project.
    #[serde(skip_serializing)]
    pub project_id: String,
    pub mode: ConnectionMode,
    pub status: ConnectionStatus,
    pub account_id: String,
    pub region: String,
    pub topic_arn: String,
    pub configuration_set: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
