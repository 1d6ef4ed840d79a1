//! The ingest core's port, served by the table: each method is the `Store` method of that name.

use chrono::{DateTime, Utc};
use ingest::eventbridge::EventBridgeStore;
use ingest::{IngestStore, IngestWrite, WriteOutcome};
use model::Connection;
use model::connection::EventBridgeRoute;
use model::signals::Signal;

use crate::{Store, StoreError};

impl IngestStore for Store {
    async fn connection_for_topic(
        &self,
        topic_arn: &str,
    ) -> Result<Option<Connection>, StoreError> {
        Store::connection_for_topic(self, topic_arn).await
    }

    async fn topic_proof_connection(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Connection>, StoreError> {
        Store::topic_proof_connection(self, token_sha256, now).await
    }

    async fn prove_topic(
        &self,
        connection: &Connection,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Store::prove_topic(self, connection, now).await
    }

    async fn route_topic(&self, connection: &Connection) -> Result<(), StoreError> {
        Store::route_topic(self, connection).await
    }

    async fn unsubscribed(
        &self,
        cid: &str,
        removed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Store::unsubscribed(self, cid, removed_at, now).await
    }

    async fn resubscribed(
        &self,
        cid: &str,
        signed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Store::resubscribed(self, cid, signed_at, now).await
    }

    async fn write_ingest(&self, write: &IngestWrite<'_>) -> Result<WriteOutcome, StoreError> {
        Store::write_ingest(self, write).await
    }
}

impl EventBridgeStore for Store {
    type Error = StoreError;

    async fn eventbridge_routes(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<Vec<EventBridgeRoute>, StoreError> {
        Store::eventbridge_routes(self, account_id, region).await
    }

    async fn record_signal(&self, cid: &str, signal: &Signal) -> Result<bool, StoreError> {
        Store::record_signal(self, cid, signal).await
    }

    async fn write_ingest(&self, write: &IngestWrite<'_>) -> Result<WriteOutcome, StoreError> {
        Store::write_ingest(self, write).await
    }
}
