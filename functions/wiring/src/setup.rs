//! Wiring an automatic connection: topic → topic policy → configuration set → event destination
//! → subscription, each step recorded once done. The webhook's confirmation finishes it.

use chrono::Utc;

use model::wiring::Reply;

use super::{Wiring, WiringError};
use customer::{AccountError, CustomerAccount};
use model::connection::Transition;
use model::naming::resource_name;
use model::{Connection, ConnectionStatus, Delivery, WiringStep};

impl Wiring {
    pub(super) async fn wire(&self, connection: &Connection) -> Result<Reply, WiringError> {
        // Only a connection still being wired (or stopped by an error the user may have fixed)
        // is wired; a repeated or late command must not undo an active or deleting one.
        if !matches!(
            connection.status,
            ConnectionStatus::Wiring | ConnectionStatus::Error
        ) {
            return Ok(Reply::Done);
        }
        // The account is reached (and a role proven) inside the same error handling as the
        // steps: a role that fails its proof stops the connection in `error`, in words.
        let result = match (self.account(connection).await, &connection.delivery) {
            (Ok(account), Delivery::Sns { topic_arn }) => {
                self.run_steps(&account, connection, topic_arn).await
            }
            (Ok(account), Delivery::EventBridge) => {
                self.route_eventbridge(&account, connection).await
            }
            (Err(error), _) => Err(error),
        };
        match result {
            Ok(confirmed) => {
                if confirmed {
                    self.store
                        .transition(&connection.id, Transition::Wired, None, Utc::now())
                        .await?;
                }
                tracing::info!(connection_id = %connection.id, confirmed, "connection wired");
                Ok(Reply::Done)
            }
            Err(WiringError::Account(error)) => {
                let transient = error.is_transient() || role_not_yet_assumable(connection, &error);
                // A transient failure keeps the status (the retry resumes); anything else needs
                // the user, and the error says what to do.
                let transition = if transient {
                    Transition::WiringRetrying
                } else {
                    Transition::WiringFailed
                };
                let detail = error.to_string();
                self.store
                    .transition(&connection.id, transition, Some(Some(&detail)), Utc::now())
                    .await?;
                tracing::warn!(connection_id = %connection.id, transient, error = %detail, "wiring stopped");
                if transient {
                    Err(WiringError::Account(error))
                } else {
                    Ok(Reply::Done)
                }
            }
            Err(other) => Err(other),
        }
    }

    /// Returns whether the subscription is already confirmed.
    ///
    /// A customer stack did the first four steps itself (they come recorded); the subscription
    /// step then both proves the role works and says whether SNS confirmed.
    async fn run_steps(
        &self,
        account: &CustomerAccount,
        connection: &Connection,
        topic_arn: &str,
    ) -> Result<bool, WiringError> {
        let webhook_url = self.webhook_url(connection);
        let name = resource_name(&connection.id);
        let done = |step| connection.wiring_steps.contains(&step);
        let mut confirmed = false;
        for step in [
            WiringStep::Topic,
            WiringStep::TopicPolicy,
            WiringStep::ConfigurationSet,
            WiringStep::EventDestination,
            WiringStep::Subscription,
        ] {
            if done(step) && step != WiringStep::Subscription {
                continue;
            }
            let result: Result<(), AccountError> = match step {
                WiringStep::Topic => account.create_topic(&name).await.and_then(|arn| {
                    // The registry already holds the ARN the API predicted from the account id.
                    if arn == topic_arn {
                        Ok(())
                    } else {
                        Err(AccountError::Failed {
                            permission: "sns:CreateTopic",
                            message: format!("SNS created {arn}, expected {topic_arn}"),
                        })
                    }
                }),
                WiringStep::TopicPolicy => account.allow_ses_publish(topic_arn).await,
                WiringStep::ConfigurationSet => account.create_configuration_set(&name).await,
                WiringStep::EventDestination => {
                    account.create_event_destination(&name, topic_arn).await
                }
                // Always re-run: Subscribe is idempotent and says whether SNS confirmed.
                WiringStep::Subscription => account
                    .subscribe(topic_arn, &webhook_url)
                    .await
                    .map(|c| confirmed = c),
            };
            result.map_err(WiringError::Account)?;
            if !done(step) {
                self.store
                    .record_wiring_step(&connection.id, step, Utc::now())
                    .await?;
            }
        }
        Ok(confirmed)
    }
}

impl Wiring {
    /// EventBridge delivery: the stack made everything, and the role just proved (with the
    /// project's external id) that trackses may act in this account. That proof is what lets the
    /// account's forwarded events reach this connection: its configuration set, checked to exist
    /// through the role, is routed to it. Returns true: there is nothing left to confirm.
    async fn route_eventbridge(
        &self,
        account: &CustomerAccount,
        connection: &Connection,
    ) -> Result<bool, WiringError> {
        let set = connection.configuration_set_name();
        if !account
            .configuration_set_exists(&set)
            .await
            .map_err(WiringError::Account)?
        {
            return Err(WiringError::Account(
                AccountError::ConfigurationSetMissing { set },
            ));
        }
        if !self.store.route_eventbridge(connection, Utc::now()).await? {
            return Err(WiringError::Account(AccountError::ConfigurationSetTaken {
                set,
            }));
        }
        Ok(true)
    }
}

/// IAM is eventually consistent: a role a customer stack created (or changed) moments ago may
/// be refused for a while. Lambda's retries (about 1 and 2 minutes later) try again; after
/// that the refusal is the user's to fix.
fn role_not_yet_assumable(connection: &Connection, error: &AccountError) -> bool {
    connection.stack().is_some()
        && *error == AccountError::CannotAssumeRole
        && Utc::now() - connection.updated_at < chrono::Duration::minutes(5)
}
