//! The one pipeline both entry points share: envelope → signature → topic registry → SES parse →
//! idempotent store. The webhook and the direct SNS → Lambda function differ only in how the
//! envelope arrives and how the connection is named.

use chrono::{Duration, Utc};

use crate::model::connection::{TopicProof, Transition};
use crate::model::{Connection, ConnectionStatus};
use crate::ses::{self, SesError};
use crate::sns::confirm::ConfirmError;
use crate::sns::{CertStore, Confirmer, Envelope, EnvelopeError, MessageType, VerifyError, verify};
use crate::store::{IngestWrite, Store, StoreError, WriteOutcome};

/// How the caller names the connection a message is for.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The webhook URL carries the connection id; the topic must be the one registered for it.
    Connection(&'a str),
    /// A direct Lambda subscription carries nothing; the topic registry decides.
    Topic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    #[error("the notification is not an SES event: {0}")]
    NotSes(#[from] SesError),
    #[error(transparent)]
    Confirm(#[from] ConfirmError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an edge does with an error: refuse the sender, or fail so SNS delivers again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Malformed,
    Forbidden,
    Retry,
}

impl IngestError {
    pub fn disposition(&self) -> Disposition {
        match self {
            IngestError::Envelope(_) | IngestError::NotSes(_) => Disposition::Malformed,
            IngestError::Signature(e) if e.is_transient() => Disposition::Retry,
            IngestError::Signature(_)
            | IngestError::UnregisteredTopic
            | IngestError::UnprovenTopic => Disposition::Forbidden,
            IngestError::Confirm(ConfirmError::UntrustedUrl) => Disposition::Forbidden,
            IngestError::Confirm(_) | IngestError::Store(_) => Disposition::Retry,
        }
    }
}

pub struct Ingestor {
    store: Store,
    certs: CertStore,
    confirmer: Confirmer,
    retention: Duration,
}

impl Ingestor {
    pub fn from_config(config: &crate::config::Config, store: Store) -> Ingestor {
        Ingestor::new(
            store,
            CertStore::new(config.sns_cert_dir.clone()),
            Confirmer::new(config.sns_endpoint.clone()),
            config.retention_days,
        )
    }

    pub fn new(
        store: Store,
        certs: CertStore,
        confirmer: Confirmer,
        retention_days: u32,
    ) -> Ingestor {
        Ingestor {
            store,
            certs,
            confirmer,
            retention: Duration::days(i64::from(retention_days)),
        }
    }

    pub async fn handle(
        &self,
        envelope: &Envelope,
        target: Target<'_>,
    ) -> Result<Outcome, IngestError> {
        verify(envelope, &self.certs).await?;
        if let (Target::Topic, MessageType::Notification) = (target, envelope.message_type)
            && let Some(token_sha256) = TopicProof::hash_of(&envelope.message)
        {
            return self.prove_by_publish(envelope, &token_sha256).await;
        }
        let connection = self.registered_connection(envelope, target).await?;
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
                let removed_at = envelope.signed_at().ok_or(EnvelopeError::Malformed(
                    "Timestamp is not an RFC 3339 time".into(),
                ))?;
                self.store
                    .unsubscribed(&connection.id, removed_at, Utc::now())
                    .await?;
                tracing::warn!(connection_id = %connection.id, topic_arn = %envelope.topic_arn, "subscription removed");
                Ok(Outcome::Unsubscribed)
            }
            MessageType::Notification => self.store_notification(envelope, &connection).await,
        }
    }

    /// A topic's owner published the proof trackses issued to a connection of that topic.
    async fn prove_by_publish(
        &self,
        envelope: &Envelope,
        token_sha256: &str,
    ) -> Result<Outcome, IngestError> {
        let connection = self
            .store
            .topic_proof_connection(token_sha256, Utc::now())
            .await?
            .filter(|c| c.topic_arn == envelope.topic_arn)
            .ok_or(IngestError::UnregisteredTopic)?;
        self.prove(&connection).await?;
        tracing::info!(connection_id = %connection.id, topic_arn = %envelope.topic_arn, "topic proven by a published proof");
        Ok(Outcome::Proven)
    }

    async fn prove(&self, connection: &Connection) -> Result<(), IngestError> {
        let now = Utc::now();
        self.store.prove_topic(connection, now).await?;
        self.store
            .transition(&connection.id, Transition::Proven, None, now)
            .await?;
        Ok(())
    }

    /// The connection a message is for: named by the webhook URL (its topic must match), or
    /// routed from a proven topic on the direct path.
    async fn registered_connection(
        &self,
        envelope: &Envelope,
        target: Target<'_>,
    ) -> Result<Connection, IngestError> {
        let connection = match target {
            Target::Connection(cid) if !crate::model::ids::is_key_safe(cid) => None,
            Target::Connection(cid) => self.store.get_connection(cid).await?,
            Target::Topic => self.store.connection_for_topic(&envelope.topic_arn).await?,
        };
        connection
            .filter(|c| c.topic_arn == envelope.topic_arn)
            .ok_or(IngestError::UnregisteredTopic)
    }

    async fn store_notification(
        &self,
        envelope: &Envelope,
        connection: &Connection,
    ) -> Result<Outcome, IngestError> {
        if connection.topic_proven_at.is_none() {
            return Err(IngestError::UnprovenTopic);
        }
        let notification = ses::parse(&envelope.message)?;
        if notification.event_type == crate::model::EventType::Unknown {
            tracing::warn!(raw_type = %notification.raw_type, connection_id = %connection.id, "storing an SES event type trackses does not know");
        }
        let received_at = Utc::now();
        let write = IngestWrite {
            project_id: &connection.project_id,
            connection_id: &connection.id,
            sns_message_id: &envelope.message_id,
            notification: &notification,
            received_at,
            expires_at: (received_at + self.retention).timestamp(),
        };
        let outcome = self.store.write_ingest(&write).await?;
        // A notification after SNS said the subscription was removed: it is back. Nothing else
        // revives a connection (an error or a teardown is not undone by mail arriving).
        if connection.status == ConnectionStatus::Unsubscribed {
            self.store
                .transition(&connection.id, Transition::Resubscribed, None, received_at)
                .await?;
        }
        Ok(match outcome {
            WriteOutcome::Stored { events } => Outcome::Stored { events },
            WriteOutcome::Duplicate => Outcome::Duplicate,
        })
    }
}

pub mod direct;
