//! Turning one SNS notification into DynamoDB writes that are idempotent on the SNS MessageId.
//!
//! Each chunk of recipients is one transaction guarded by its own delivery marker: a copy of the
//! same SNS message finds the marker and changes nothing, so events and counters stay exact however
//! often SNS redelivers. Recipient state is kept as per-type counts (`ADD`), which commute, so the
//! status derived from them does not depend on arrival order.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::attrs::{Item, n, s, time, time_string};
use super::conditions::cancellation_codes;
use super::keys::{CounterScope, Granularity};
use super::{Store, StoreError, keys};
use ingest::{IngestWrite, WriteOutcome};
use model::{Event, EventType, RecipientEvent};

/// A recipient costs at most 3 items (event, state, suppression) and a chunk 6 more (marker,
/// message, four counters): 81 of DynamoDB's 100 a transaction. SES names at most 50 recipients,
/// so a notification is at most two transactions; and with every field at `ses::limits` an event
/// item is about 140 KB, so 25 of them stay under the 4 MB a transaction may write (30 would not:
/// see the test below).
const RECIPIENTS_PER_CHUNK: usize = 25;

/// Counter attribute for a type; `bounce_permanent` is counted beside `bounce` for the bounce rate.
pub const PERMANENT_BOUNCE_COUNTER: &str = "bounce_permanent";

fn suppression_reason(event_type: EventType, recipient: &RecipientEvent) -> Option<&'static str> {
    match event_type {
        EventType::Bounce if recipient.is_permanent_bounce() => Some("bounce"),
        EventType::Complaint => Some("complaint"),
        _ => None,
    }
}

/// What every item of a notification's transactions shares, computed once per notification.
struct Common<'w, 'n> {
    write: &'w IngestWrite<'n>,
    message_pk: String,
    expires: AttributeValue,
    occurred: String,
    /// `name:value` pairs for the tag filter; a string set may not repeat a value, hence the set.
    tag_pairs: Option<AttributeValue>,
    counter_shard: u32,
}

