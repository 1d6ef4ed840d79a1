//! The connection use cases' ports, served by the table: each method is the `Store` method of
//! that name.

use chrono::{DateTime, Utc};
use ingest::{ConnectionRecords, ConnectionStore, StoreFailure};
use model::connection::{TopicProof, Transition};
use model::{Connection, Onboarding, Project, Sealed};

use crate::{Store, StoreError};

impl StoreFailure for StoreError {
    fn is_already_exists(&self) -> bool {
        matches!(self, StoreError::AlreadyExists)
    }
}

impl ConnectionRecords for Store {
    type Error = StoreError;

    async fn get_connection(&self, cid: &str) -> Result<Option<Connection>, StoreError> {
        Store::get_connection(self, cid).await
    }

    async fn transition(
        &self,
        cid: &str,
        transition: Transition,
        last_error: Option<Option<&str>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Store::transition(self, cid, transition, last_error, now).await
    }
}

impl ConnectionStore for Store {
    async fn get_project(&self, pid: &str) -> Result<Option<Project>, StoreError> {
        Store::get_project(self, pid).await
    }

    async fn create_connection(
        &self,
        connection: &Connection,
        secret: Option<&Sealed>,
        topic_proof: Option<&TopicProof>,
    ) -> Result<(), StoreError> {
        Store::create_connection(self, connection, secret, topic_proof).await
    }

    async fn delete_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        Store::delete_connection(self, connection).await
    }

    async fn onboarding(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Onboarding>, StoreError> {
        Store::onboarding(self, token_sha256, now).await
    }

    async fn claim_onboarding(
        &self,
        token_sha256: &str,
        stack_id: &str,
    ) -> Result<bool, StoreError> {
        Store::claim_onboarding(self, token_sha256, stack_id).await
    }

    async fn update_stack_connection(
        &self,
        cid: &str,
        role_arn: &str,
        configuration_set: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Store::update_stack_connection(self, cid, role_arn, configuration_set, now).await
    }
}
