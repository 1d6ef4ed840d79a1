//! Alert rules, channels, and alerts: their open state (one item per rule and subject, the
//! conditional write that makes an alert open once) and their history (whose inserts and
//! resolutions the table's stream carries to the channels).
//!
//! Rules and channels are stored as the JSON the API shows; a channel's signing secret beside
//! it, read only by `delivery_channel`.

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::attrs::{Item, get_json, get_s, n, opt_s, s};
use super::conditions::{ignore_missing, is_condition_failure};
use super::{Store, StoreError, keys};
use model::{Alert, AlertRule, Channel, ChannelStatus};

mod attr {
    pub const RULE: &str = "rule";
    pub const CHANNEL: &str = "channel";
    pub const SECRET: &str = "secret";
    pub const ALERT: &str = "alert";
    pub const ALERT_ID: &str = "alert_id";
}

/// Where the sweep finds an open alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlert {
    pub project_id: String,
    pub rule_id: String,
    pub subject: String,
    pub alert_id: String,
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn rule_item(rule: &AlertRule) -> Result<Item, StoreError> {
    Ok(Item::from([
        (keys::PK.into(), s(keys::project(&rule.project_id))),
        (keys::SK.into(), s(keys::alert_rule_sk(&rule.id))),
        (attr::RULE.into(), s(json(rule)?)),
    ]))
}

fn scheduled_rule_item(rule: &AlertRule) -> Result<Item, StoreError> {
    Ok(Item::from([
        (keys::PK.into(), s(keys::SCHEDULED_RULES)),
        (
            keys::SK.into(),
            s(keys::scheduled_rule_sk(&rule.project_id, &rule.id)),
        ),
        (attr::RULE.into(), s(json(rule)?)),
    ]))
}

/// A resolved alert stays in the history this long; an open one for as long as it is open.
const RESOLVED_KEPT_DAYS: i64 = 400;

fn alert_item(alert: &Alert) -> Result<Item, StoreError> {
    let mut item = Item::from([
        (keys::PK.into(), s(keys::alerts(&alert.project_id))),
        (keys::SK.into(), s(&alert.id)),
        (attr::ALERT.into(), s(json(alert)?)),
    ]);
    if let Some(resolved_at) = alert.resolved_at {
        let expires = resolved_at + chrono::TimeDelta::days(RESOLVED_KEPT_DAYS);
        item.insert(keys::TTL.into(), n(expires.timestamp()));
    }
    Ok(item)
}

/// The alert a stream image or a read holds.
pub fn alert_of(item: &Item) -> Result<Alert, StoreError> {
    get_json(item, attr::ALERT)
}

/// Whether a stream image is an alert's.
pub fn is_alert(item: &Item) -> bool {
    item.get(keys::PK)
        .and_then(|v| v.as_s().ok())
        .is_some_and(|pk| pk.starts_with(keys::ALERTS_PREFIX))
}

impl Store {
    /// Saves `rule`; `false` when the project has its `MAX_RULES_PER_PROJECT` already. A rule
    /// the schedule evaluates is listed for the sweep in the same transaction.
    pub async fn create_alert_rule(&self, rule: &AlertRule) -> Result<bool, StoreError> {
        if self.alert_rules(&rule.project_id).await?.len() >= model::alert::MAX_RULES_PER_PROJECT {
            return Ok(false);
        }
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(self.new_item(rule_item(rule)?)?);
        if !rule.condition.is_counted() {
            transaction = transaction.transact_items(self.new_item(scheduled_rule_item(rule)?)?);
        }
        transaction.send().await?;
        Ok(true)
    }

    pub async fn alert_rules(&self, pid: &str) -> Result<Vec<AlertRule>, StoreError> {
        self.project_items(pid, keys::ALERT_RULE_PREFIX, attr::RULE)
            .await
    }

    pub async fn alert_rule(
        &self,
        pid: &str,
        rule_id: &str,
    ) -> Result<Option<AlertRule>, StoreError> {
        self.get(keys::project(pid), keys::alert_rule_sk(rule_id))
            .await?
            .map(|item| get_json(&item, attr::RULE))
            .transpose()
    }

    /// Every rule the schedule evaluates, across projects.
    pub async fn scheduled_rules(&self) -> Result<Vec<AlertRule>, StoreError> {
        let items = self.partition(keys::SCHEDULED_RULES).await?;
        items
            .iter()
            .map(|item| get_json(item, attr::RULE))
            .collect()
    }

    /// `false` if there was no such rule. Its open alerts resolve on the next sweep.
    pub async fn delete_alert_rule(&self, pid: &str, rule_id: &str) -> Result<bool, StoreError> {
        let existed = self
            .delete_existing(keys::project(pid), keys::alert_rule_sk(rule_id))
            .await?;
        self.delete_existing(
            keys::SCHEDULED_RULES.into(),
            keys::scheduled_rule_sk(pid, rule_id),
        )
        .await?;
        Ok(existed)
    }

