//! The one pipeline both entry points share: envelope → signature → topic registry → SES parse →
//! idempotent store. The webhook and the direct SNS → Lambda function differ only in how the
//! envelope arrives and how the connection is named.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use model::connection::{EventBridgeRoute, TopicProof, Transition};
use model::{Connection, ConnectionMode, ConnectionStatus, EventType, SesNotification, ids};

use crate::port::{IngestStore, IngestWrite, PortError, WriteOutcome};
use crate::ses::{self, SesError};
use crate::sns::confirm::ConfirmError;
use crate::sns::freshness::{REPLAY_WINDOW, StaleMessage, signed_within_window};
use crate::sns::{CertStore, Confirmer, Envelope, EnvelopeError, MessageType, VerifyError, verify};

/// How the caller names the connection a message is for.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The webhook URL carries the connection id; the topic must be the one registered for it.
    Connection(&'a str),
    /// A direct Lambda subscription carries nothing; the topic registry decides.
    Topic,
}

/// What happened to an accepted message; serialised, what the sender is answered
/// (`{"status": "stored", "events": 2}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Stored { events: usize },
    Duplicate,
    Confirmed,
    Proven,
    Unsubscribed,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("SNS signature check failed: {0}")]
    Signature(#[from] VerifyError),
    #[error("the message's topic is not registered for this connection")]
    UnregisteredTopic,
    #[error(
        "the connection has not proven control of its topic yet (a subscription confirmation at its webhook URL, or its topic proof published to the topic)"
    )]
    UnprovenTopic,
    #[error(transparent)]
    Stale(#[from] StaleMessage),
    #[error("the notification is not an SES event: {0}")]
    NotSes(#[from] SesError),
    #[error(transparent)]
    Confirm(#[from] ConfirmError),
    #[error(transparent)]
    Store(PortError),
}

fn store_failed(error: impl std::error::Error + Send + Sync + 'static) -> IngestError {
    IngestError::Store(Box::new(error))
}

/// What an edge does with an error: refuse the sender, or fail so SNS delivers again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Malformed,
    Forbidden,
    Retry,
}

impl IngestError {
    /// A short, fixed name for metrics and log queries.
    pub fn reason(&self) -> &'static str {
        match self {
            IngestError::Envelope(_) => "envelope",
            IngestError::Signature(_) => "signature",
            IngestError::UnregisteredTopic => "unregistered_topic",
            IngestError::UnprovenTopic => "unproven_topic",
            IngestError::Stale(_) => "stale",
            IngestError::NotSes(_) => "not_ses",
            IngestError::Confirm(_) => "confirm",
            IngestError::Store(_) => "store",
        }
    }

    pub fn disposition(&self) -> Disposition {
        match self {
            IngestError::Envelope(_) | IngestError::NotSes(_) => Disposition::Malformed,
            IngestError::Signature(e) if e.is_transient() => Disposition::Retry,
            IngestError::Signature(_)
            | IngestError::Stale(_)
            | IngestError::UnregisteredTopic
            | IngestError::UnprovenTopic => Disposition::Forbidden,
            IngestError::Confirm(ConfirmError::UntrustedUrl) => Disposition::Forbidden,
            IngestError::Confirm(_) | IngestError::Store(_) => Disposition::Retry,
        }
    }
}

/// The one write of a parsed notification for its connection (named by id and project), whichever
/// carrier delivered it (`delivery_id`: the id every copy of that delivery repeats).
pub(crate) fn ingest_write<'a>(
    connection: ConnectionRef<'a>,
    delivery_id: &'a str,
    notification: &'a SesNotification,
    received_at: DateTime<Utc>,
    retention: Duration,
) -> IngestWrite<'a> {
    if notification.event_type == EventType::Unknown {
        tracing::warn!(raw_type = %notification.raw_type, connection_id = %connection.id, "storing an SES event type trackses does not know");
    }
    IngestWrite {
        project_id: connection.project_id,
        connection_id: connection.id,
        delivery_id,
        notification,
        received_at,
        // A stored event is what a copy or replay of its delivery finds: however short the
        // retention, it stays until no copy inside the replay window can arrive (SNS signs for
        // 23 days; EventBridge retries for a day and the queue keeps for 14).
        expires_at: (received_at + retention.max(REPLAY_WINDOW + Duration::days(1))).timestamp(),
    }
}

