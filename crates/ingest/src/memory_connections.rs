//! `MemoryStore` as the connection use cases' store, with the table's conditions: one
//! connection per id, one per (project, account, region) for those trackses wires, a link
//! claimed by one stack.

use chrono::{DateTime, Utc};
use model::connection::{TopicProof, Transition};
use model::{Access, Connection, ConnectionMode, Onboarding, Project, Sealed};

use super::{MemoryError, MemoryStore, millis};
use crate::port::{ConnectionStore, StoreFailure};

impl StoreFailure for MemoryError {
    fn is_already_exists(&self) -> bool {
        matches!(self, MemoryError::AlreadyExists)
    }
}

impl MemoryStore {
    pub fn insert_project(&self, project: Project) {
        self.state().projects.insert(project.id.clone(), project);
    }

    pub fn insert_onboarding(&self, onboarding: Onboarding) {
        let key = onboarding.token_sha256.clone();
        self.state().onboardings.insert(key, (onboarding, None));
    }

    /// The sealed credentials kept for a connection.
    pub fn secret(&self, cid: &str) -> Option<Sealed> {
        self.state().secrets.get(cid).cloned()
    }
}

fn claim(connection: &Connection) -> (String, String, String) {
    (
        connection.project_id.clone(),
        connection.account_id.clone(),
        connection.region.clone(),
    )
}

impl ConnectionStore for MemoryStore {
    async fn get_project(&self, pid: &str) -> Result<Option<Project>, MemoryError> {
        Ok(self.read("get_project")?.projects.get(pid).cloned())
    }

    async fn create_connection(
        &self,
        connection: &Connection,
        secret: Option<&Sealed>,
        topic_proof: Option<&TopicProof>,
    ) -> Result<(), MemoryError> {
        let mut state = self.write("create_connection")?;
        let claims = connection.mode() != ConnectionMode::Manual;
        if state.connections.contains_key(&connection.id)
            || (claims && state.claims.contains_key(&claim(connection)))
        {
            return Err(MemoryError::AlreadyExists);
        }
        let mut stored = connection.clone();
        stored.created_at = millis(stored.created_at);
        stored.updated_at = millis(stored.updated_at);
        if claims {
            state
                .claims
                .insert(claim(connection), connection.id.clone());
        }
        if let Some(secret) = secret {
            state.secrets.insert(connection.id.clone(), secret.clone());
        }
        if let Some(proof) = topic_proof {
            let route = (connection.id.clone(), proof.expires_at);
            state.proofs.insert(proof.token_sha256.clone(), route);
        }
        state.connections.insert(connection.id.clone(), stored);
        Ok(())
    }

    async fn delete_connection(&self, connection: &Connection) -> Result<(), MemoryError> {
        let mut state = self.write("delete_connection")?;
        state.connections.remove(&connection.id);
        state.secrets.remove(&connection.id);
        if connection.mode() != ConnectionMode::Manual {
            state.claims.remove(&claim(connection));
        }
        if let Some(topic_arn) = connection.topic_arn()
            && state.routes.get(topic_arn) == Some(&connection.id)
        {
            state.routes.remove(topic_arn);
        }
        for routes in state.eventbridge_routes.values_mut() {
            routes.retain(|r| r.connection_id != connection.id);
        }
        Ok(())
    }

    async fn onboarding(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Onboarding>, MemoryError> {
        let state = self.read("onboarding")?;
        let link = state.onboardings.get(token_sha256).map(|(o, _)| o);
        Ok(link.filter(|o| o.expires_at > now).cloned())
    }

    async fn claim_onboarding(
        &self,
        token_sha256: &str,
        stack_id: &str,
    ) -> Result<bool, MemoryError> {
        let mut state = self.write("claim_onboarding")?;
        let Some((_, claimed_by)) = state.onboardings.get_mut(token_sha256) else {
            return Ok(false);
        };
        match claimed_by {
            Some(stack) if stack != stack_id => Ok(false),
            _ => {
                *claimed_by = Some(stack_id.to_owned());
                Ok(true)
            }
        }
    }

    async fn update_stack_connection(
        &self,
        cid: &str,
        role_arn: &str,
        configuration_set: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, MemoryError> {
        let mut state = self.write("update_stack_connection")?;
        let updated = state.transition(cid, Transition::StackUpdated, Some(None), |_| true, now);
        if let Some(c) = state.connections.get_mut(cid).filter(|_| updated) {
            if let Access::Role { role_arn: role, .. } = &mut c.access {
                *role = role_arn.to_owned();
            }
            c.configuration_set = Some(configuration_set.to_owned());
        }
        Ok(updated)
    }
}
