//! What the use cases need of storage, and nothing more: the ports an adapter (`store`'s
//! DynamoDB one, or `memory` in tests) implements. `IngestStore` for the pipeline,
//! `ConnectionStore` for connecting an account and for the stack callback.

use std::borrow::Cow;
use std::future::Future;

use chrono::{DateTime, Utc};
use model::connection::TopicProof;
use model::connection::Transition;
use model::{Connection, Event, Onboarding, Project, RecipientEvent, Sealed, SesNotification, ids};

/// One verified SES notification, ready to store: idempotent on `delivery_id`, the id its
/// carrier gave this delivery (SNS's `MessageId`, EventBridge's event `id`), which every
/// redelivered copy repeats.
pub struct IngestWrite<'a> {
    pub project_id: &'a str,
    pub connection_id: &'a str,
    pub delivery_id: &'a str,
    pub notification: &'a SesNotification,
    pub received_at: DateTime<Utc>,
    /// Epoch seconds after which the event expires (DynamoDB's TTL removes it).
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Stored {
        events: usize,
    },
    /// The same SNS message was stored before: nothing changed.
    Duplicate,
}

impl<'n> IngestWrite<'n> {
    /// One event per recipient, borrowing everything the recipients share.
    pub fn events<'r>(&self, recipients: &'r [RecipientEvent]) -> impl Iterator<Item = Event<'r>>
    where
        'n: 'r,
    {
        let n: &'n SesNotification = self.notification;
        let (received_at, connection_id) = (self.received_at, self.connection_id);
        recipients.iter().map(move |r| Event {
            id: Cow::Owned(ids::event_id()),
            event_type: n.event_type,
            ses_message_id: Cow::Borrowed(&n.mail.ses_message_id),
            recipient: Cow::Borrowed(&r.recipient),
            occurred_at: n.occurred_at,
            received_at,
            connection_id: Cow::Borrowed(connection_id),
            source: Cow::Borrowed(&n.mail.source),
            subject: n.mail.subject.as_deref().map(Cow::Borrowed),
            tags: Cow::Borrowed(&n.mail.tags),
            details: Cow::Borrowed(&r.details),
        })
    }
}

/// A store failure: the pipeline retries whatever it is (SNS or Lambda delivers again).
pub type PortError = Box<dyn std::error::Error + Send + Sync>;

/// What every use case reads and changes of a connection: its record and its status.
pub trait ConnectionRecords: Send + Sync + 'static {
    type Error: StoreFailure;

    fn get_connection(
        &self,
        cid: &str,
    ) -> impl Future<Output = Result<Option<Connection>, Self::Error>> + Send;

    /// Applies `transition` if the connection is in one of the states it starts from; whether
    /// it did.
    fn transition(
        &self,
        cid: &str,
        transition: Transition,
        last_error: Option<Option<&str>>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// The reads and conditional writes the pipeline makes. Every write is conditional or idempotent,
/// so a retried delivery changes nothing twice.
pub trait IngestStore: ConnectionRecords {
    /// The connection a proven topic routes its direct deliveries to.
    fn connection_for_topic(
        &self,
        topic_arn: &str,
    ) -> impl Future<Output = Result<Option<Connection>, Self::Error>> + Send;

    /// The connection an unexpired topic proof (by its token's digest) was issued to.
    fn topic_proof_connection(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Connection>, Self::Error>> + Send;

    /// Marks the connection's topic proven, if the connection still names that topic.
    fn prove_topic(
        &self,
        connection: &Connection,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Routes the connection's topic to it (direct deliveries name no connection).
    fn route_topic(
        &self,
        connection: &Connection,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// SNS said the subscription was removed at `removed_at`: only a proof older than that ends.
    fn unsubscribed(
        &self,
        cid: &str,
        removed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// A notification signed at `signed_at`, after the connection last changed, revives it.
    fn resubscribed(
        &self,
        cid: &str,
        signed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Stores the notification's events once, however often it arrives.
    fn write_ingest(
        &self,
        write: &IngestWrite<'_>,
    ) -> impl Future<Output = Result<WriteOutcome, Self::Error>> + Send;
}

/// What a store's error says beyond "failed": whether a conditional create found its key taken.
pub trait StoreFailure: std::error::Error + Send + Sync + 'static {
    fn is_already_exists(&self) -> bool;
}

/// The reads and conditional writes of the connection use cases (connect, the stack callback):
/// the same contract as `IngestStore`, every write conditional or idempotent.
pub trait ConnectionStore: ConnectionRecords {
    fn get_project(
        &self,
        pid: &str,
    ) -> impl Future<Output = Result<Option<Project>, Self::Error>> + Send;

    /// Registers the connection, all or nothing: one that wires the account also claims the
    /// project's (account, region) and brings its sealed credentials; a manual one may bring its
    /// topic proof. A taken id or claim fails with an error that `is_already_exists`.
    fn create_connection(
        &self,
        connection: &Connection,
        secret: Option<&Sealed>,
        topic_proof: Option<&TopicProof>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Forgets the connection, its secret and claim, and its topic's route if still its own.
    fn delete_connection(
        &self,
        connection: &Connection,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// The link a token digest belongs to, while it is valid.
    fn onboarding(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Onboarding>, Self::Error>> + Send;

    /// Binds the link to the stack that used it; false when another stack got there first.
    fn claim_onboarding(
        &self,
        token_sha256: &str,
        stack_id: &str,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// A stack's update: its role and set, to be checked again (`Transition::StackUpdated`);
    /// whether it applied.
    fn update_stack_connection(
        &self,
        cid: &str,
        role_arn: &str,
        configuration_set: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}
