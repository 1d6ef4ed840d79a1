//! Reading events back: a project's stream (sharded, merged by id) and one message's timeline.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::attrs::{Item, millis, s};
use super::event_item::{self, attr};
use super::{Store, StoreError, keys};
use model::{EventType, RecipientStatus, StoredEvent, Tags};

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub event_type: Option<EventType>,
    pub recipient: Option<String>,
    pub message_id: Option<String>,
    pub connection_id: Option<String>,
    /// `name:value`, as the event item's tag set holds it.
    pub tag: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Where a page starts. Cursors are event ids, which sort by arrival.
#[derive(Debug, Clone)]
pub enum PageFrom {
    /// Newest first, strictly older than the cursor when there is one.
    Newest(Option<String>),
    /// Oldest first, strictly newer than the cursor: the live tail.
    After(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    pub items: Vec<StoredEvent>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientTimeline {
    pub recipient: String,
    pub status: RecipientStatus,
    pub events: Vec<StoredEvent>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageTimeline {
    pub ses_message_id: String,
    pub source: Option<String>,
    pub subject: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Vec<String>>, inline))]
    pub tags: Tags,
    pub recipients: Vec<RecipientTimeline>,
}

/// One shard of the project's stream on the index, sorted by event id.
struct Source {
    pk: String,
}

impl EventFilter {
    fn expression(
        &self,
    ) -> (
        Option<String>,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
    ) {
        let mut clauses = Vec::new();
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut clause =
            |clause: &'static str, name: &str, attribute: &str, value: AttributeValue| {
                clauses.push(clause);
                names.insert(name.to_owned(), attribute.to_owned());
                values.insert(name.replace('#', ":"), value);
            };
        if let Some(t) = self.event_type {
            clause("#ty = :ty", "#ty", attr::TYPE, s(t.as_str()));
        }
        if let Some(r) = &self.recipient {
            clause("#rcpt = :rcpt", "#rcpt", attr::RECIPIENT, s(r));
        }
        if let Some(c) = &self.connection_id {
            clause("#conn = :conn", "#conn", attr::CONNECTION, s(c));
        }
        if let Some(tag) = &self.tag {
            clause("contains(#tag, :tag)", "#tag", attr::TAGS, s(tag));
        }
        if let Some(from) = self.from {
            clause("#from >= :from", "#from", attr::OCCURRED, millis(from));
        }
        if let Some(to) = self.to {
            clause("#to <= :to", "#to", attr::OCCURRED, millis(to));
        }
        let expression = (!clauses.is_empty()).then(|| clauses.join(" AND "));
        (expression, names, values)
    }
}

/// Above every character of an event id, so `E#~` closes the range.
const SK_CEILING: &str = "E#~";

/// The most of one message's events read: 50 recipients (SES's most) with 20 events each.
const MESSAGE_EVENTS_READ: usize = 1_000;

/// How many queries one page may spend on each partition: a filter that matches little cannot
/// make a request read a project's whole history; it answers with what it found and a cursor.
const PAGES_PER_SOURCE: usize = 3;

/// What one partition gave, and where it stopped if it is not done (an event id).
struct SourceRead {
    events: Vec<StoredEvent>,
    resume_at: Option<String>,
}

