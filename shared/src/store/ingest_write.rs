//! Turning one SNS notification into DynamoDB writes that are idempotent on the SNS MessageId.
//!
//! Each chunk of recipients is one transaction guarded by its own delivery marker: a copy of the
//! same SNS message finds the marker and changes nothing, so events and counters stay exact however
//! often SNS redelivers. Recipient state is kept as per-type counts (`ADD`), which commute, so the
//! status derived from them does not depend on arrival order.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::attrs::{Item, n, s, time, time_string};
use super::connections::cancellation_codes;
use super::{Store, StoreError, keys};
use crate::model::{Event, EventType, RecipientEvent, SesNotification, ids};

/// DynamoDB allows 100 items per transaction; a recipient costs at most 3 (event, state,
/// suppression) and a chunk 4 more (marker, message, two counters).
const RECIPIENTS_PER_CHUNK: usize = 30;

pub struct IngestWrite<'a> {
    pub project_id: &'a str,
    pub connection_id: &'a str,
    pub sns_message_id: &'a str,
    pub notification: &'a SesNotification,
    pub received_at: DateTime<Utc>,
    /// Epoch seconds after which DynamoDB's TTL removes the event.
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    Stored { events: usize },
    Duplicate,
}

/// Counter attribute for a type; `bounce_permanent` is counted beside `bounce` for the bounce rate.
pub const PERMANENT_BOUNCE_COUNTER: &str = "bounce_permanent";

fn is_permanent(recipient: &RecipientEvent) -> bool {
    recipient
        .details
        .get("bounce_type")
        .and_then(|v| v.as_str())
        == Some("Permanent")
}

fn suppression_reason(event_type: EventType, recipient: &RecipientEvent) -> Option<&'static str> {
    match event_type {
        EventType::Bounce if is_permanent(recipient) => Some("bounce"),
        EventType::Complaint => Some("complaint"),
        _ => None,
    }
}

impl IngestWrite<'_> {
    pub fn events(&self, recipients: &[RecipientEvent]) -> Vec<Event> {
        let n = self.notification;
        recipients
            .iter()
            .map(|r| Event {
                id: ids::event_id(),
                event_type: n.event_type,
                ses_message_id: n.mail.ses_message_id.clone(),
                recipient: r.recipient.clone(),
                occurred_at: n.occurred_at,
                received_at: self.received_at,
                connection_id: self.connection_id.to_owned(),
                source: n.mail.source.clone(),
                subject: n.mail.subject.clone(),
                tags: n.mail.tags.clone(),
                details: r.details.clone(),
            })
            .collect()
    }
}

struct Names(HashMap<String, String>);
struct Values(HashMap<String, AttributeValue>);

