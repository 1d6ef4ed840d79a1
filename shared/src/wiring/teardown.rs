//! Teardown: detach trackses' set from the identities that use it, delete the set (its event
//! destination goes with it) and the topic (its subscriptions go with it), then forget the
//! connection and its sealed credentials. Every step is safe to repeat.

use chrono::Utc;

use super::{Reply, Wiring, WiringError};
use crate::customer::CustomerAccount;
use crate::model::Connection;
use crate::model::connection::Transition;

impl Wiring {
    pub(super) async fn teardown(&self, connection: &Connection) -> Result<Reply, WiringError> {
        let removed = match self.account(connection).await {
            Ok(account) => remove_resources(&account, connection).await,
            Err(WiringError::Account(error)) => Err(error),
            Err(other) => return Err(other),
        };
        if let Err(error) = removed {
            let transient = error.is_transient();
            let detail = format!(
                "teardown stopped: {error}. Fix it and delete the connection again, or remove {} yourself",
                connection.configuration_set_name()
            );
            let transition = if transient {
                Transition::TeardownRetrying
            } else {
                Transition::TeardownFailed
            };
            self.store
                .transition(&connection.id, transition, Some(Some(&detail)), Utc::now())
                .await?;
            tracing::warn!(connection_id = %connection.id, transient, error = %error, "teardown stopped");
            return if transient {
                Err(WiringError::Account(error))
            } else {
                Ok(Reply::Done)
            };
        }
        self.store.delete_connection(connection).await?;
        tracing::info!(connection_id = %connection.id, "connection torn down");
        Ok(Reply::Done)
    }
}

async fn remove_resources(
    account: &CustomerAccount,
    connection: &Connection,
) -> Result<(), crate::customer::AccountError> {
    let name = connection.configuration_set_name();
    let mut token = None;
    loop {
        let page = account.identity_page(token.as_deref()).await?;
        let attached = page
            .identities
            .into_iter()
            .filter(|identity| identity.configuration_set.as_deref() == Some(name.as_str()))
            .map(|identity| identity.identity)
            .collect();
        account.clear_configuration_sets(attached).await?;
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    account.delete_configuration_set(&name).await?;
    account.delete_topic(&connection.topic_arn).await
}
