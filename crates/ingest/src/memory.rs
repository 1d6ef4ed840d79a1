//! An in-memory `IngestStore` for tests, keeping the DynamoDB adapter's conditions and
//! idempotency so that what the pipeline does against it is what it does against the table.
//! Tests set up and observe state through the helpers below; topic routes, as in production,
//! are written only by `route_topic` (a route is what a published proof earns).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SubsecRound, Utc};
use model::connection::{TopicProof, Transition};
use model::{Connection, ConnectionStatus, EventType, Onboarding, Project, Sealed};

use crate::port::{ConnectionRecords, IngestStore, IngestWrite, WriteOutcome};

#[path = "memory_connections.rs"]
mod connections;
#[path = "memory_eventbridge.rs"]
mod eventbridge;

#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error("injected failure of {0}")]
    Injected(&'static str),
    /// A conditional create found its key taken (the table's cancelled transaction).
    #[error("the item already exists")]
    AlreadyExists,
}

/// One stored event, owned: what tests assert on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    pub project_id: String,
    pub connection_id: String,
    pub delivery_id: String,
    pub event_type: EventType,
    pub recipient: String,
    pub ses_message_id: String,
}

#[derive(Default)]
struct State {
    connections: HashMap<String, Connection>,
    /// Topic ARN → connection id.
    routes: HashMap<String, String>,
    /// Token digest → (connection id, expiry).
    proofs: HashMap<String, (String, DateTime<Utc>)>,
    /// The table's delivery markers: keyed by connection too, as there.
    delivered: HashSet<(String, String)>,
    events: Vec<StoredRow>,
    projects: HashMap<String, Project>,
    /// Token digest → the link, and the stack that claimed it.
    onboardings: HashMap<String, (Onboarding, Option<String>)>,
    /// (project, account, region) → the connection that claimed it.
    claims: HashMap<(String, String, String), String>,
    secrets: HashMap<String, Sealed>,
    /// (account, region) → its EventBridge routes.
    eventbridge_routes: HashMap<(String, String), Vec<model::connection::EventBridgeRoute>>,
    failing_calls: usize,
    failing_writes: usize,
}

