//! Forwarding endpoints, their signing secrets, and their dead letters.
//!
//! An endpoint's secrets live on its item, in the form receivers configure (`whsec_…`), and are
//! read only by `delivery_endpoints` (the deliverer's read); every other read projects them
//! away, so the API never holds them after the response that hands a new one over.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, TimeDelta, Utc};

use super::attrs::{Item, get_millis, get_n, get_s, millis, n, opt_s, s};
use super::conditions::ignore_missing;
use super::{Store, StoreError, keys};
use model::{DeadLetter, Endpoint, EventType};

mod attr {
    pub const URL: &str = "url";
    pub const TYPES: &str = "types";
    pub const CONNECTION: &str = "conn";
    pub const PAUSED: &str = "paused_at";
    pub const CREATED: &str = "created_at";
    pub const SECRET: &str = "secret";
    /// The secret a rotation replaced, still signed with until `PREVIOUS_UNTIL`.
    pub const PREVIOUS: &str = "previous_secret";
    pub const PREVIOUS_UNTIL: &str = "previous_until";
}

/// What the API reads: everything but the secrets (each name a placeholder: `url` is a reserved
/// word).
const VIEW: &str = "#sk, #url, #types, #conn, #paused, #created";

fn view_names() -> std::collections::HashMap<String, String> {
    [
        ("#sk", keys::SK),
        ("#url", attr::URL),
        ("#types", attr::TYPES),
        ("#conn", attr::CONNECTION),
        ("#paused", attr::PAUSED),
        ("#created", attr::CREATED),
    ]
    .into_iter()
    .map(|(placeholder, name)| (placeholder.to_owned(), name.to_owned()))
    .collect()
}

/// Dead letters are kept this long.
const DEAD_LETTER_DAYS: i64 = 14;

/// The secrets an endpoint's deliveries are signed with, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecrets {
    pub current: String,
    /// A rotated-out secret while it is still honoured.
    pub previous: Option<String>,
}

impl std::fmt::Debug for StoredSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredSecrets(<redacted>)")
    }
}

fn endpoint_item(endpoint: &Endpoint, secret: &str) -> Item {
    let mut item = Item::from([
        (keys::PK.into(), s(keys::project(&endpoint.project_id))),
        (keys::SK.into(), s(keys::endpoint_sk(&endpoint.id))),
        (attr::URL.into(), s(&endpoint.url)),
        (attr::CREATED.into(), millis(endpoint.created_at)),
        (attr::SECRET.into(), s(secret)),
    ]);
    if !endpoint.event_types.is_empty() {
        let types = endpoint.event_types.iter().map(|t| t.as_str().to_owned());
        item.insert(attr::TYPES.into(), AttributeValue::Ss(types.collect()));
    }
    if let Some(cid) = &endpoint.connection_id {
        item.insert(attr::CONNECTION.into(), s(cid));
    }
    item
}

fn endpoint_of(pid: &str, item: &Item) -> Result<Endpoint, StoreError> {
    let sk = get_s(item, keys::SK)?;
    let id = sk
        .strip_prefix(keys::ENDPOINT_PREFIX)
        .ok_or_else(|| StoreError::Corrupt(format!("{sk} is not an endpoint")))?;
    let mut event_types = item
        .get(attr::TYPES)
        .and_then(|v| v.as_ss().ok())
        .into_iter()
        .flatten()
        .map(|t| EventType::parse(t).ok_or_else(|| StoreError::Corrupt(format!("type {t}"))))
        .collect::<Result<Vec<_>, _>>()?;
    event_types.sort();
    Ok(Endpoint {
        id: id.to_owned(),
        project_id: pid.to_owned(),
        url: get_s(item, attr::URL)?.to_owned(),
        event_types,
        connection_id: opt_s(item, attr::CONNECTION),
        paused_at: item
            .contains_key(attr::PAUSED)
            .then(|| get_millis(item, attr::PAUSED))
            .transpose()?,
        created_at: get_millis(item, attr::CREATED)?,
    })
}

