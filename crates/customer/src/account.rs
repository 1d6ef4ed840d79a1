//! The calls trackses makes in a customer account, each named by the IAM action it needs, each
//! idempotent: running one twice leaves the account as running it once.

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_sesv2::error::BuildError;
use aws_sdk_sesv2::types::{EventDestinationDefinition, EventType, SnsDestination};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::customer_config;
use super::error::{AccountError, done_unless_failed};
use super::guard::Guard;
use model::naming::EVENT_DESTINATION;
pub use model::wiring::Identity;

type Result<T> = std::result::Result<T, AccountError>;

/// One event destination of a configuration set, as verify needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationState {
    pub name: String,
    pub enabled: bool,
    /// The types it publishes, as the API names them lower-cased (`rendering_failure`).
    pub matching: Vec<String>,
    pub sns_topic_arn: Option<String>,
    pub eventbridge: bool,
}

/// One ListEmailIdentities page, looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPage {
    pub identities: Vec<Identity>,
    /// SES's NextToken: where the next page starts; `None` on the last page.
    pub next_token: Option<String>,
}

/// Identities per ListEmailIdentities page (SES allows up to 1,000): each costs a GetEmailIdentity
/// call, so a page is about 100 calls, done in seconds, well inside a request's time.
const PAGE_SIZE: i32 = 100;

/// Calls per identity in flight at once. SES documents per-second quotas for sending, none for
/// GetEmailIdentity or PutEmailIdentityConfigurationSetAttributes: those are throttled per
/// account and region (TooManyRequestsException, which the SDK retries with backoff) in a budget
/// the customer's own tools share. Eight in flight turns a page of 100 into about a dozen round
/// trips without bursting far past what one busy client sends.
const CONCURRENCY: usize = 8;

/// What a detach found, and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detach {
    Detached,
    NotAttached,
    /// The identity uses a set that is not this connection's: left alone.
    OtherSet(String),
    NoSuchIdentity,
}

/// One customer account in one region, reached with the customer's credentials through the guard.
#[derive(Clone)]
pub struct CustomerAccount {
    sns: aws_sdk_sns::Client,
    ses: aws_sdk_sesv2::Client,
    pub account_id: String,
    pub region: String,
}

/// How SNS retries deliveries to trackses' webhook: the one retry policy the templates'
/// subscriptions carry (tested there), as the default of the topics trackses creates.
const HTTPS_RETRY_POLICY: &str = include_str!("../../../cloudformation/https-retry-policy.json");

fn https_delivery_policy() -> String {
    let retry: serde_json::Value = serde_json::from_str(HTTPS_RETRY_POLICY).unwrap_or_default();
    serde_json::json!({"http": {"defaultHealthyRetryPolicy": retry}}).to_string()
}

/// Every type SES publishes, as the SES API names them: a destination for fewer would silently
/// drop some. The API's names are the model's, upper-cased (`RENDERING_FAILURE`).
pub fn published_event_types() -> Vec<EventType> {
    model::EventType::published()
        .map(|t| EventType::from(t.as_str().to_ascii_uppercase().as_str()))
        .collect()
}

/// An enabled event destination publishing every type SES publishes to the topic: what trackses
/// wires, and what a customer who wires the account themselves sets up.
pub fn sns_event_destination(
    topic_arn: &str,
) -> std::result::Result<EventDestinationDefinition, BuildError> {
    Ok(EventDestinationDefinition::builder()
        .enabled(true)
        .set_matching_event_types(Some(published_event_types()))
        .sns_destination(SnsDestination::builder().topic_arn(topic_arn).build()?)
        .build())
}

impl CustomerAccount {
    pub fn new(
        base: &SdkConfig,
        account_id: &str,
        region: &str,
        credentials: SharedCredentialsProvider,
        guard: &Guard,
    ) -> CustomerAccount {
        let config = customer_config(base, region, credentials);
        CustomerAccount {
            sns: aws_sdk_sns::Client::from_conf(
                aws_sdk_sns::config::Builder::from(&config)
                    .interceptor(guard.clone())
                    .build(),
            ),
            ses: aws_sdk_sesv2::Client::from_conf(
                aws_sdk_sesv2::config::Builder::from(&config)
                    .interceptor(guard.clone())
                    .build(),
            ),
            account_id: account_id.to_owned(),
            region: region.to_owned(),
        }
    }

    /// The account behind clients built elsewhere: the SDK's mocks in other crates' tests, which
    /// install the guard themselves. Production code builds it with `new`.
    #[cfg(feature = "test-util")]
    pub fn with_clients(
        sns: aws_sdk_sns::Client,
        ses: aws_sdk_sesv2::Client,
        account_id: &str,
        region: &str,
    ) -> CustomerAccount {
        CustomerAccount {
            sns,
            ses,
            account_id: account_id.to_owned(),
            region: region.to_owned(),
        }
    }

    /// CreateTopic returns the existing topic when the name and attributes match.
    pub async fn create_topic(&self, name: &str) -> Result<String> {
        const ACTION: &str = "sns:CreateTopic";
        let output = self
            .sns
            .create_topic()
            .name(name)
            .attributes("SignatureVersion", "2")
            .send()
            .await
            .map_err(|e| AccountError::from_sdk(ACTION, e))?;
        Ok(output.topic_arn.unwrap_or_default())
    }

