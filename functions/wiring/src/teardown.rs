//! Teardown: detach trackses' set from the identities that use it, delete the set (its event
//! destination goes with it) and the topic (its subscriptions go with it), then forget the
//! connection and its sealed credentials. Every step is safe to repeat.
//!
//! The identities are walked one ListEmailIdentities page at a time. Once an invocation has used
//! its time budget, it hands the pages left to a fresh asynchronous invocation of this function
//! (`Command::Teardown` with `resume_from`), so an account with thousands of identities is torn
//! down in as many invocations as it takes, none of them near the function's timeout. A page
//! takes a couple of seconds, so one invocation does a few thousand identities and SES's 10,000
//! per region take a handful: far from the 16 invocations after which Lambda's recursive loop
//! detection would stop the chain, should it count these.

use std::time::Instant;

use chrono::Utc;

use model::wiring::{Command, Reply};

use ingest::ConnectionStore;
use wiring_client::WiringClient;

use super::{Wiring, WiringError};
use customer::{AccountError, CustomerAccount};
use model::Connection;
use model::connection::Transition;

/// How far one invocation got.
enum Progress {
    /// Every identity is detached and the set and topic are deleted.
    Done,
    /// The budget was used before the page this NextToken starts.
    StoppedBefore(String),
}

impl Wiring {
    pub(super) async fn teardown(
        &self,
        connection: &Connection,
        resume_from: Option<String>,
    ) -> Result<Reply, WiringError> {
        // The budget counts from here: reaching the account (a role's proof, a KMS Decrypt)
        // spends the same invocation's time.
        let deadline = Instant::now() + self.teardown_budget;
        let account = match self.account(connection).await {
            Ok(account) => Ok(account),
            Err(WiringError::Account(error)) => Err(error),
            Err(other) => return Err(other),
        };
        let teardown = Teardown {
            store: &self.store,
            itself: &self.itself,
            deadline,
        };
        teardown.run(account, connection, resume_from).await
    }
}

/// The teardown use case: what it reads and writes, and until when one invocation may start
/// new identity pages.
pub struct Teardown<'a, S> {
    pub store: &'a S,
    /// This function itself, which a teardown hands its remaining pages to.
    pub itself: &'a WiringClient,
    pub deadline: Instant,
}

impl<S: ConnectionStore> Teardown<'_, S> {
    /// Tears the connection down in `account` (or says on it why that account cannot be
    /// reached), from the identity page `resume_from`.
    pub async fn run(
        &self,
        account: Result<CustomerAccount, AccountError>,
        connection: &Connection,
        resume_from: Option<String>,
    ) -> Result<Reply, WiringError> {
        let progress = match account {
            Ok(account) => remove_resources(&account, connection, resume_from, self.deadline).await,
            Err(error) => Err(error),
        };
        match progress {
            Ok(Progress::Done) => {
                self.store
                    .delete_connection(connection)
                    .await
                    .map_err(WiringError::store)?;
                tracing::info!(connection_id = %connection.id, "connection torn down");
                Ok(Reply::Done)
            }
            Ok(Progress::StoppedBefore(token)) => {
                // Not handed on, the invocation fails and Lambda retries it from where it began:
                // the pages it did are detached already, and detaching them again changes nothing.
                self.itself
                    .start(&Command::Teardown {
                        connection_id: connection.id.clone(),
                        resume_from: Some(token),
                    })
                    .await?;
                tracing::info!(connection_id = %connection.id, "teardown continues in a fresh invocation");
                Ok(Reply::Done)
            }
            Err(error) => self.stopped(connection, error).await,
        }
    }

    /// Says on the connection why the teardown stopped; a transient failure fails the invocation
    /// so Lambda retries it.
    async fn stopped(
        &self,
        connection: &Connection,
        error: AccountError,
    ) -> Result<Reply, WiringError> {
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
            .await
            .map_err(WiringError::store)?;
        tracing::warn!(connection_id = %connection.id, transient, error = %error, "teardown stopped");
        if transient {
            Err(WiringError::Account(error))
        } else {
            Ok(Reply::Done)
        }
    }
}

async fn remove_resources(
    account: &CustomerAccount,
    connection: &Connection,
    resume_from: Option<String>,
    deadline: Instant,
) -> Result<Progress, AccountError> {
    let set = connection.configuration_set_name();
    let stopped = match detach_identities(account, &set, resume_from, deadline).await {
        // SES gives its tokens no documented lifetime, and identities deleted meanwhile can void
        // one: walking again from the first page only repeats detaches, which change nothing.
        Err(AccountError::InvalidNextToken) => {
            tracing::warn!(connection_id = %connection.id, "identity page token refused; teardown walks the identities from the start");
            detach_identities(account, &set, None, deadline).await
        }
        walked => walked,
    }?;
    if let Some(token) = stopped {
        return Ok(Progress::StoppedBefore(token));
    }
    account.delete_configuration_set(&set).await?;
    if let Some(topic_arn) = connection.topic_arn() {
        account.delete_topic(topic_arn).await?;
    }
    Ok(Progress::Done)
}

/// Detaches `set` from the identities that use it, a page at a time from `token`, until the last
/// page or, once past `deadline`, the next one: returns that page's NextToken, or `None` when
/// every page is done. A page started before the deadline is always finished.
async fn detach_identities(
    account: &CustomerAccount,
    set: &str,
    mut token: Option<String>,
    deadline: Instant,
) -> Result<Option<String>, AccountError> {
    loop {
        let page = account.identity_page(token.as_deref()).await?;
        let attached = page
            .identities
            .into_iter()
            .filter(|identity| identity.configuration_set.as_deref() == Some(set))
            .map(|identity| identity.identity)
            .collect();
        account.detach_all(attached, set).await?;
        match page.next_token {
            Some(next) if Instant::now() < deadline => token = Some(next),
            stopped => return Ok(stopped),
        }
    }
}

#[cfg(test)]
#[path = "teardown_tests.rs"]
mod tests;
