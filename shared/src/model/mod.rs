//! Plain data: what trackses knows about projects, connections and SES events.

pub mod connection;
pub mod event;
pub mod ids;
pub mod project;
pub mod topic_arn;

pub use connection::{Connection, ConnectionMode, ConnectionStatus};
pub use event::{EventType, MailSummary, RecipientEvent, SesNotification, Tags};
pub use project::{ApiKeyRecord, Project};
pub use topic_arn::TopicArn;
