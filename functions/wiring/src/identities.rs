//! Attaching trackses' configuration set to sending identities, one call per identity, never
//! taking over a set that is not trackses' unless asked to, and reporting what it replaced.

use customer::account::Detach;
use customer::{AccountError, CustomerAccount};
use model::wiring::{Identity, IdentityView, Refusal, Reply};

use super::{Wiring, WiringError, answer};
use model::{Connection, ConnectionStatus, WiringStep};

impl Wiring {
    /// The account, once the connection's configuration set exists.
    async fn wired_account(
        &self,
        connection: &Connection,
    ) -> Result<Result<CustomerAccount, Reply>, WiringError> {
        let wired = connection.status == ConnectionStatus::Active
            || connection
                .wiring_steps
                .contains(&WiringStep::EventDestination);
        if !wired || connection.status == ConnectionStatus::Deleting {
            return Ok(Err(Reply::refused(
                Refusal::Conflict,
                format!(
                    "the connection is {}: identities can be attached once it is wired",
                    connection.status.as_str()
                ),
            )));
        }
        match self.account(connection).await {
            Ok(account) => Ok(Ok(account)),
            Err(WiringError::Account(error)) => answer(error).map(Err),
            Err(other) => Err(other),
        }
    }

    /// The account and one of its identities, or the reply that says why not.
    async fn wired_identity(
        &self,
        connection: &Connection,
        name: &str,
    ) -> Result<Result<(CustomerAccount, Identity), Reply>, WiringError> {
        let account = match self.wired_account(connection).await? {
            Ok(account) => account,
            Err(reply) => return Ok(Err(reply)),
        };
        match account.identity(name).await {
            Ok(Some(identity)) => Ok(Ok((account, identity))),
            Ok(None) => Ok(Err(unknown_identity(name))),
            Err(error) => answer(error).map(Err),
        }
    }

    /// One page of the account's identities (see `CustomerAccount::identity_page`).
    pub(super) async fn list_identities(
        &self,
        connection: &Connection,
        cursor: Option<&str>,
    ) -> Result<Reply, WiringError> {
        let account = match self.wired_account(connection).await? {
            Ok(account) => account,
            Err(reply) => return Ok(reply),
        };
        let ours = connection.configuration_set_name();
        match account.identity_page(cursor).await {
            Ok(page) => Ok(Reply::Identities {
                items: page
                    .identities
                    .into_iter()
                    .map(|identity| IdentityView {
                        attached: identity.configuration_set.as_deref() == Some(ours.as_str()),
                        identity,
                    })
                    .collect(),
                next_cursor: page.next_token,
            }),
            Err(AccountError::InvalidNextToken) => Ok(Reply::refused(
                Refusal::Invalid,
                "`cursor` is not one this listing returned, or it expired: list from the start",
            )),
            Err(error) => answer(error),
        }
    }

    pub(super) async fn attach(
        &self,
        connection: &Connection,
        name: &str,
        replace: bool,
    ) -> Result<Reply, WiringError> {
        let (account, identity) = match self.wired_identity(connection, name).await? {
            Ok(found) => found,
            Err(reply) => return Ok(reply),
        };
        let ours = connection.configuration_set_name();
        let replaced = match identity.configuration_set {
            Some(current) if current == ours => None,
            Some(current) if !replace => {
                return Ok(Reply::refused(
                    Refusal::Conflict,
                    format!(
                        "{name} uses the configuration set {current}, which is not trackses'; \
                         send {{\"replace\": true}} to replace it"
                    ),
                ));
            }
            current => current,
        };
        if let Err(error) = account.attach(name, &ours).await {
            return answer(error);
        }
        self.store
            .note_attachment(&connection.id, name, true)
            .await?;
        tracing::info!(connection_id = %connection.id, identity = name, replaced = ?replaced, "identity attached");
        Ok(Reply::Attached {
            identity: name.to_owned(),
            configuration_set: ours,
            replaced,
        })
    }

    pub(super) async fn detach(
        &self,
        connection: &Connection,
        name: &str,
    ) -> Result<Reply, WiringError> {
        let account = match self.wired_account(connection).await? {
            Ok(account) => account,
            Err(reply) => return Ok(reply),
        };
        match account
            .detach(name, &connection.configuration_set_name())
            .await
        {
            Ok(Detach::Detached) => {
                tracing::info!(connection_id = %connection.id, identity = name, "identity detached");
                self.store
                    .note_attachment(&connection.id, name, false)
                    .await?;
            }
            Ok(Detach::NotAttached) => {
                self.store
                    .note_attachment(&connection.id, name, false)
                    .await?;
            }
            Ok(Detach::OtherSet(current)) => {
                return Ok(Reply::refused(
                    Refusal::Conflict,
                    format!(
                        "{name} uses the configuration set {current}, which is not trackses'; trackses leaves it alone"
                    ),
                ));
            }
            Ok(Detach::NoSuchIdentity) => return Ok(unknown_identity(name)),
            Err(error) => return answer(error),
        }
        Ok(Reply::Detached {
            identity: name.to_owned(),
        })
    }
}

fn unknown_identity(name: &str) -> Reply {
    Reply::refused(
        Refusal::NotFound,
        format!("{name} is not an SES identity of this account and region"),
    )
}
