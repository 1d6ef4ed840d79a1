//! One recipient's event as one compact item, and back.
//!
//! A write unit covers 1 KB, and the index copies the item, so every byte counts twice: names
//! are one or two letters, nothing is stored twice (the SES message id and project are read back
//! from the key, the tags only as the `name:value` set the tag filter matches), and the details
//! are the only JSON. A typical delivery is 550-800 bytes.

use std::borrow::Cow;
use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::attrs::{Item, get_json, get_millis, get_s, millis, n, opt_s, s};
use super::{StoreError, keys};
use model::stored_event::Details;
use model::{EventType, StoredEvent, Tags};

/// Attribute names of an event item (besides the keys and the TTL). Times are epoch
/// milliseconds.
pub mod attr {
    pub const TYPE: &str = "t";
    pub const RECIPIENT: &str = "r";
    pub const CONNECTION: &str = "c";
    pub const OCCURRED: &str = "o";
    pub const RECEIVED: &str = "a";
    /// `mail.timestamp`: when SES accepted the message.
    pub const SENT: &str = "m";
    pub const SOURCE: &str = "s";
    pub const SUBJECT: &str = "j";
    /// `name:value` for each tag value: what `tag=` filters on, and the tags read back.
    pub const TAGS: &str = "tg";
    pub const DETAILS: &str = "d";
}

/// What the event item stores beside the event itself.
pub struct EventRow<'e> {
    pub project_id: &'e str,
    /// `keys::event_sk` of the delivery that brought it.
    pub sk: String,
    pub sent_at: DateTime<Utc>,
    pub expires_at: i64,
    pub event: &'e model::Event<'e>,
}

pub fn tag_pair(name: &str, value: &str) -> String {
    [name, ":", value].concat()
}

/// The inverse of `tag_pair`. SES tag names are letters, digits, `_` and `-`, except its own
/// `ses:…` tags, which hold exactly one colon; values may hold any (IPv6 addresses do).
fn split_tag_pair(pair: &str) -> Option<(&str, &str)> {
    let name_end = match pair.strip_prefix("ses:") {
        Some(rest) => 4 + rest.find(':')?,
        None => pair.find(':')?,
    };
    Some((&pair[..name_end], &pair[name_end + 1..]))
}

fn tag_set(tags: &Tags) -> Option<AttributeValue> {
    let pairs: BTreeSet<String> = tags
        .iter()
        .flat_map(|(name, values)| values.iter().map(move |v| tag_pair(name, v)))
        .collect();
    // DynamoDB refuses an empty set; a string set may not repeat a value, hence the set.
    (!pairs.is_empty()).then(|| AttributeValue::Ss(pairs.into_iter().collect()))
}

fn tags_of(item: &Item) -> Tags {
    let mut tags = Tags::new();
    let pairs = item.get(attr::TAGS).and_then(|v| v.as_ss().ok());
    for (name, value) in pairs
        .into_iter()
        .flatten()
        .filter_map(|p| split_tag_pair(p))
    {
        tags.entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    tags
}

impl EventRow<'_> {
    pub fn item(&self) -> Result<Item, StoreError> {
        let event = self.event;
        let mut item = Item::with_capacity(16);
        item.insert(
            keys::PK.into(),
            s(keys::message(self.project_id, &event.ses_message_id)),
        );
        item.insert(keys::SK.into(), s(self.sk.clone()));
        item.insert(
            keys::GSI1_PK.into(),
            s(keys::project_events(
                self.project_id,
                keys::shard_of(&event.id, keys::EVENT_SHARDS),
            )),
        );
        item.insert(keys::GSI1_SK.into(), s(keys::event_index_sk(&event.id)));
        item.insert(attr::TYPE.into(), s(event.event_type.as_str()));
        item.insert(attr::RECIPIENT.into(), s(event.recipient.as_ref()));
        item.insert(attr::CONNECTION.into(), s(event.connection_id.as_ref()));
        item.insert(attr::OCCURRED.into(), millis(event.occurred_at));
        item.insert(attr::RECEIVED.into(), millis(event.received_at));
        item.insert(attr::SENT.into(), millis(self.sent_at));
        item.insert(attr::SOURCE.into(), s(event.source.as_ref()));
        if let Some(subject) = &event.subject {
            item.insert(attr::SUBJECT.into(), s(subject.as_ref()));
        }
        if let Some(tags) = tag_set(&event.tags) {
            item.insert(attr::TAGS.into(), tags);
        }
        if !event.details.is_empty() {
            let details = serde_json::to_string(event.details.as_ref())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            item.insert(attr::DETAILS.into(), s(details));
        }
        item.insert(keys::TTL.into(), n(self.expires_at));
        Ok(item)
    }
}