/// Merges the partitions' reads into one page. Where some partition stopped early, the page ends
/// at the stop nearest the start (the newest for newest-first, the oldest for the tail): past it,
/// that partition is unread, so events beyond it from other partitions wait for the next page.
fn merge(reads: Vec<SourceRead>, from: &PageFrom, limit: usize) -> EventPage {
    let newest_first = matches!(from, PageFrom::Newest(_));
    let stops = reads.iter().filter_map(|r| r.resume_at.clone());
    let boundary = if newest_first {
        stops.max()
    } else {
        stops.min()
    };
    let within = |id: &str| match &boundary {
        None => true,
        Some(b) if newest_first => id >= b.as_str(),
        Some(b) => id <= b.as_str(),
    };
    let mut items: Vec<StoredEvent> = reads
        .into_iter()
        .flat_map(|r| r.events)
        .filter(|e| within(&e.id))
        .collect();
    items.sort_by(|a, b| {
        if newest_first {
            b.id.cmp(&a.id)
        } else {
            a.id.cmp(&b.id)
        }
    });
    let full = items.len() > limit;
    items.truncate(limit);
    let last = items.last().map(|e| e.id.to_string());
    let next_cursor = match from {
        PageFrom::Newest(_) if full => last,
        PageFrom::Newest(_) => boundary,
        // A tail always hands back where to poll from next, even when nothing new arrived.
        PageFrom::After(cursor) if full => last,
        PageFrom::After(cursor) => boundary.or(last).or_else(|| Some(cursor.clone())),
    };
    EventPage { items, next_cursor }
}

impl Store {
    pub async fn list_events(
        &self,
        pid: &str,
        filter: &EventFilter,
        from: &PageFrom,
        limit: usize,
    ) -> Result<EventPage, StoreError> {
        if let Some(mid) = &filter.message_id {
            let read = self.read_message(pid, mid, filter, from, limit).await?;
            return Ok(merge(vec![read], from, limit));
        }
        let sources: Vec<Source> = (0..keys::EVENT_SHARDS)
            .map(|shard| Source {
                pk: keys::project_events(pid, shard),
            })
            .collect();
        let reads = sources
            .iter()
            .map(|source| self.read_source(source, filter, from, limit));
        let reads = futures_util::future::try_join_all(reads).await?;
        Ok(merge(reads, from, limit))
    }

    /// One message's events: its partition is small (a recipient has a handful of events, a
    /// message at most 50 recipients) and keyed by delivery, so it is read whole (up to
    /// `MESSAGE_EVENTS_READ`) and paged here.
    async fn read_message(
        &self,
        pid: &str,
        ses_message_id: &str,
        filter: &EventFilter,
        from: &PageFrom,
        limit: usize,
    ) -> Result<SourceRead, StoreError> {
        let items = self.message_items(pid, ses_message_id, filter).await?;
        let mut events = items
            .iter()
            .map(event_item::event)
            .collect::<Result<Vec<_>, _>>()?;
        match from {
            PageFrom::Newest(cursor) => {
                events.retain(|e| cursor.as_deref().is_none_or(|c| e.id.as_ref() < c));
                events.sort_by(|a, b| b.id.cmp(&a.id));
            }
            PageFrom::After(cursor) => {
                events.retain(|e| e.id.as_ref() > cursor.as_str());
                events.sort_by(|a, b| a.id.cmp(&b.id));
            }
        }
        // One more than a page, so that `merge` sees there is more and hands out a cursor.
        events.truncate(limit + 1);
        Ok(SourceRead {
            events,
            resume_at: None,
        })
    }

