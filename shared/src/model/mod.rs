//! Plain data: what trackses knows about projects, connections and SES events.

pub mod connection;
pub mod event;
pub mod ids;
pub mod onboarding;
pub mod project;
pub mod region;
pub mod role_arn;
pub mod stored_event;
pub mod topic_arn;

pub use connection::{Connection, ConnectionMode, ConnectionStatus, WiringStep};
pub use event::{EventType, MailSummary, RecipientEvent, SesNotification, Tags};
pub use onboarding::Onboarding;
pub use project::{ApiKeyRecord, ApiKeyView, KeyScope, Project};
pub use stored_event::{Event, RecipientStatus, StoredEvent};
pub use topic_arn::TopicArn;
