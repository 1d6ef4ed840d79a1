use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use url::Url;

use crate::digest::sha256_hex;
use crate::signals::AccountSignals;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionMode {
    Manual,
    Automatic,
    Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Every change of a connection's status, and the states it may start from: a change attempted
/// from any other state does nothing (the store makes it a conditional write, so a late or
/// replayed message cannot undo a newer state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// SNS confirmed the subscription at the connection's own webhook URL, or the topic's owner
    /// published the connection's proof to it: the topic is proven to be the project's.
    Proven,
    /// A notification arrived after SNS said the subscription had been removed.
    Resubscribed,
    /// SNS said the subscription was removed (only a confirmation newer than the proof counts).
    Unsubscribed,
    /// Wiring found the subscription already confirmed.
    Wired,
    /// Wiring stopped on something that clears by itself; it is retried.
    WiringRetrying,
    /// Wiring stopped on something only the user can fix; it overrides `active` too, since the
    /// webhook may have confirmed while the role turned out to be unusable.
    WiringFailed,
    /// A customer stack replaced its role or set: checked again from the start.
    StackUpdated,
    TeardownStarted,
    /// The teardown could not be handed to the wiring function: back to where it was.
    TeardownNotStarted(ConnectionStatus),
    /// The teardown stopped on something that clears by itself; it is retried.
    TeardownRetrying,
    TeardownFailed,
}

impl Transition {
    pub fn to(self) -> ConnectionStatus {
        use ConnectionStatus as S;
        match self {
            Transition::Proven | Transition::Resubscribed | Transition::Wired => S::Active,
            Transition::Unsubscribed => S::Unsubscribed,
            Transition::WiringRetrying | Transition::StackUpdated => S::Wiring,
            Transition::WiringFailed | Transition::TeardownFailed => S::Error,
            Transition::TeardownStarted | Transition::TeardownRetrying => S::Deleting,
            Transition::TeardownNotStarted(previous) => previous,
        }
    }

    pub fn from(self) -> &'static [ConnectionStatus] {
        use ConnectionStatus as S;
        match self {
            Transition::Proven => &[S::Pending, S::Wiring, S::Unsubscribed],
            Transition::Resubscribed => &[S::Unsubscribed],
            Transition::Unsubscribed => &[S::Active],
            Transition::Wired | Transition::WiringRetrying => &[S::Wiring, S::Error],
            Transition::WiringFailed => &[S::Wiring, S::Error, S::Active],
            Transition::StackUpdated => {
                &[S::Pending, S::Wiring, S::Active, S::Unsubscribed, S::Error]
            }
            Transition::TeardownStarted => {
                &[S::Pending, S::Wiring, S::Active, S::Unsubscribed, S::Error]
            }
            Transition::TeardownNotStarted(_)
            | Transition::TeardownRetrying
            | Transition::TeardownFailed => &[S::Deleting],
        }
    }
}

/// Where SNS delivers for connection `cid`, under `base` (the webhook's function URL, or the
/// deployment's public URL where it has none).
pub fn webhook_url(base: &Url, cid: &str) -> String {
    [webhook_prefix(base).as_str(), cid].concat()
}

/// What every webhook URL under `base` starts with: the only endpoints trackses ever subscribes
/// to a customer's topic.
pub fn webhook_prefix(base: &Url) -> String {
    format!("{}/v1/hooks/sns/", base.as_str().trim_end_matches('/'))
}

/// What a manual connection's owner publishes to the topic to prove control of it for the direct
/// SNS → Lambda path (which, unlike the webhook, receives no subscription confirmation).
pub const TOPIC_PROOF_PREFIX: &str = "trackses-topic-proof:";

/// How long a topic proof can be published: as long as a quick-create link lives.
pub const TOPIC_PROOF_VALIDITY: Duration = Duration::days(7);

/// A topic proof handed out; only the token's hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicProof {
    pub token_sha256: String,
    pub expires_at: DateTime<Utc>,
}

impl TopicProof {
    /// The message to publish (shown once) and the record to store.
    pub fn mint(now: DateTime<Utc>) -> (String, TopicProof) {
        let token = format!("tp_{}", super::ids::random_hex(24));
        let record = TopicProof {
            token_sha256: sha256_hex(&token),
            expires_at: now + TOPIC_PROOF_VALIDITY,
        };
        ([TOPIC_PROOF_PREFIX, &token].concat(), record)
    }

