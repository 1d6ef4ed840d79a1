//! Verify: can trackses still reach the account, may it send, and is the wiring intact? Every
//! problem in words the user can act on.

use model::wiring::{Reply, Sending, Verification};

use super::{Wiring, WiringError};
use customer::account::DestinationState;
use customer::{AccountError, CustomerAccount};
use model::Connection;

impl Wiring {
    pub(super) async fn verify(&self, connection: &Connection) -> Result<Reply, WiringError> {
        let account = match self.account(connection).await {
            Ok(account) => account,
            // Unreachable, or a role that fails its proof: that one problem is the answer.
            Err(WiringError::Account(error)) if !error.is_transient() => {
                return Ok(verdict(connection, false, None, vec![error.to_string()]));
            }
            Err(other) => return Err(other),
        };
        let mut problems = Vec::new();
        let mut reachable = true;
        let sending = match account.sending().await {
            Ok(sending) => {
                if !sending.enabled {
                    problems.push("sending is disabled for this account in this region".to_owned());
                }
                Some(sending)
            }
            Err(error @ (AccountError::CannotAssumeRole | AccountError::InvalidCredentials)) => {
                reachable = false;
                problems.push(error.to_string());
                None
            }
            Err(error) => {
                note(&mut problems, error)?;
                None
            }
        };
        // Without access nothing else can be checked; the one problem says why.
        if reachable {
            let webhook_urls: Vec<String> = [
                Some(self.webhook_url(connection)),
                self.earlier_webhook_url(connection),
            ]
            .into_iter()
            .flatten()
            .collect();
            check_wiring(&account, connection, &webhook_urls, &mut problems).await?;
        }
        Ok(verdict(connection, reachable, sending, problems))
    }
}

async fn subscribed_at_any(
    account: &CustomerAccount,
    topic_arn: &str,
    webhook_urls: &[String],
) -> Result<bool, AccountError> {
    for url in webhook_urls {
        if account.subscribed(topic_arn, url).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Verified only when trackses reached the account and found nothing to fix.
fn verdict(
    connection: &Connection,
    reachable: bool,
    sending: Option<Sending>,
    problems: Vec<String>,
) -> Reply {
    Reply::Verified(Verification {
        verified: reachable && problems.is_empty(),
        account_id: connection.account_id.clone(),
        region: connection.region.clone(),
        sending,
        problems,
    })
}

/// A failed check becomes a problem; a transient failure fails the whole verify (503, retry).
/// The two read-only calls that keys granted the policy of before `docs/customer-iam-policy.json`
/// named them cannot make are skipped when denied: their absence is not something to fix.
fn note(problems: &mut Vec<String>, error: AccountError) -> Result<(), WiringError> {
    match error {
        e if e.is_transient() => Err(WiringError::Account(e)),
        AccountError::Denied {
            permission:
                "ses:GetAccount"
                | "ses:GetConfigurationSet"
                | "ses:GetConfigurationSetEventDestinations",
        } => Ok(()),
        e => {
            problems.push(e.to_string());
            Ok(())
        }
    }
}

/// `webhook_urls`: where the connection's subscription may deliver, the current webhook first.
async fn check_wiring(
    account: &CustomerAccount,
    connection: &Connection,
    webhook_urls: &[String],
    problems: &mut Vec<String>,
) -> Result<(), WiringError> {
    let set = connection.configuration_set_name();
    // EventBridge delivery has no topic: the set and the stack's rules are all of it.
    if let Some(topic_arn) = connection.topic_arn() {
        match account.topic_exists(topic_arn).await {
            Ok(true) => match subscribed_at_any(account, topic_arn, webhook_urls).await {
                Ok(true) => {}
                Ok(false) => problems.push(format!(
                    "trackses' webhook is not a confirmed subscriber of {topic_arn}: no events can arrive"
                )),
                Err(error) => note(problems, error)?,
            },
            Ok(false) => problems.push(format!(
                "the topic {topic_arn} no longer exists (was the stack or the topic deleted?)"
            )),
            Err(error) => note(problems, error)?,
        }
    }
    match account.configuration_set_exists(&set).await {
        Ok(true) => match account.event_destinations(&set).await {
            Ok(destinations) => {
                problems.extend(destination_problem(connection, &set, &destinations))
            }
            Err(error) => note(problems, error)?,
        },
        Ok(false) => problems.push(format!("the configuration set {set} no longer exists")),
        Err(error) => note(problems, error)?,
    }
    for identity in &connection.attached_identities {
        match account.identity(identity).await {
            Ok(Some(found)) if found.configuration_set.as_deref() == Some(set.as_str()) => {}
            Ok(Some(found)) => problems.push(format!(
                "{identity} no longer uses the configuration set {set} (it uses {}): its mail's events no longer reach trackses",
                found.configuration_set.as_deref().unwrap_or("none")
            )),
            Ok(None) => problems.push(format!("the identity {identity} trackses was attached to no longer exists")),
            Err(error) => note(problems, error)?,
        }
    }
    Ok(())
}

/// What is wrong with the set's destinations: the one that delivers to trackses (to the
/// connection's topic, or to EventBridge) must be there, enabled, and publish every type.
fn destination_problem(
    connection: &Connection,
    set: &str,
    destinations: &[DestinationState],
) -> Option<String> {
    let ours = destinations.iter().find(|d| match connection.topic_arn() {
        Some(topic) => d.sns_topic_arn.as_deref() == Some(topic),
        None => d.eventbridge,
    });
    let Some(destination) = ours else {
        return Some(format!(
            "the configuration set {set} has no event destination to trackses any more: no events can arrive"
        ));
    };
    if !destination.enabled {
        return Some(format!(
            "the event destination {} of {set} is disabled: no events arrive",
            destination.name
        ));
    }
    let missing: Vec<&str> = model::EventType::published()
        .map(|t| t.as_str())
        .filter(|t| !destination.matching.iter().any(|m| m == t))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "the event destination {} of {set} no longer publishes {}",
            destination.name,
            missing.join(", ")
        )
    })
}