/// The ids a write names its connection by.
#[derive(Clone, Copy)]
pub(crate) struct ConnectionRef<'a> {
    pub id: &'a str,
    pub project_id: &'a str,
}

impl<'a> From<&'a EventBridgeRoute> for ConnectionRef<'a> {
    fn from(route: &'a EventBridgeRoute) -> ConnectionRef<'a> {
        ConnectionRef {
            id: &route.connection_id,
            project_id: &route.project_id,
        }
    }
}

impl<'a> From<&'a Connection> for ConnectionRef<'a> {
    fn from(connection: &'a Connection) -> ConnectionRef<'a> {
        ConnectionRef {
            id: &connection.id,
            project_id: &connection.project_id,
        }
    }
}

/// Runs `writing` (the store's `write_ingest` of `write`) and says in the metrics how long it
/// took and what it did: the events it stored, or a duplicate.
pub(crate) async fn counted_write<E>(
    mode: ConnectionMode,
    write: &IngestWrite<'_>,
    writing: impl std::future::Future<Output = Result<WriteOutcome, E>>,
) -> Result<WriteOutcome, E> {
    let started = std::time::Instant::now();
    let outcome = writing.await?;
    runtime::metrics::store_latency(started.elapsed());
    match outcome {
        WriteOutcome::Stored { events } => runtime::metrics::events_stored(
            mode.as_str(),
            write
                .notification
                .event_type
                .ses_name()
                .unwrap_or("Unknown"),
            events,
        ),
        WriteOutcome::Duplicate => runtime::metrics::duplicate_delivery(),
    }
    Ok(outcome)
}

pub struct Ingestor<S> {
    store: S,
    certs: CertStore,
    confirmer: Confirmer,
    retention: Duration,
    clock: Clock,
}

/// What "now" is: the system clock, or a fixed time where a test replays a message signed long
/// ago (the replay window is measured against it).
type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

impl<S: IngestStore> Ingestor<S> {
    pub fn from_config(config: &runtime::Config, store: S) -> Ingestor<S> {
        Ingestor::new(
            store,
            CertStore::new(config.sns_cert_dir.clone()),
            Confirmer::new(config.sns_endpoint.clone()),
            config.retention_days,
        )
    }

    pub fn new(
        store: S,
        certs: CertStore,
        confirmer: Confirmer,
        retention_days: u32,
    ) -> Ingestor<S> {
        Ingestor {
            store,
            certs,
            confirmer,
            retention: Duration::days(i64::from(retention_days)),
            clock: Arc::new(Utc::now),
        }
    }

    /// The same ingestor, reading the time from `clock`.
    pub fn with_clock(self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        Ingestor {
            clock: Arc::new(clock),
            ..self
        }
    }