    /// The stored hash a published message stands for, if it is a topic proof at all.
    pub fn hash_of(message: &str) -> Option<String> {
        let token = message.trim().strip_prefix(TOPIC_PROOF_PREFIX)?;
        (token.len() <= 64 && token.starts_with("tp_")).then(|| sha256_hex(token))
    }
}

/// How trackses reaches the account, with what each way keeps: a connection's mode and its
/// fields cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Access {
    /// The customer wired the account; trackses holds nothing of theirs.
    Manual,
    /// A pasted IAM key, sealed apart from the connection.
    Automatic {
        /// All the API ever shows of the customer's key.
        access_key_id_last4: String,
    },
    /// A role trackses assumes with the project's external id.
    Role {
        role_arn: String,
        /// Present when the quick-create stack made the role.
        #[serde(flatten)]
        stack: Option<Stack>,
    },
}

/// The customer's stack, which owns the role, topic and configuration set: trackses never
/// deletes them; deleting the stack does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stack {
    pub stack_id: String,
    /// The SHA-256 of the stack's ConnectionToken, which its Update and Delete requests must
    /// carry; `None` for a stack made before the hash was kept.
    #[serde(skip_serializing)]
    pub token_sha256: Option<String>,
}

impl Access {
    pub fn mode(&self) -> ConnectionMode {
        match self {
            Access::Manual => ConnectionMode::Manual,
            Access::Automatic { .. } => ConnectionMode::Automatic,
            Access::Role { .. } => ConnectionMode::Role,
        }
    }
}

/// How SES's events reach trackses for a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "delivery", rename_all = "snake_case")]
pub enum Delivery {
    /// SES publishes to a topic; SNS delivers to the connection's webhook URL or, for a manual
    /// connection, to the direct SNS → Lambda function.
    Sns { topic_arn: String },
    /// SES publishes to the account's default EventBridge bus, whose rules (the customer stack's)
    /// forward the configuration set's events and the account's signals to trackses' bus.
    #[serde(rename = "eventbridge")]
    EventBridge,
}

impl Delivery {
    pub fn as_str(&self) -> &'static str {
        match self {
            Delivery::Sns { .. } => "sns",
            Delivery::EventBridge => "eventbridge",
        }
    }
}

/// A connection an account's forwarded EventBridge events may be stored for: its configuration
/// set's mail events, and every signal of the account. Only a role that proved the account
/// (with the project's external id) makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBridgeRoute {
    pub configuration_set: String,
    pub connection_id: String,
    pub project_id: String,
}