/// The project and the SES message id, from `M#<pid>#<ses message id>` (project ids hold no
/// `#`).
fn key_parts(item: &Item) -> Result<(&str, &str), StoreError> {
    let mut parts = get_s(item, keys::PK)?.splitn(3, '#');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("M"), Some(project_id), Some(ses_message_id)) => Ok((project_id, ses_message_id)),
        _ => Err(StoreError::Corrupt("not an event's key".into())),
    }
}

pub fn project_id(item: &Item) -> Result<&str, StoreError> {
    key_parts(item).map(|(project_id, _)| project_id)
}

fn event_id(item: &Item) -> Result<&str, StoreError> {
    get_s(item, keys::GSI1_SK)?
        .strip_prefix(keys::EVENT_PREFIX)
        .ok_or_else(|| StoreError::Corrupt("an event's index key without its prefix".into()))
}

pub fn is_event(item: &Item) -> bool {
    item.get(keys::SK)
        .and_then(|v| v.as_s().ok())
        .is_some_and(|sk| sk.starts_with(keys::EVENT_PREFIX))
}

pub fn sent_at(item: &Item) -> Option<DateTime<Utc>> {
    get_millis(item, attr::SENT).ok()
}

/// What releases before the compact layout stored: the whole event as JSON. Read until they
/// expire with their retention.
const LEGACY_DOCUMENT: &str = "doc";

pub fn event(item: &Item) -> Result<StoredEvent, StoreError> {
    if item.contains_key(LEGACY_DOCUMENT) {
        return get_json(item, LEGACY_DOCUMENT);
    }
    let details: Details = match item.get(attr::DETAILS) {
        Some(_) => serde_json::from_str(get_s(item, attr::DETAILS)?)
            .map_err(|e| StoreError::Corrupt(format!("event details: {e}")))?,
        None => Details::new(),
    };
    let owned = |name| get_s(item, name).map(|v| Cow::Owned(v.to_owned()));
    Ok(StoredEvent {
        id: Cow::Owned(event_id(item)?.to_owned()),
        event_type: EventType::parse(get_s(item, attr::TYPE)?).unwrap_or(EventType::Unknown),
        ses_message_id: Cow::Owned(key_parts(item)?.1.to_owned()),
        recipient: owned(attr::RECIPIENT)?,
        occurred_at: get_millis(item, attr::OCCURRED)?,
        received_at: get_millis(item, attr::RECEIVED)?,
        connection_id: owned(attr::CONNECTION)?,
        source: owned(attr::SOURCE)?,
        subject: opt_s(item, attr::SUBJECT).map(Cow::Owned),
        tags: Cow::Owned(tags_of(item)),
        details: Cow::Owned(details),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_pairs_split_where_they_were_joined() {
        for (name, value) in [
            ("campaign", "spring:2026"),
            ("ses:source-ip", "2001:db8::1"),
            ("ses:configuration-set", "trackses-x"),
            ("a-b_c", ""),
        ] {
            assert_eq!(split_tag_pair(&tag_pair(name, value)), Some((name, value)));
        }
        assert_eq!(split_tag_pair("no-colon"), None);
    }
}