    /// Everything that costs nothing or one table read comes first; the signature, whose
    /// certificate may have to be fetched, only for a fresh message of a topic some connection
    /// names, so unauthenticated junk can make trackses fetch nothing.
    pub async fn handle(
        &self,
        envelope: &Envelope,
        target: Target<'_>,
    ) -> Result<Outcome, IngestError> {
        let now = (self.clock)();
        let signed_at = signed_within_window(envelope, now)?;
        let proof = match (target, envelope.message_type) {
            (Target::Topic, MessageType::Notification) => TopicProof::hash_of(&envelope.message),
            _ => None,
        };
        let connection = match &proof {
            Some(token_sha256) => self
                .store
                .topic_proof_connection(token_sha256, now)
                .await
                .map_err(store_failed)?,
            None => self.named_connection(envelope, target).await?,
        }
        .filter(|c| c.topic_arn() == Some(envelope.topic_arn.as_str()))
        .ok_or(IngestError::UnregisteredTopic)?;
        verify(envelope, &self.certs).await?;
        if proof.is_some() {
            // The topic's owner published the proof trackses issued to this connection: it also
            // routes the topic's direct deliveries here.
            self.prove(&connection).await?;
            self.store
                .route_topic(&connection)
                .await
                .map_err(store_failed)?;
            tracing::info!(connection_id = %connection.id, topic_arn = %envelope.topic_arn, "topic proven by a published proof");
            return Ok(Outcome::Proven);
        }
        match envelope.message_type {
            MessageType::SubscriptionConfirmation => {
                let region = connection.region.as_str();
                self.confirmer
                    .confirm(
                        envelope.subscribe_url.as_deref().unwrap_or_default(),
                        region,
                    )
                    .await?;
                // The confirmation reached this connection's own URL: only whoever may
                // subscribe endpoints to the topic can have sent it there.
                self.prove(&connection).await?;
                tracing::info!(connection_id = %connection.id, topic_arn = %envelope.topic_arn, "subscription confirmed");
                Ok(Outcome::Confirmed)
            }
            MessageType::UnsubscribeConfirmation => {
                self.store
                    .unsubscribed(&connection.id, signed_at, now)
                    .await
                    .map_err(store_failed)?;
                tracing::warn!(connection_id = %connection.id, topic_arn = %envelope.topic_arn, "subscription removed");
                Ok(Outcome::Unsubscribed)
            }
            MessageType::Notification => {
                self.store_notification(envelope, &connection, signed_at)
                    .await
            }
        }
    }

    async fn prove(&self, connection: &Connection) -> Result<(), IngestError> {
        let now = (self.clock)();
        self.store
            .prove_topic(connection, now)
            .await
            .map_err(store_failed)?;
        self.store
            .transition(&connection.id, Transition::Proven, None, now)
            .await
            .map_err(store_failed)?;
        Ok(())
    }

    /// The connection a message names: by the webhook URL, or on the direct path by the topic's
    /// route (which only a proof writes).
    async fn named_connection(
        &self,
        envelope: &Envelope,
        target: Target<'_>,
    ) -> Result<Option<Connection>, IngestError> {
        Ok(match target {
            Target::Connection(cid) if !ids::is_key_safe(cid) => None,
            Target::Connection(cid) => {
                self.store.get_connection(cid).await.map_err(store_failed)?
            }
            Target::Topic => self
                .store
                .connection_for_topic(&envelope.topic_arn)
                .await
                .map_err(store_failed)?,
        })
    }

    async fn store_notification(
        &self,
        envelope: &Envelope,
        connection: &Connection,
        signed_at: DateTime<Utc>,
    ) -> Result<Outcome, IngestError> {
        if connection.topic_proven_at.is_none() {
            return Err(IngestError::UnprovenTopic);
        }
        let notification = ses::parse(&envelope.message)?;
        let received_at = (self.clock)();
        let write = ingest_write(
            connection.into(),
            &envelope.message_id,
            &notification,
            received_at,
            self.retention,
        );
        let outcome = counted_write(connection.mode(), &write, self.store.write_ingest(&write))
            .await
            .map_err(store_failed)?;
        // A new notification signed after SNS said the subscription was removed: it is back.
        // Nothing else revives a connection (an error or a teardown is not undone by mail
        // arriving), nor does a copy or a late retry of a message signed before the removal.
        if connection.status == ConnectionStatus::Unsubscribed
            && matches!(outcome, WriteOutcome::Stored { .. })
        {
            self.store
                .resubscribed(&connection.id, signed_at, received_at)
                .await
                .map_err(store_failed)?;
        }
        Ok(match outcome {
            WriteOutcome::Stored { events } => Outcome::Stored { events },
            WriteOutcome::Duplicate => Outcome::Duplicate,
        })
    }
}