impl Store {
    /// Registers `endpoint` signed with `secret`; `false` when the project has its
    /// `MAX_ENDPOINTS_PER_PROJECT` already.
    pub async fn create_endpoint(
        &self,
        endpoint: &Endpoint,
        secret: &str,
    ) -> Result<bool, StoreError> {
        if self.endpoints(&endpoint.project_id).await?.len()
            >= model::endpoint::MAX_ENDPOINTS_PER_PROJECT
        {
            return Ok(false);
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(endpoint_item(endpoint, secret)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(true)
    }

    /// A project's endpoints, oldest first, without their secrets; read consistently, so a
    /// resume or a pause is seen as soon as it is answered.
    pub async fn endpoints(&self, pid: &str) -> Result<Vec<Endpoint>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("pk = :pk AND begins_with(sk, :ep)")
            .expression_attribute_values(":pk", s(keys::project(pid)))
            .expression_attribute_values(":ep", s(keys::ENDPOINT_PREFIX))
            .projection_expression(VIEW)
            .set_expression_attribute_names(Some(view_names()))
            .send()
            .await?;
        output.items().iter().map(|i| endpoint_of(pid, i)).collect()
    }

    pub async fn endpoint(&self, pid: &str, eid: &str) -> Result<Option<Endpoint>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::project(pid)))
            .key(keys::SK, s(keys::endpoint_sk(eid)))
            .projection_expression(VIEW)
            .set_expression_attribute_names(Some(view_names()))
            .send()
            .await?;
        output
            .item
            .as_ref()
            .map(|i| endpoint_of(pid, i))
            .transpose()
    }

    /// A project's endpoints with the secrets their deliveries are signed with now: the
    /// deliverer's read (a previous secret past its time is left out).
    pub async fn delivery_endpoints(
        &self,
        pid: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<(Endpoint, StoredSecrets)>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :ep)")
            .expression_attribute_values(":pk", s(keys::project(pid)))
            .expression_attribute_values(":ep", s(keys::ENDPOINT_PREFIX))
            .send()
            .await?;
        output
            .items()
            .iter()
            .map(|item| {
                let previous = opt_s(item, attr::PREVIOUS)
                    .filter(|_| get_n(item, attr::PREVIOUS_UNTIL) > now.timestamp_millis() as u64);
                let secrets = StoredSecrets {
                    current: get_s(item, attr::SECRET)?.to_owned(),
                    previous,
                };
                Ok((endpoint_of(pid, item)?, secrets))
            })
            .collect()
    }

    /// Pauses (at `paused_at`) or resumes (`None`) an endpoint; the endpoint as it was before,
    /// `None` if there is no such endpoint.
    pub async fn set_endpoint_paused(
        &self,
        pid: &str,
        eid: &str,
        paused_at: Option<DateTime<Utc>>,
    ) -> Result<Option<Endpoint>, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::project(pid)))
            .key(keys::SK, s(keys::endpoint_sk(eid)))
            .condition_expression("attribute_exists(pk)")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld);
        let update = match paused_at {
            // Pausing a paused endpoint keeps when it was first paused: resuming replays from
            // there.
            Some(at) => update
                .update_expression("SET paused_at = if_not_exists(paused_at, :at)")
                .expression_attribute_values(":at", millis(at)),
            None => update.update_expression("REMOVE paused_at"),
        };
        let mut before = None;
        let applied = ignore_missing(update.send().await.map(|o| before = o.attributes))?;
        match before.filter(|_| applied) {
            Some(item) => Ok(Some(endpoint_of(pid, &item)?)),
            None => Ok(None),
        }
    }

    /// Replaces an endpoint's secret with `secret`; the old one keeps signing beside it until
    /// `previous_until`. `false` if there is no such endpoint.
    pub async fn rotate_endpoint_secret(
        &self,
        pid: &str,
        eid: &str,
        secret: &str,
        previous_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        ignore_missing(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(keys::PK, s(keys::project(pid)))
                .key(keys::SK, s(keys::endpoint_sk(eid)))
                .condition_expression("attribute_exists(pk)")
                .update_expression(
                    "SET previous_secret = secret, previous_until = :until, secret = :secret",
                )
                .expression_attribute_values(":until", millis(previous_until))
                .expression_attribute_values(":secret", s(secret))
                .send()
                .await,
        )
    }

    /// `false` if there was no such endpoint.
    pub async fn delete_endpoint(&self, pid: &str, eid: &str) -> Result<bool, StoreError> {
        self.delete_existing(keys::project(pid), keys::endpoint_sk(eid))
            .await
    }

    /// Records that an endpoint never took an event. Kept `DEAD_LETTER_DAYS`; a repeat of the
    /// same event and endpoint overwrites it.
    pub async fn put_dead_letter(&self, pid: &str, letter: &DeadLetter) -> Result<(), StoreError> {
        let expires = letter.failed_at + TimeDelta::days(DEAD_LETTER_DAYS);
        let item = Item::from([
            (keys::PK.into(), s(keys::dead_letters(pid))),
            (
                keys::SK.into(),
                s(keys::dead_letter_sk(&letter.endpoint_id, &letter.event_id)),
            ),
            ("type".into(), s(letter.event_type.as_str())),
            ("mid".into(), s(&letter.ses_message_id)),
            ("attempts".into(), n(letter.attempts)),
            ("error".into(), s(&letter.last_error)),
            ("first".into(), millis(letter.first_attempt_at)),
            ("failed".into(), millis(letter.failed_at)),
            (keys::TTL.into(), n(expires.timestamp())),
        ]);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(())
    }

    /// An endpoint's latest dead letters, newest first.
    pub async fn dead_letters(
        &self,
        pid: &str,
        eid: &str,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let prefix = keys::dead_letter_sk(eid, "");
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :eid)")
            .expression_attribute_values(":pk", s(keys::dead_letters(pid)))
            .expression_attribute_values(":eid", s(&prefix))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await?;
        output
            .items()
            .iter()
            .map(|item| {
                let sk = get_s(item, keys::SK)?;
                let event_type = get_s(item, "type")?;
                Ok(DeadLetter {
                    endpoint_id: eid.to_owned(),
                    event_id: sk[prefix.len()..].to_owned(),
                    event_type: EventType::parse(event_type)
                        .ok_or_else(|| StoreError::Corrupt(format!("type {event_type}")))?,
                    ses_message_id: get_s(item, "mid")?.to_owned(),
                    attempts: u32::try_from(get_n(item, "attempts")).unwrap_or(u32::MAX),
                    last_error: get_s(item, "error")?.to_owned(),
                    first_attempt_at: get_millis(item, "first")?,
                    failed_at: get_millis(item, "failed")?,
                })
            })
            .collect()
    }
}
