//! Reading events back: a project's stream (sharded, merged by id) and one message's timeline.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::attrs::{Item, get_json, get_n, get_s, get_time, opt_s, s, time};
use super::{Store, StoreError, keys};
use model::{EventType, RecipientStatus, StoredEvent, Tags};

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub event_type: Option<EventType>,
    pub recipient: Option<String>,
    pub message_id: Option<String>,
    pub connection_id: Option<String>,
    /// `name:value`, as stored in `tag_pairs`.
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

/// One partition to read events from: a shard of the project's stream, or one message.
struct Source {
    index: Option<&'static str>,
    pk_name: &'static str,
    sk_name: &'static str,
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
        if let Some(t) = self.event_type {
            clauses.push("#ty = :ty");
            names.insert("#ty".to_owned(), "event_type".to_owned());
            values.insert(":ty".to_owned(), s(t.as_str()));
        }
        if let Some(r) = &self.recipient {
            clauses.push("recipient = :rcpt");
            values.insert(":rcpt".to_owned(), s(r));
        }
        if let Some(c) = &self.connection_id {
            clauses.push("connection_id = :conn");
            values.insert(":conn".to_owned(), s(c));
        }
        if let Some(tag) = &self.tag {
            clauses.push("contains(tag_pairs, :tag)");
            values.insert(":tag".to_owned(), s(tag));
        }
        if let Some(from) = self.from {
            clauses.push("occurred_at >= :from");
            values.insert(":from".to_owned(), time(from));
        }
        if let Some(to) = self.to {
            clauses.push("occurred_at <= :to");
            values.insert(":to".to_owned(), time(to));
        }
        let expression = (!clauses.is_empty()).then(|| clauses.join(" AND "));
        (expression, names, values)
    }
}

/// Above every character of an event id, so `E#~` closes the range.
const SK_CEILING: &str = "E#~";

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
        let sources: Vec<Source> = match &filter.message_id {
            Some(mid) => vec![Source {
                index: None,
                pk_name: keys::PK,
                sk_name: keys::SK,
                pk: keys::message(pid, mid),
            }],
            None => (0..keys::EVENT_SHARDS)
                .map(|shard| Source {
                    index: Some(keys::GSI1),
                    pk_name: keys::GSI1_PK,
                    sk_name: keys::GSI1_SK,
                    pk: keys::project_events(pid, shard),
                })
                .collect(),
        };
        let reads = sources
            .iter()
            .map(|source| self.read_source(source, filter, from, limit));
        let reads = futures_util::future::try_join_all(reads).await?;
        Ok(merge(reads, from, limit))
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
            PageFrom::Newest(Some(c)) => (keys::EVENT_PREFIX.to_owned(), keys::event_sk(c), false),
            PageFrom::After(c) => (keys::event_sk(c), SK_CEILING.to_owned(), true),
        };
        let cursor = match from {
            PageFrom::Newest(c) => c.as_deref(),
            PageFrom::After(c) => Some(c.as_str()),
        };
        let (filter_expression, mut names, mut values) = filter.expression();
        names.insert("#pk".into(), source.pk_name.into());
        names.insert("#sk".into(), source.sk_name.into());
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
                .set_index_name(source.index.map(str::to_owned))
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
                let event: StoredEvent = get_json(item, "doc")?;
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
            .and_then(|key| key.get(source.sk_name))
            .and_then(|sk| sk.as_s().ok())
            .and_then(|sk| sk.strip_prefix(keys::EVENT_PREFIX))
            .map(str::to_owned);
        Ok(SourceRead { events, resume_at })
    }

    pub async fn message_timeline(
        &self,
        pid: &str,
        ses_message_id: &str,
    ) -> Result<Option<MessageTimeline>, StoreError> {
        let items: Vec<Item> = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::message(pid, ses_message_id)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await?;
        if items.is_empty() {
            return Ok(None);
        }
        let mut timeline = MessageTimeline {
            ses_message_id: ses_message_id.to_owned(),
            source: None,
            subject: None,
            sent_at: None,
            tags: Tags::new(),
            recipients: Vec::new(),
        };
        let mut events: HashMap<String, Vec<StoredEvent>> = HashMap::new();
        for item in &items {
            let sk = get_s(item, keys::SK)?;
            if sk == keys::MESSAGE_SK {
                timeline.source = opt_s(item, "source");
                timeline.subject = opt_s(item, "subject");
                timeline.sent_at = get_time(item, "sent_at").ok();
                timeline.tags = get_json(item, "tags").unwrap_or_default();
            } else if let Some(recipient) = sk.strip_prefix(keys::RECIPIENT_PREFIX) {
                let status =
                    RecipientStatus::from_seen(|t| get_n(item, &format!("n_{}", t.as_str())) > 0);
                timeline.recipients.push(RecipientTimeline {
                    recipient: recipient.to_owned(),
                    status,
                    events: Vec::new(),
                });
            } else if sk.starts_with(keys::EVENT_PREFIX) {
                let event: StoredEvent = get_json(item, "doc")?;
                events
                    .entry(event.recipient.to_string())
                    .or_default()
                    .push(event);
            }
        }
        for recipient in &mut timeline.recipients {
            let mut mine = events.remove(&recipient.recipient).unwrap_or_default();
            mine.sort_by(|a, b| (a.occurred_at, &a.id).cmp(&(b.occurred_at, &b.id)));
            recipient.events = mine;
        }
        Ok(Some(timeline))
    }
}