impl<'w, 'n> Common<'w, 'n> {
    fn new(write: &'w IngestWrite<'n>) -> Common<'w, 'n> {
        let notification = write.notification;
        let pairs: BTreeSet<String> = notification
            .mail
            .tags
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |v| [name.as_str(), ":", v].concat()))
            .collect();
        Common {
            write,
            message_pk: keys::message(write.project_id, &notification.mail.ses_message_id),
            expires: n(write.expires_at),
            occurred: time_string(notification.occurred_at),
            tag_pairs: (!pairs.is_empty()).then(|| AttributeValue::Ss(pairs.into_iter().collect())),
            counter_shard: keys::shard_of(write.sns_message_id, keys::COUNTER_SHARDS),
        }
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
        let common = Common::new(write);
        write
            .notification
            .recipients
            .chunks(RECIPIENTS_PER_CHUNK)
            .enumerate()
            .map(|(chunk, recipients)| {
                let mut items = Vec::with_capacity(6 + recipients.len() * 3);
                items.push(self.marker(&common, chunk)?);
                items.push(self.message_update(&common)?);
                self.recipient_items(&common, recipients, &mut items)?;
                self.counter_updates(&common, recipients, &mut items)?;
                Ok(items)
            })
            .collect()
    }

    /// The guard: the transaction fails on a copy of an SNS message already stored.
    fn marker(
        &self,
        common: &Common<'_, '_>,
        chunk: usize,
    ) -> Result<TransactWriteItem, StoreError> {
        let write = common.write;
        let marker = keys::delivery_marker(write.connection_id, write.sns_message_id, chunk);
        self.put(
            Item::from([
                (keys::PK.into(), s(marker)),
                (keys::SK.into(), s(keys::MARKER_SK)),
                (keys::TTL.into(), n(write.marker_expires_at)),
            ]),
            Some("attribute_not_exists(pk)"),
        )
    }

    /// Every notification of a message carries the same `mail`; the first one to land wins.
    fn message_update(&self, common: &Common<'_, '_>) -> Result<TransactWriteItem, StoreError> {
        let mail = &common.write.notification.mail;
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
            (":conn".into(), s(common.write.connection_id)),
            (":ttl".into(), common.expires.clone()),
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
        self.update(
            common.message_pk.clone(),
            keys::MESSAGE_SK.into(),
            &expression,
            names,
            values,
        )
    }

    /// Per recipient: the event, its state count, and a suppression entry where one is due.
    fn recipient_items(
        &self,
        common: &Common<'_, '_>,
        recipients: &[RecipientEvent],
        items: &mut Vec<TransactWriteItem>,
    ) -> Result<(), StoreError> {
        let write = common.write;
        let notification = write.notification;
        let count = ["n_", notification.event_type.as_str()].concat();
        for (event, recipient) in write.events(recipients).zip(recipients) {
            items.push(self.put(event_item(write.project_id, &event, common)?, None)?);
            items.push(self.update(
                common.message_pk.clone(),
                keys::recipient_sk(&event.recipient),
                "ADD #count :one SET #ttl = :ttl",
                Names(HashMap::from([
                    ("#count".into(), count.clone()),
                    ("#ttl".into(), keys::TTL.into()),
                ])),
                Values(HashMap::from([
                    (":one".into(), n(1)),
                    (":ttl".into(), common.expires.clone()),
                ])),
            )?);
            if let Some(reason) = suppression_reason(notification.event_type, recipient) {
                items.push(self.update(
                    keys::suppressions(write.project_id),
                    recipient.recipient.clone(),
                    "SET reason = :r, last_event_at = :t, ses_message_id = :m",
                    Names(HashMap::new()),
                    Values(HashMap::from([
                        (":r".into(), s(reason)),
                        (":t".into(), s(common.occurred.clone())),
                        (":m".into(), s(&notification.mail.ses_message_id)),
                    ])),
                )?);
            }
        }
        Ok(())
    }

    /// Daily and hourly counts by type, for the project and for the connection, each on one of
    /// its partition's shards.
    fn counter_updates(
        &self,
        common: &Common<'_, '_>,
        recipients: &[RecipientEvent],
        items: &mut Vec<TransactWriteItem>,
    ) -> Result<(), StoreError> {
        let write = common.write;
        let type_name = write.notification.event_type.as_str();
        let permanent = recipients
            .iter()
            .filter(|r| r.is_permanent_bounce())
            .count();
        let mut expression = String::from("ADD #t :n");
        let mut names = HashMap::from([("#t".to_owned(), type_name.to_owned())]);
        let mut values = HashMap::from([(":n".to_owned(), n(recipients.len()))]);
        if permanent > 0 {
            expression.push_str(", #p :p");
            names.insert("#p".into(), PERMANENT_BOUNCE_COUNTER.into());
            values.insert(":p".into(), n(permanent));
        }
        for scope in [
            CounterScope::Project,
            CounterScope::Connection(write.connection_id),
        ] {
            for granularity in [Granularity::Day, Granularity::Hour] {
                items.push(self.update(
                    keys::counters(write.project_id, scope, granularity, common.counter_shard),
                    granularity.bucket(&common.occurred).to_owned(),
                    &expression,
                    Names(names.clone()),
                    Values(values.clone()),
                )?);
            }
        }
        Ok(())
    }

    /// Writes a notification once. A transaction whose marker exists is a duplicate copy.
    pub async fn write_ingest(&self, write: &IngestWrite<'_>) -> Result<WriteOutcome, StoreError> {
        let transactions = self.ingest_transactions(write)?;
        let chunks = write.notification.recipients.chunks(RECIPIENTS_PER_CHUNK);
        let mut stored = 0;
        for (items, recipients) in transactions.into_iter().zip(chunks) {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await;
            match result {
                Ok(_) => stored += recipients.len(),
                // The marker is the first item: its condition failing means "already stored".
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

fn event_item(pid: &str, event: &Event<'_>, common: &Common<'_, '_>) -> Result<Item, StoreError> {
    let mut doc = Vec::with_capacity(2048);
    serde_json::to_writer(&mut doc, event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let doc = String::from_utf8(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let event_sk = keys::event_sk(&event.id);
    let mut item = Item::from([
        (keys::PK.into(), s(common.message_pk.clone())),
        (
            keys::GSI1_PK.into(),
            s(keys::project_events(
                pid,
                keys::shard_of(&event.id, keys::EVENT_SHARDS),
            )),
        ),
        (keys::GSI1_SK.into(), s(event_sk.clone())),
        (keys::SK.into(), s(event_sk)),
        ("event_type".into(), s(event.event_type.as_str())),
        ("recipient".into(), s(event.recipient.as_ref())),
        ("connection_id".into(), s(event.connection_id.as_ref())),
        ("occurred_at".into(), s(common.occurred.clone())),
        ("doc".into(), s(doc)),
        (keys::TTL.into(), common.expires.clone()),
    ]);
    if let Some(pairs) = &common.tag_pairs {
        item.insert("tag_pairs".into(), pairs.clone());
    }
    Ok(item)
}

#[cfg(test)]
#[path = "ingest_write_tests.rs"]
mod tests;