    /// Saves `channel`, with `secret` for a webhook channel; `false` when the project has its
    /// `MAX_CHANNELS_PER_PROJECT` already.
    pub async fn create_channel(
        &self,
        channel: &Channel,
        secret: Option<&str>,
    ) -> Result<bool, StoreError> {
        if self.channels(&channel.project_id).await?.len() >= model::alert::MAX_CHANNELS_PER_PROJECT
        {
            return Ok(false);
        }
        let mut item = Item::from([
            (keys::PK.into(), s(keys::project(&channel.project_id))),
            (keys::SK.into(), s(keys::channel_sk(&channel.id))),
            (attr::CHANNEL.into(), s(json(channel)?)),
        ]);
        if let Some(secret) = secret {
            item.insert(attr::SECRET.into(), s(secret));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(true)
    }

    /// A project's channels, without their secrets.
    pub async fn channels(&self, pid: &str) -> Result<Vec<Channel>, StoreError> {
        self.project_items(pid, keys::CHANNEL_PREFIX, attr::CHANNEL)
            .await
    }

    /// A channel, without its secret: the mail function's read (IAM lets it read no more).
    pub async fn channel(
        &self,
        pid: &str,
        channel_id: &str,
    ) -> Result<Option<Channel>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::project(pid)))
            .key(keys::SK, s(keys::channel_sk(channel_id)))
            .projection_expression("#channel")
            .expression_attribute_names("#channel", attr::CHANNEL)
            .consistent_read(true)
            .send()
            .await?;
        output
            .item
            .map(|item| get_json(&item, attr::CHANNEL))
            .transpose()
    }

    /// A channel and its signing secret (webhook channels): the deliverer's read.
    pub async fn delivery_channel(
        &self,
        pid: &str,
        channel_id: &str,
    ) -> Result<Option<(Channel, Option<String>)>, StoreError> {
        let Some(item) = self
            .get(keys::project(pid), keys::channel_sk(channel_id))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((
            get_json(&item, attr::CHANNEL)?,
            opt_s(&item, attr::SECRET),
        )))
    }

    /// Replaces a webhook channel's secret; `false` if there is no such channel.
    pub async fn rotate_channel_secret(
        &self,
        pid: &str,
        channel_id: &str,
        secret: &str,
    ) -> Result<bool, StoreError> {
        ignore_missing(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(keys::project(pid)))
                .key(keys::SK, s(keys::channel_sk(channel_id)))
                .condition_expression("attribute_exists(secret)")
                .update_expression("SET secret = :secret")
                .expression_attribute_values(":secret", s(secret))
                .send()
                .await,
        )
    }

    pub async fn delete_channel(&self, pid: &str, channel_id: &str) -> Result<bool, StoreError> {
        self.delete_existing(keys::project(pid), keys::channel_sk(channel_id))
            .await
    }

    /// Remembers the hash of an e-mail channel's confirmation token until `expires_at`.
    pub async fn put_channel_confirmation(
        &self,
        token_sha256: &str,
        channel: &Channel,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::from([
                (keys::PK.into(), s(keys::channel_confirmation(token_sha256))),
                (keys::SK.into(), s(keys::CHANNEL_CONFIRMATION_SK)),
                ("project_id".into(), s(&channel.project_id)),
                ("channel_id".into(), s(&channel.id)),
                (keys::TTL.into(), n(expires_at.timestamp())),
            ])))
            .send()
            .await?;
        Ok(())
    }

    /// Takes the one confirmation an address (by its hash) may be sent until `until`: `false`
    /// when one was sent to it already.
    pub async fn claim_confirmation(
        &self,
        address_sha256: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::from([
                (keys::PK.into(), s(keys::confirmation_sent(address_sha256))),
                (keys::SK.into(), s(keys::CHANNEL_CONFIRMATION_SK)),
                (keys::TTL.into(), n(until.timestamp())),
            ])))
            // An expired claim DynamoDB has not removed yet counts as gone.
            .condition_expression("attribute_not_exists(pk) OR #ttl < :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", n(Utc::now().timestamp()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Confirms the channel a token stands for, once, while it is valid; the channel confirmed.
    pub async fn confirm_channel(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Channel>, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::channel_confirmation(token_sha256)))
            .key(keys::SK, s(keys::CHANNEL_CONFIRMATION_SK))
            .condition_expression("attribute_exists(pk) AND #ttl > :now")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        let item = match output {
            Ok(output) => output.attributes,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                None
            }
            Err(e) => return Err(e.into()),
        };
        let Some(item) = item else {
            return Ok(None);
        };
        let (pid, channel_id) = (get_s(&item, "project_id")?, get_s(&item, "channel_id")?);
        let Some((mut channel, _)) = self.delivery_channel(pid, channel_id).await? else {
            return Ok(None);
        };
        channel.status = ChannelStatus::Active;
        let confirmed = ignore_missing(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(keys::project(pid)))
                .key(keys::SK, s(keys::channel_sk(channel_id)))
                .condition_expression("attribute_exists(pk)")
                .update_expression("SET #channel = :channel")
                .expression_attribute_names("#channel", attr::CHANNEL)
                .expression_attribute_values(":channel", s(json(&channel)?))
                .send()
                .await,
        )?;
        Ok(confirmed.then_some(channel))
    }

    /// Opens `alert` unless its rule has one open for its subject: `false` then, and nothing
    /// is written. The history item's insert is what notifies its channels (the stream).
    pub async fn open_alert(&self, alert: &Alert) -> Result<bool, StoreError> {
        let open = Item::from([
            (keys::PK.into(), s(keys::OPEN_ALERTS)),
            (
                keys::SK.into(),
                s(keys::open_alert_sk(
                    &alert.project_id,
                    &alert.rule_id,
                    &alert.subject,
                )),
            ),
            (attr::ALERT_ID.into(), s(&alert.id)),
        ]);
        let result = self
            .client
            .transact_write_items()
            .transact_items(self.new_item(open)?)
            .transact_items(self.new_item(alert_item(alert)?)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The open alert of a rule for a subject, if any.
    pub async fn open_alert_id(
        &self,
        pid: &str,
        rule_id: &str,
        subject: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(
                keys::OPEN_ALERTS.into(),
                keys::open_alert_sk(pid, rule_id, subject),
            )
            .await?
            .and_then(|item| opt_s(&item, attr::ALERT_ID)))
    }

    /// Every open alert, across projects: what the sweep re-evaluates.
    pub async fn open_alerts(&self) -> Result<Vec<OpenAlert>, StoreError> {
        let items = self.partition(keys::OPEN_ALERTS).await?;
        items
            .iter()
            .map(|item| {
                let sk = get_s(item, keys::SK)?;
                let mut parts = sk.splitn(3, '#');
                let (Some(pid), Some(rule_id), Some(subject)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(StoreError::Corrupt(format!("open alert {sk}")));
                };
                Ok(OpenAlert {
                    project_id: pid.to_owned(),
                    rule_id: rule_id.to_owned(),
                    subject: subject.to_owned(),
                    alert_id: get_s(item, attr::ALERT_ID)?.to_owned(),
                })
            })
            .collect()
    }

    /// Resolves an open alert once: `false` if it was not open (resolved meanwhile).
    pub async fn resolve_alert(
        &self,
        open: &OpenAlert,
        at: DateTime<Utc>,
        resolution: &str,
    ) -> Result<bool, StoreError> {
        let Some(mut alert) = self.alert(&open.project_id, &open.alert_id).await? else {
            return Err(StoreError::Corrupt(format!(
                "open alert {} has no history item",
                open.alert_id
            )));
        };
        alert.resolved_at = Some(at);
        alert.resolution = Some(resolution.to_owned());
        let close = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::OPEN_ALERTS))
            .key(
                keys::SK,
                s(keys::open_alert_sk(
                    &open.project_id,
                    &open.rule_id,
                    &open.subject,
                )),
            )
            .condition_expression("alert_id = :id")
            .expression_attribute_values(":id", s(&open.alert_id))
            .build()?;
        let record = Put::builder()
            .table_name(&self.table)
            .set_item(Some(alert_item(&alert)?))
            .condition_expression("attribute_exists(pk)")
            .build()?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(close).build())
            .transact_items(TransactWriteItem::builder().put(record).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn alert(&self, pid: &str, alert_id: &str) -> Result<Option<Alert>, StoreError> {
        self.get(keys::alerts(pid), alert_id.to_owned())
            .await?
            .map(|item| alert_of(&item))
            .transpose()
    }

    /// A project's alerts, newest first; the cursor is the last alert id returned.
    pub async fn alerts(
        &self,
        pid: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Alert>, Option<String>), StoreError> {
        let (items, next) = self
            .partition_page(&keys::alerts(pid), before, limit, true)
            .await?;
        let alerts = items.iter().map(alert_of).collect::<Result<Vec<_>, _>>()?;
        Ok((alerts, next))
    }

    /// The JSON attribute `attribute` of each of a project's items under `prefix`.
    async fn project_items<T: serde::de::DeserializeOwned>(
        &self,
        pid: &str,
        prefix: &str,
        attribute: &str,
    ) -> Result<Vec<T>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::project(pid)))
            .expression_attribute_values(":prefix", s(prefix))
            .projection_expression("#a")
            .expression_attribute_names("#a", attribute)
            .send()
            .await?;
        output
            .items()
            .iter()
            .map(|item| get_json(item, attribute))
            .collect()
    }
}