/// Where a connection's events come from: the account and region, and how SES delivers them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub account_id: String,
    pub region: String,
    pub delivery: Delivery,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Connection {
    pub id: String,
    /// Internal: the API shows connections only inside their project.
    #[serde(skip_serializing)]
    pub project_id: String,
    #[serde(flatten)]
    pub access: Access,
    pub status: ConnectionStatus,
    pub account_id: String,
    pub region: String,
    #[serde(flatten)]
    pub delivery: Delivery,
    pub configuration_set: Option<String>,
    pub last_error: Option<String>,
    #[serde(skip_serializing)]
    pub wiring_steps: Vec<WiringStep>,
    /// When the project proved control of the topic (a subscription confirmation at this
    /// connection's URL, or its proof published to the topic). Until then no event of the topic
    /// is stored for it. For EventBridge delivery: when the role first proved the account.
    pub topic_proven_at: Option<DateTime<Utc>>,
    /// What the account's own EventBridge events last said (EventBridge delivery only).
    #[serde(skip_serializing_if = "AccountSignals::is_empty")]
    pub signals: AccountSignals,
    /// The identities trackses attached its set to, through this API: health checks see when
    /// one no longer uses it.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub attached_identities: BTreeSet<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Connection {
    /// A new connection, under an id minted with `ids::connection_id` (its trackses-* resources
    /// are named after it, so it may be needed before the connection is).
    pub fn new(
        id: String,
        project_id: String,
        access: Access,
        status: ConnectionStatus,
        source: Source,
    ) -> Connection {
        let now = Utc::now();
        Connection {
            id,
            project_id,
            access,
            status,
            account_id: source.account_id,
            region: source.region,
            delivery: source.delivery,
            configuration_set: None,
            last_error: None,
            wiring_steps: Vec::new(),
            topic_proven_at: None,
            signals: AccountSignals::default(),
            attached_identities: BTreeSet::new(),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn mode(&self) -> ConnectionMode {
        self.access.mode()
    }

    /// The topic SES publishes to, for SNS delivery.
    pub fn topic_arn(&self) -> Option<&str> {
        match &self.delivery {
            Delivery::Sns { topic_arn } => Some(topic_arn),
            Delivery::EventBridge => None,
        }
    }

    /// The role trackses assumes (role mode).
    pub fn role_arn(&self) -> Option<&str> {
        match &self.access {
            Access::Role { role_arn, .. } => Some(role_arn),
            _ => None,
        }
    }

    /// The customer's stack that made the connection (quick-create role mode).
    pub fn stack(&self) -> Option<&Stack> {
        match &self.access {
            Access::Role { stack, .. } => stack.as_ref(),
            _ => None,
        }
    }

    /// The SES configuration set events flow through: the stack's, or the one trackses named.
    pub fn configuration_set_name(&self) -> String {
        self.configuration_set
            .clone()
            .unwrap_or_else(|| crate::naming::resource_name(&self.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(access: Access) -> Connection {
        let source = Source {
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            delivery: Delivery::Sns {
                topic_arn: "arn:aws:sns:eu-west-1:123456789012:trackses-x".into(),
            },
        };
        Connection::new(
            "con_x".into(),
            "prj_x".into(),
            access,
            ConnectionStatus::Wiring,
            source,
        )
    }

    /// The API shows each mode with its own fields and never a stack's token hash.
    #[test]
    fn a_connection_shows_its_mode_with_its_own_fields() {
        let automatic = serde_json::to_value(connection(Access::Automatic {
            access_key_id_last4: "WXYZ".into(),
        }))
        .unwrap();
        assert_eq!(automatic["mode"], "automatic");
        assert_eq!(automatic["access_key_id_last4"], "WXYZ");
        assert!(automatic.get("role_arn").is_none() && automatic.get("project_id").is_none());

        let stack = Stack {
            stack_id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1".into(),
            token_sha256: Some("secret-hash".into()),
        };
        let role = connection(Access::Role {
            role_arn: "arn:aws:iam::123456789012:role/trackses".into(),
            stack: Some(stack),
        });
        let shown = serde_json::to_value(&role).unwrap();
        assert_eq!(shown["mode"], "role");
        assert_eq!(shown["role_arn"], "arn:aws:iam::123456789012:role/trackses");
        assert_eq!(
            shown["stack_id"],
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1"
        );
        assert!(!shown.to_string().contains("secret-hash"), "{shown}");
        assert_eq!(role.mode(), ConnectionMode::Role);

        let manual = serde_json::to_value(connection(Access::Manual)).unwrap();
        assert_eq!(manual["mode"], "manual");
        assert!(manual.get("stack_id").is_none() && manual.get("access_key_id_last4").is_none());
    }

    #[test]
    fn a_published_proof_names_its_hash() {
        let (message, proof) = TopicProof::mint(Utc::now());
        assert_eq!(TopicProof::hash_of(&message), Some(proof.token_sha256));
        assert_eq!(TopicProof::hash_of("tp_abc"), None);
        assert_eq!(TopicProof::hash_of(&format!("{TOPIC_PROOF_PREFIX}x")), None);
    }

    #[test]
    fn no_transition_leaves_deleting_but_the_teardown_itself() {
        use ConnectionStatus as S;
        for transition in [
            Transition::Proven,
            Transition::Resubscribed,
            Transition::Unsubscribed,
            Transition::Wired,
            Transition::WiringRetrying,
            Transition::WiringFailed,
            Transition::StackUpdated,
            Transition::TeardownStarted,
        ] {
            assert!(!transition.from().contains(&S::Deleting), "{transition:?}");
        }
        // A notification revives only a removed subscription, never an error or a teardown.
        assert_eq!(Transition::Resubscribed.from(), &[S::Unsubscribed]);
        assert!(!Transition::Proven.from().contains(&S::Error));
    }

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
