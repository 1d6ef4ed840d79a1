//! Plain data: what trackses knows about projects, connections and SES events, the names it
//! gives customer resources, and the wiring protocol. No I/O and no AWS SDK: every other crate
//! builds on this one.

pub mod alert;
pub mod connection;
pub mod digest;
pub mod endpoint;
pub mod event;
pub mod ids;
pub mod naming;
pub mod onboarding;
pub mod project;
pub mod region;
pub mod role_arn;
pub mod sealed;
pub mod signals;
pub mod stored_event;
pub mod topic_arn;
pub mod wiring;

pub use alert::{Alert, AlertRule, Channel, ChannelKind, ChannelStatus, Condition, Scope};
pub use connection::{
    Access, Connection, ConnectionMode, ConnectionStatus, Delivery, Source, Stack, WiringStep,
};
pub use digest::sha256_hex;
pub use endpoint::{DeadLetter, Endpoint};
pub use event::{EventType, MailSummary, RecipientEvent, SesNotification, Tags};
pub use onboarding::Onboarding;
pub use project::{ApiKeyRecord, ApiKeyView, KeyScope, Project};
pub use sealed::Sealed;
pub use stored_event::{Event, RecipientStatus, StoredEvent};
pub use topic_arn::TopicArn;