    /// Lets SES publish to the topic, for this account's configuration sets only, and gives the
    /// topic trackses' HTTPS delivery policy.
    pub async fn allow_ses_publish(&self, topic_arn: &str) -> Result<()> {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "TrackSesFromSes",
                "Effect": "Allow",
                "Principal": {"Service": "ses.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceAccount": self.account_id}},
            }],
        });
        self.sns
            .set_topic_attributes()
            .topic_arn(topic_arn)
            .attribute_name("Policy")
            .attribute_value(policy.to_string())
            .send()
            .await
            .map_err(|e| AccountError::from_sdk("sns:SetTopicAttributes", e))?;
        // SNS's default HTTPS policy gives up after about a minute of 503s (a throttle, a
        // deploy); the topic's own retries for 20 to 48 minutes.
        self.sns
            .set_topic_attributes()
            .topic_arn(topic_arn)
            .attribute_name("DeliveryPolicy")
            .attribute_value(https_delivery_policy())
            .send()
            .await
            .map_err(|e| AccountError::from_sdk("sns:SetTopicAttributes", e))?;
        Ok(())
    }

    pub async fn create_configuration_set(&self, name: &str) -> Result<()> {
        done_unless_failed(
            "ses:CreateConfigurationSet",
            self.ses
                .create_configuration_set()
                .configuration_set_name(name)
                .send()
                .await,
            |e| e.is_already_exists_exception(),
        )
        .map(drop)
    }

    pub async fn create_event_destination(&self, set: &str, topic_arn: &str) -> Result<()> {
        let destination = sns_event_destination(topic_arn).map_err(|e| AccountError::Failed {
            permission: "ses:CreateConfigurationSetEventDestination",
            message: e.to_string(),
        })?;
        done_unless_failed(
            "ses:CreateConfigurationSetEventDestination",
            self.ses
                .create_configuration_set_event_destination()
                .configuration_set_name(set)
                .event_destination_name(EVENT_DESTINATION)
                .event_destination(destination)
                .send()
                .await,
            |e| e.is_already_exists_exception(),
        )
        .map(drop)
    }

    /// Subscribes the webhook (SNS answers with the existing subscription if there is one).
    /// Returns whether it is already confirmed.
    pub async fn subscribe(&self, topic_arn: &str, endpoint: &str) -> Result<bool> {
        let protocol = endpoint
            .split_once("://")
            .map_or("https", |(scheme, _)| scheme);
        let output = self
            .sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
            .await
            .map_err(|e| AccountError::from_sdk("sns:Subscribe", e))?;
        Ok(output
            .subscription_arn
            .is_some_and(|arn| arn.starts_with("arn:")))
    }

    /// One ListEmailIdentities page (from `token`, SES's NextToken) and what GetEmailIdentity
    /// says of each identity on it, sorted by name, with the token of the next page. A page at a
    /// time keeps every caller's work bounded however many identities the account has.
    pub async fn identity_page(&self, token: Option<&str>) -> Result<IdentityPage> {
        const ACTION: &str = "ses:ListEmailIdentities";
        let page = self
            .ses
            .list_email_identities()
            .page_size(PAGE_SIZE)
            .set_next_token(token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                // ListEmailIdentities' only 400 is BadRequestException; with a token, the token
                // is what SES refused (expired, or not one it gave out).
                Some(refused) if token.is_some() && refused.is_bad_request_exception() => {
                    AccountError::InvalidNextToken
                }
                _ => AccountError::from_sdk(ACTION, e),
            })?;
        let names = page
            .email_identities
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| i.identity_name);
        // GetEmailIdentity is what says which configuration set an identity uses.
        let mut identities: Vec<Identity> = stream::iter(names)
            .map(|name| async move { self.identity(&name).await })
            .buffer_unordered(CONCURRENCY)
            .try_filter_map(|found| async move { Ok(found) })
            .try_collect()
            .await?;
        identities.sort_by(|a, b| a.identity.cmp(&b.identity));
        Ok(IdentityPage {
            identities,
            next_token: page.next_token.filter(|t| !t.is_empty()),
        })
    }

    pub async fn identity(&self, name: &str) -> Result<Option<Identity>> {
        let output = done_unless_failed(
            "ses:GetEmailIdentity",
            self.ses
                .get_email_identity()
                .email_identity(name)
                .send()
                .await,
            |e| e.is_not_found_exception(),
        )?;
        Ok(output.map(|output| Identity {
            identity: name.to_owned(),
            identity_type: output
                .identity_type
                .map_or_else(|| "UNKNOWN".to_owned(), |t| t.as_str().to_owned()),
            verified: output.verified_for_sending_status,
            configuration_set: output.configuration_set_name.filter(|s| !s.is_empty()),
        }))
    }

    /// Points the identity at `ours`, a trackses set (the guard and IAM refuse any other).
    pub async fn attach(&self, identity: &str, ours: &str) -> Result<()> {
        self.put_identity_configuration_set(identity, Some(ours))
            .await
    }

    /// Clears the identity's configuration set only if it is `ours`, read just before in the same
    /// call: no other code can clear one (SES has no conditional write, so this is as close as
    /// the read can be to the write; IAM cannot tell a clear from a clear).
    pub async fn detach(&self, identity: &str, ours: &str) -> Result<Detach> {
        let current = match self.identity(identity).await? {
            None => return Ok(Detach::NoSuchIdentity),
            Some(found) => found.configuration_set,
        };
        match current {
            Some(set) if set == ours => {
                self.put_identity_configuration_set(identity, None).await?;
                Ok(Detach::Detached)
            }
            Some(other) => Ok(Detach::OtherSet(other)),
            None => Ok(Detach::NotAttached),
        }
    }

    /// Detaches `ours` from each of `identities` that still uses it, a few at a time.
    pub async fn detach_all(&self, identities: Vec<String>, ours: &str) -> Result<()> {
        stream::iter(identities.into_iter().map(Ok))
            .try_for_each_concurrent(CONCURRENCY, |identity| async move {
                self.detach(&identity, ours).await.map(|_| ())
            })
            .await
    }

    async fn put_identity_configuration_set(
        &self,
        identity: &str,
        set: Option<&str>,
    ) -> Result<()> {
        self.ses
            .put_email_identity_configuration_set_attributes()
            .email_identity(identity)
            .set_configuration_set_name(set.map(str::to_owned))
            .send()
            .await
            .map_err(|e| {
                AccountError::from_sdk("ses:PutEmailIdentityConfigurationSetAttributes", e)
            })?;
        Ok(())
    }

    /// SES GetAccount: whether and how much the account may send.
    pub async fn sending(&self) -> Result<model::wiring::Sending> {
        let output = self
            .ses
            .get_account()
            .send()
            .await
            .map_err(|e| AccountError::from_sdk("ses:GetAccount", e))?;
        let quota = output.send_quota();
        Ok(model::wiring::Sending {
            enabled: output.sending_enabled,
            production_access: output.production_access_enabled,
            max_24_hour_send: quota.map_or(0.0, |q| q.max24_hour_send),
            max_send_rate: quota.map_or(0.0, |q| q.max_send_rate),
            sent_last_24_hours: quota.map_or(0.0, |q| q.sent_last24_hours),
        })
    }

    pub async fn topic_exists(&self, topic_arn: &str) -> Result<bool> {
        done_unless_failed(
            "sns:GetTopicAttributes",
            self.sns
                .get_topic_attributes()
                .topic_arn(topic_arn)
                .send()
                .await,
            |e| e.is_not_found_exception(),
        )
        .map(|found| found.is_some())
    }

    pub async fn configuration_set_exists(&self, name: &str) -> Result<bool> {
        done_unless_failed(
            "ses:GetConfigurationSet",
            self.ses
                .get_configuration_set()
                .configuration_set_name(name)
                .send()
                .await,
            |e| e.is_not_found_exception(),
        )
        .map(|found| found.is_some())
    }

    /// The set's event destinations as SES holds them.
    pub async fn event_destinations(&self, set: &str) -> Result<Vec<DestinationState>> {
        let found = done_unless_failed(
            "ses:GetConfigurationSetEventDestinations",
            self.ses
                .get_configuration_set_event_destinations()
                .configuration_set_name(set)
                .send()
                .await,
            |e| e.is_not_found_exception(),
        )?;
        Ok(found
            .map(|output| {
                output
                    .event_destinations
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| DestinationState {
                        enabled: d.enabled,
                        matching: d
                            .matching_event_types
                            .iter()
                            .map(|t| t.as_str().to_ascii_lowercase())
                            .collect(),
                        sns_topic_arn: d.sns_destination.map(|s| s.topic_arn),
                        eventbridge: d.event_bridge_destination.is_some(),
                        name: d.name,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Whether `endpoint` holds a confirmed subscription to the topic.
    pub async fn subscribed(&self, topic_arn: &str, endpoint: &str) -> Result<bool> {
        let mut pages = self
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AccountError::from_sdk("sns:ListSubscriptionsByTopic", e))?;
            if page.subscriptions().iter().any(|s| {
                s.endpoint() == Some(endpoint)
                    && s.subscription_arn().is_some_and(|a| a.starts_with("arn:"))
            }) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Its event destinations go with it; a set already gone is success.
    pub async fn delete_configuration_set(&self, name: &str) -> Result<()> {
        done_unless_failed(
            "ses:DeleteConfigurationSet",
            self.ses
                .delete_configuration_set()
                .configuration_set_name(name)
                .send()
                .await,
            |e| e.is_not_found_exception(),
        )
        .map(drop)
    }

    /// Its subscriptions go with it; SNS treats deleting a missing topic as success.
    pub async fn delete_topic(&self, topic_arn: &str) -> Result<()> {
        done_unless_failed(
            "sns:DeleteTopic",
            self.sns.delete_topic().topic_arn(topic_arn).send().await,
            |e| e.is_not_found_exception(),
        )
        .map(drop)
    }
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