    /// A message partition's events that match `filter`, at most `MESSAGE_EVENTS_READ` of them:
    /// a project that publishes forged notifications reusing one message id (to its own topic)
    /// makes only its own message long, and not without bound to read.
    async fn message_items(
        &self,
        pid: &str,
        ses_message_id: &str,
        filter: &EventFilter,
    ) -> Result<Vec<Item>, StoreError> {
        let (filter_expression, names, mut values) = filter.expression();
        values.insert(":pk".into(), s(keys::message(pid, ses_message_id)));
        values.insert(":e".into(), s(keys::EVENT_PREFIX));
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :e)")
            .set_filter_expression(filter_expression)
            .set_expression_attribute_names(Some(names).filter(|n| !n.is_empty()))
            .set_expression_attribute_values(Some(values))
            .into_paginator()
            .items()
            .send();
        let mut items = Vec::new();
        while items.len() < MESSAGE_EVENTS_READ {
            match pages.next().await {
                Some(item) => items.push(item?),
                None => break,
            }
        }
        Ok(items)
    }

    /// Reads up to `limit` matching events from one partition, in at most
    /// `PAGES_PER_SOURCE` queries, and says where it stopped if the partition is not done.
    async fn read_source(
        &self,
        source: &Source,
        filter: &EventFilter,
        from: &PageFrom,
        limit: usize,
    ) -> Result<SourceRead, StoreError> {
        let (low, high, forward) = match from {
            PageFrom::Newest(None) => (keys::EVENT_PREFIX.to_owned(), SK_CEILING.to_owned(), false),
            PageFrom::Newest(Some(c)) => (
                keys::EVENT_PREFIX.to_owned(),
                keys::event_index_sk(c),
                false,
            ),
            PageFrom::After(c) => (keys::event_index_sk(c), SK_CEILING.to_owned(), true),
        };
        let cursor = match from {
            PageFrom::Newest(c) => c.as_deref(),
            PageFrom::After(c) => Some(c.as_str()),
        };
        let (filter_expression, mut names, mut values) = filter.expression();
        names.insert("#pk".into(), keys::GSI1_PK.into());
        names.insert("#sk".into(), keys::GSI1_SK.into());
        values.insert(":pk".into(), s(&source.pk));
        values.insert(":low".into(), s(low));
        values.insert(":high".into(), s(high));

        let mut events = Vec::new();
        let mut start_key = None;
        for _ in 0..PAGES_PER_SOURCE {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::GSI1)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :low AND :high")
                .set_filter_expression(filter_expression.clone())
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(forward)
                .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key)
                .send()
                .await?;
            for item in output.items() {
                let event = event_item::event(item)?;
                // BETWEEN includes its bounds; the cursor's own event was already shown.
                if Some(event.id.as_ref()) != cursor {
                    events.push(event);
                }
            }
            start_key = output.last_evaluated_key;
            if events.len() >= limit {
                events.truncate(limit);
                let resume_at = events.last().map(|e| e.id.to_string());
                return Ok(SourceRead { events, resume_at });
            }
            if start_key.is_none() {
                return Ok(SourceRead {
                    events,
                    resume_at: None,
                });
            }
        }
        // Out of pages: resume after the last event this partition evaluated, matched or not.
        let resume_at = start_key
            .as_ref()
            .and_then(|key| key.get(keys::GSI1_SK))
            .and_then(|sk| sk.as_s().ok())
            .and_then(|sk| sk.strip_prefix(keys::EVENT_PREFIX))
            .map(str::to_owned);
        Ok(SourceRead { events, resume_at })
    }

    /// One query: the message's events, grouped by recipient, each recipient's status derived
    /// from the types of its events (so it does not depend on the order they arrived in).
    pub async fn message_timeline(
        &self,
        pid: &str,
        ses_message_id: &str,
    ) -> Result<Option<MessageTimeline>, StoreError> {
        let items = self
            .message_items(pid, ses_message_id, &EventFilter::default())
            .await?;
        let Some(first) = items.first() else {
            return Ok(None);
        };
        let sent_at = event_item::sent_at(first);
        let mut by_recipient: BTreeMap<String, Vec<StoredEvent>> = BTreeMap::new();
        for item in &items {
            let event = event_item::event(item)?;
            by_recipient
                .entry(event.recipient.to_string())
                .or_default()
                .push(event);
        }
        let any = by_recipient.values().flatten().next().cloned();
        let recipients = by_recipient
            .into_iter()
            .map(|(recipient, mut events)| {
                events.sort_by(|a, b| (a.occurred_at, &a.id).cmp(&(b.occurred_at, &b.id)));
                let status =
                    RecipientStatus::from_seen(|t| events.iter().any(|e| e.event_type == t));
                RecipientTimeline {
                    recipient,
                    status,
                    events,
                }
            })
            .collect();
        Ok(any.map(|event| MessageTimeline {
            ses_message_id: ses_message_id.to_owned(),
            source: Some(event.source.into_owned()),
            subject: event.subject.map(Cow::into_owned),
            sent_at,
            tags: event.tags.into_owned(),
            recipients,
        }))
    }
}