impl Store {
    fn update(
        &self,
        pk: String,
        sk: String,
        expression: &str,
        names: Names,
        values: Values,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression(expression)
            .set_expression_attribute_names(Some(names.0).filter(|m| !m.is_empty()))
            .set_expression_attribute_values(Some(values.0))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Builds every transaction for one notification, without calling DynamoDB.
    pub fn ingest_transactions(
        &self,
        write: &IngestWrite<'_>,
    ) -> Result<Vec<Vec<TransactWriteItem>>, StoreError> {
        write
            .notification
            .recipients
            .chunks(RECIPIENTS_PER_CHUNK)
            .enumerate()
            .map(|(chunk, recipients)| self.chunk_transaction(write, chunk, recipients))
            .collect()
    }

    fn chunk_transaction(
        &self,
        write: &IngestWrite<'_>,
        chunk: usize,
        recipients: &[RecipientEvent],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let notification = write.notification;
        let pid = write.project_id;
        let mail = &notification.mail;
        let message_pk = keys::message(pid, &mail.ses_message_id);
        let expires = n(write.expires_at);
        let mut items = Vec::with_capacity(4 + recipients.len() * 3);

        items.push(self.put(
            Item::from([
                (
                    keys::PK.into(),
                    s(keys::delivery_marker(
                        write.connection_id,
                        write.sns_message_id,
                        chunk,
                    )),
                ),
                (keys::SK.into(), s(keys::MARKER_SK)),
                (keys::TTL.into(), expires.clone()),
            ]),
            Some("attribute_not_exists(pk)"),
        )?);

        // Every notification of a message carries the same `mail`; the first one to land wins.
        let mut names = Names(HashMap::from([
            ("#src".into(), "source".into()),
            ("#sent".into(), "sent_at".into()),
            ("#tags".into(), "tags".into()),
            ("#conn".into(), "connection_id".into()),
            ("#ttl".into(), keys::TTL.into()),
        ]));
        let mut values = Values(HashMap::from([
            (":src".into(), s(&mail.source)),
            (":sent".into(), time(mail.sent_at)),
            (
                ":tags".into(),
                s(serde_json::to_string(&mail.tags).unwrap_or_default()),
            ),
            (":conn".into(), s(write.connection_id)),
            (":ttl".into(), expires.clone()),
        ]));
        let mut expression = String::from(
            "SET #src = if_not_exists(#src, :src), #sent = if_not_exists(#sent, :sent), \
             #tags = if_not_exists(#tags, :tags), #conn = if_not_exists(#conn, :conn), #ttl = :ttl",
        );
        if let Some(subject) = &mail.subject {
            names.0.insert("#subj".into(), "subject".into());
            values.0.insert(":subj".into(), s(subject));
            expression.push_str(", #subj = if_not_exists(#subj, :subj)");
        }
        items.push(self.update(
            message_pk.clone(),
            keys::MESSAGE_SK.into(),
            &expression,
            names,
            values,
        )?);

        let type_name = notification.event_type.as_str();
        let shard = keys::shard_of(write.sns_message_id, keys::COUNTER_SHARDS);
        for event in write.events(recipients) {
            items.push(self.put(event_item(pid, &event, expires.clone())?, None)?);
            items.push(self.update(
                message_pk.clone(),
                keys::recipient_sk(&event.recipient),
                "ADD #count :one SET #ttl = :ttl",
                Names(HashMap::from([
                    ("#count".into(), format!("n_{type_name}")),
                    ("#ttl".into(), keys::TTL.into()),
                ])),
                Values(HashMap::from([
                    (":one".into(), n(1)),
                    (":ttl".into(), expires.clone()),
                ])),
            )?);
        }
        for recipient in recipients {
            if let Some(reason) = suppression_reason(notification.event_type, recipient) {
                items.push(self.update(
                    keys::suppressions(pid),
                    recipient.recipient.clone(),
                    "SET reason = :r, last_event_at = :t, ses_message_id = :m",
                    Names(HashMap::new()),
                    Values(HashMap::from([
                        (":r".into(), s(reason)),
                        (":t".into(), time(notification.occurred_at)),
                        (":m".into(), s(&mail.ses_message_id)),
                    ])),
                )?);
            }
        }

        let permanent = recipients.iter().filter(|r| is_permanent(r)).count();
        let occurred = time_string(notification.occurred_at);
        for bucket in [
            keys::hour_bucket(&occurred[..13], write.connection_id),
            keys::day_bucket(&occurred[..10], write.connection_id),
        ] {
            let mut names = Names(HashMap::from([("#t".into(), type_name.to_owned())]));
            let mut values = Values(HashMap::from([(":n".into(), n(recipients.len()))]));
            let mut expression = String::from("ADD #t :n");
            if permanent > 0 {
                names.0.insert("#p".into(), PERMANENT_BOUNCE_COUNTER.into());
                values.0.insert(":p".into(), n(permanent));
                expression.push_str(", #p :p");
            }
            items.push(self.update(
                keys::counters(pid, shard),
                bucket,
                &expression,
                names,
                values,
            )?);
        }
        Ok(items)
    }

    /// Writes a notification once. A transaction whose marker exists is a duplicate copy.
    pub async fn write_ingest(&self, write: &IngestWrite<'_>) -> Result<WriteOutcome, StoreError> {
        let mut stored = 0;
        for (chunk, items) in self.ingest_transactions(write)?.into_iter().enumerate() {
            let events = write
                .notification
                .recipients
                .len()
                .saturating_sub(chunk * RECIPIENTS_PER_CHUNK)
                .min(RECIPIENTS_PER_CHUNK);
            match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
            {
                Ok(_) => stored += events,
                Err(e)
                    if cancellation_codes(&e).first().map(String::as_str)
                        == Some("ConditionalCheckFailed") => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(if stored == 0 {
            WriteOutcome::Duplicate
        } else {
            WriteOutcome::Stored { events: stored }
        })
    }
}

fn event_item(pid: &str, event: &Event, expires: AttributeValue) -> Result<Item, StoreError> {
    let doc = serde_json::to_string(event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut item = Item::from([
        (
            keys::PK.into(),
            s(keys::message(pid, &event.ses_message_id)),
        ),
        (keys::SK.into(), s(keys::event_sk(&event.id))),
        (
            keys::GSI1_PK.into(),
            s(keys::project_events(
                pid,
                keys::shard_of(&event.id, keys::EVENT_SHARDS),
            )),
        ),
        (keys::GSI1_SK.into(), s(keys::event_sk(&event.id))),
        ("event_type".into(), s(event.event_type.as_str())),
        ("recipient".into(), s(&event.recipient)),
        ("connection_id".into(), s(&event.connection_id)),
        ("occurred_at".into(), time(event.occurred_at)),
        ("doc".into(), s(doc)),
        (keys::TTL.into(), expires),
    ]);
    // A string set may not hold the same value twice, hence the set.
    let tag_pairs: Vec<String> = event
        .tags
        .iter()
        .flat_map(|(name, values)| values.iter().map(move |v| format!("{name}:{v}")))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !tag_pairs.is_empty() {
        item.insert("tag_pairs".into(), AttributeValue::Ss(tag_pairs));
    }
    Ok(item)
}
