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
    /// Teardown in progress; the connection disappears when it is done.
    Deleting,
}

/// The steps of wiring an automatic connection, each recorded once done, so a retried run
/// resumes after the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WiringStep {
    Topic,
    TopicPolicy,
    ConfigurationSet,
    EventDestination,
    Subscription,
}

/// The stored and shown spellings; `parse` is their inverse.
macro_rules! spelled {
    ($type:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

spelled!(ConnectionMode { Manual => "manual", Automatic => "automatic", Role => "role" });
spelled!(ConnectionStatus {
    Pending => "pending",
    Wiring => "wiring",
    Active => "active",
    Unsubscribed => "unsubscribed",
    Error => "error",
    Deleting => "deleting",
});
spelled!(WiringStep {
    Topic => "topic",
    TopicPolicy => "topic_policy",
    ConfigurationSet => "configuration_set",
    EventDestination => "event_destination",
    Subscription => "subscription",
});

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
    /// Automatic mode: all the API ever shows of the customer's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id_last4: Option<String>,
    /// Role mode: the role trackses assumes, with the project's external id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Role mode through the quick-create link: the customer's stack, which owns the role,
    /// topic and configuration set (trackses never deletes them; deleting the stack does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<String>,
    #[serde(skip_serializing)]
    pub wiring_steps: Vec<WiringStep>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Connection {
    /// A connection trackses has just minted an id for; the caller fills in the account.
    pub fn new(project_id: String, mode: ConnectionMode, status: ConnectionStatus) -> Connection {
        let now = Utc::now();
        Connection {
            id: super::ids::connection_id(),
            project_id,
            mode,
            status,
            account_id: String::new(),
            region: String::new(),
            topic_arn: String::new(),
            configuration_set: None,
            last_error: None,
            access_key_id_last4: None,
            role_arn: None,
            stack_id: None,
            wiring_steps: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// The SES configuration set events flow through: the stack's, or the one trackses named.
    pub fn configuration_set_name(&self) -> String {
        self.configuration_set
            .clone()
            .unwrap_or_else(|| crate::customer::account::resource_name(&self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_match_serde_and_round_trip() {
        for status in [
            ConnectionStatus::Pending,
            ConnectionStatus::Wiring,
            ConnectionStatus::Active,
            ConnectionStatus::Unsubscribed,
            ConnectionStatus::Error,
            ConnectionStatus::Deleting,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert_eq!(ConnectionStatus::parse(status.as_str()), Some(status));
        }
        for mode in [
            ConnectionMode::Manual,
            ConnectionMode::Automatic,
            ConnectionMode::Role,
        ] {
            assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
            assert_eq!(ConnectionMode::parse(mode.as_str()), Some(mode));
        }
    }
}