/// Clones share one state, as handles to one table do: a test keeps a clone to look at what
/// the `Ingestor` it gave the other one did.
#[derive(Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Registers (or replaces) a connection, its times kept to the millisecond as the table does.
    pub fn insert_connection(&self, mut connection: Connection) {
        connection.created_at = millis(connection.created_at);
        connection.updated_at = millis(connection.updated_at);
        connection.topic_proven_at = connection.topic_proven_at.map(millis);
        self.state()
            .connections
            .insert(connection.id.clone(), connection);
    }

    pub fn insert_topic_proof(&self, cid: &str, proof: &TopicProof) {
        self.state().proofs.insert(
            proof.token_sha256.clone(),
            (cid.to_owned(), proof.expires_at),
        );
    }

    pub fn connection(&self, cid: &str) -> Option<Connection> {
        self.state().connections.get(cid).cloned()
    }

    /// Every connection, by id.
    pub fn connections(&self) -> Vec<Connection> {
        let mut all: Vec<_> = self.state().connections.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// Every stored event, in the order written.
    pub fn events(&self) -> Vec<StoredRow> {
        self.state().events.clone()
    }

    /// The next `n` calls of any method fail, before changing anything.
    pub fn fail_next_calls(&self, n: usize) {
        self.state().failing_calls = n;
    }

    /// The next `n` writes fail, before changing anything; reads go through, so a message can
    /// be accepted and then fail to store.
    pub fn fail_next_writes(&self, n: usize) {
        self.state().failing_writes = n;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every change is made after its checks, so a poisoned state is still a consistent one.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self, call: &'static str) -> Result<MutexGuard<'_, State>, MemoryError> {
        let mut state = self.state();
        if state.failing_calls > 0 {
            state.failing_calls -= 1;
            return Err(MemoryError::Injected(call));
        }
        Ok(state)
    }

    fn write(&self, call: &'static str) -> Result<MutexGuard<'_, State>, MemoryError> {
        let mut state = self.read(call)?;
        if state.failing_writes > 0 {
            state.failing_writes -= 1;
            return Err(MemoryError::Injected(call));
        }
        Ok(state)
    }
}

/// The table keeps times as RFC 3339 strings to the millisecond and compares those strings, so
/// two times within the same millisecond are equal there, and must be here.
fn millis(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(3)
}

impl State {
    /// The table's conditional update: the connection exists, is in a state `transition` starts
    /// from, and meets `condition`; reaching `active` clears the last error.
    fn transition(
        &mut self,
        cid: &str,
        transition: Transition,
        last_error: Option<Option<&str>>,
        condition: impl FnOnce(&Connection) -> bool,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(c) = self.connections.get_mut(cid) else {
            return false;
        };
        if !transition.from().contains(&c.status) || !condition(c) {
            return false;
        }
        c.status = transition.to();
        c.updated_at = millis(now);
        match (c.status, last_error) {
            (ConnectionStatus::Active, _) => c.last_error = None,
            (_, Some(error)) => c.last_error = error.map(str::to_owned),
            (_, None) => {}
        }
        true
    }
}

impl ConnectionRecords for MemoryStore {
    type Error = MemoryError;

    async fn get_connection(&self, cid: &str) -> Result<Option<Connection>, MemoryError> {
        Ok(self.read("get_connection")?.connections.get(cid).cloned())
    }

    async fn transition(
        &self,
        cid: &str,
        transition: Transition,
        last_error: Option<Option<&str>>,
        now: DateTime<Utc>,
    ) -> Result<bool, MemoryError> {
        let mut state = self.write("transition")?;
        Ok(state.transition(cid, transition, last_error, |_| true, now))
    }
}

impl IngestStore for MemoryStore {
    async fn connection_for_topic(
        &self,
        topic_arn: &str,
    ) -> Result<Option<Connection>, MemoryError> {
        let state = self.read("connection_for_topic")?;
        let cid = state.routes.get(topic_arn);
        Ok(cid.and_then(|cid| state.connections.get(cid)).cloned())
    }

    async fn topic_proof_connection(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Connection>, MemoryError> {
        let state = self.read("topic_proof_connection")?;
        // The table compares the TTL in whole seconds.
        let valid =
            |(_, expires_at): &&(String, DateTime<Utc>)| expires_at.timestamp() >= now.timestamp();
        let cid = state.proofs.get(token_sha256).filter(valid);
        Ok(cid.and_then(|(cid, _)| state.connections.get(cid)).cloned())
    }

    async fn prove_topic(
        &self,
        connection: &Connection,
        now: DateTime<Utc>,
    ) -> Result<(), MemoryError> {
        let mut state = self.write("prove_topic")?;
        // The topic may have changed since the connection was read: a proof of the old one
        // proves nothing of the new one.
        if let Some(c) = state.connections.get_mut(&connection.id)
            && c.delivery == connection.delivery
        {
            c.topic_proven_at = Some(millis(now));
        }
        Ok(())
    }

    async fn route_topic(&self, connection: &Connection) -> Result<(), MemoryError> {
        let mut state = self.write("route_topic")?;
        if let Some(topic_arn) = connection.topic_arn() {
            state
                .routes
                .insert(topic_arn.to_owned(), connection.id.clone());
        }
        Ok(())
    }

    async fn unsubscribed(
        &self,
        cid: &str,
        removed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, MemoryError> {
        let mut state = self.write("unsubscribed")?;
        // As in the table, a connection never proven has nothing to compare, so it stays.
        let proven_before =
            |c: &Connection| c.topic_proven_at.is_some_and(|p| p < millis(removed_at));
        Ok(state.transition(cid, Transition::Unsubscribed, None, proven_before, now))
    }

    async fn resubscribed(
        &self,
        cid: &str,
        signed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, MemoryError> {
        let mut state = self.write("resubscribed")?;
        let changed_before = |c: &Connection| c.updated_at < millis(signed_at);
        Ok(state.transition(cid, Transition::Resubscribed, None, changed_before, now))
    }

    async fn write_ingest(&self, write: &IngestWrite<'_>) -> Result<WriteOutcome, MemoryError> {
        Ok(self.write("write_ingest")?.write_ingest(write))
    }
}

impl State {
    /// The table's conditional puts: a delivery already stored changes nothing.
    fn write_ingest(&mut self, write: &IngestWrite<'_>) -> WriteOutcome {
        let (cid, message_id) = (write.connection_id, write.delivery_id);
        if !self
            .delivered
            .insert((cid.to_owned(), message_id.to_owned()))
        {
            return WriteOutcome::Duplicate;
        }
        let recipients = &write.notification.recipients;
        let rows = write.events(recipients).map(|e| StoredRow {
            project_id: write.project_id.to_owned(),
            connection_id: e.connection_id.into_owned(),
            delivery_id: message_id.to_owned(),
            event_type: e.event_type,
            recipient: e.recipient.into_owned(),
            ses_message_id: e.ses_message_id.into_owned(),
        });
        self.events.extend(rows);
        WriteOutcome::Stored {
            events: recipients.len(),
        }
    }
}
