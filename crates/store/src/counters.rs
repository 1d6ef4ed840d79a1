//! Counters and suppressions, written from the table's stream rather than on the ingest path.
//!
//! A consumer folds a window of stored events into a `Tally` and applies it with one update per
//! counter item. Applying is idempotent per stream shard: each counter item remembers, per
//! shard, the first sequence number of the last window it took (`window_mark`), and takes a
//! window only if it starts after that. A window retried after a partial failure skips the items
//! it already reached and completes the others, so every count lands exactly once.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeDelta, Utc};
use futures_util::{StreamExt, TryStreamExt, stream};

use super::attrs::{n, s, time_string};
use super::conditions::ignore_missing;
use super::keys::{self, CounterScope, Granularity};
use super::{Store, StoreError};
use model::{AlertRule, Condition, EventType, StoredEvent};

/// Counter attribute for a type; `bounce_permanent` is counted beside `bounce` for the bounce rate.
pub const PERMANENT_BOUNCE_COUNTER: &str = "bounce_permanent";

/// Counter items updated at once while applying a window.
const CONCURRENT_UPDATES: usize = 16;

/// Whose counters an item holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ScopeId {
    Project,
    Connection(String),
    Rule(String),
}

/// One counter item: a project's, one of its connections' or one of its alert rules', for one
/// day, hour or minute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CounterKey {
    pub project_id: String,
    pub scope: ScopeId,
    pub granularity: Granularity,
    /// `Granularity::bucket`'s.
    pub bucket: String,
}

impl CounterKey {
    pub fn scope(&self) -> CounterScope<'_> {
        match &self.scope {
            ScopeId::Project => CounterScope::Project,
            ScopeId::Connection(cid) => CounterScope::Connection(cid),
            ScopeId::Rule(rule_id) => CounterScope::Rule(rule_id),
        }
    }
}

/// Counts to add, by counter item, then by counter name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(BTreeMap<CounterKey, BTreeMap<String, u64>>);

impl Tally {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, key: CounterKey, counter: &str, count: u64) {
        *self
            .0
            .entry(key)
            .or_default()
            .entry(counter.to_owned())
            .or_default() += count;
    }

    /// One event, in its project's and its connection's day and hour.
    pub fn count(&mut self, project_id: &str, event: &StoredEvent) {
        let occurred = time_string(event.occurred_at);
        for scope in [
            ScopeId::Project,
            ScopeId::Connection(event.connection_id.to_string()),
        ] {
            for granularity in [Granularity::Day, Granularity::Hour] {
                let key = CounterKey {
                    project_id: project_id.to_owned(),
                    scope: scope.clone(),
                    granularity,
                    bucket: granularity.bucket(&occurred).to_owned(),
                };
                if event.is_permanent_bounce() {
                    self.add(key.clone(), PERMANENT_BOUNCE_COUNTER, 1);
                }
                self.add(key, event.event_type.as_str(), 1);
            }
        }
    }

    /// One event in the counters of each of its project's `rules` that it concerns: by hour
    /// for rates, by minute for bursts.
    pub fn count_for_rules(&mut self, project_id: &str, event: &StoredEvent, rules: &[AlertRule]) {
        let occurred = time_string(event.occurred_at);
        for rule in rules {
            let granularity = match rule.condition {
                Condition::Burst { .. } => Granularity::Minute,
                _ => Granularity::Hour,
            };
            for counter in rule.counters_of(event) {
                let key = CounterKey {
                    project_id: project_id.to_owned(),
                    scope: ScopeId::Rule(rule.id.clone()),
                    granularity,
                    bucket: granularity.bucket(&occurred).to_owned(),
                };
                self.add(key, counter, 1);
            }
        }
    }

    /// The alert rules whose counters this tally moves, by project.
    pub fn rules(&self) -> BTreeSet<(&str, &str)> {
        self.0
            .keys()
            .filter_map(|key| match &key.scope {
                ScopeId::Rule(rule_id) => Some((key.project_id.as_str(), rule_id.as_str())),
                _ => None,
            })
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&CounterKey, &BTreeMap<String, u64>)> {
        self.0.iter()
    }
}

/// Which window a tally is: the stream shard it was read from and the sequence number of its
/// first record. Sequence numbers grow within a shard; zero-padded, they compare as strings.
pub struct Window<'a> {
    pub shard_id: &'a str,
    pub first_sequence_number: &'a str,
}

/// DynamoDB Streams sequence numbers are at most 40 digits.
const SEQUENCE_DIGITS: usize = 40;

impl Window<'_> {
    /// The counter item's attribute that holds this shard's mark: `w` and 64 bits of the
    /// shard id's digest, shorter than the id itself.
    fn mark_name(&self) -> String {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.shard_id.as_bytes());
        ["w", &hex::encode(&digest.as_ref()[..8])].concat()
    }

    fn mark(&self) -> String {
        format!(
            "{:0>SEQUENCE_DIGITS$}",
            self.first_sequence_number.trim_start_matches('0')
        )
    }
}

/// How long a counter item is kept, when not for good: alert rules' counters only as long as
/// a rule's window reads them (the project's and connections' are the stats' history).
fn kept_days(key: &CounterKey) -> Option<i64> {
    match (&key.scope, key.granularity) {
        (_, Granularity::Minute) => Some(keys::MINUTE_COUNTER_DAYS),
        (ScopeId::Rule(_), _) => Some(keys::RULE_COUNTER_DAYS),
        _ => None,
    }
}

/// Why an event calls for suppressing its recipient.
pub fn suppression_reason(event: &StoredEvent) -> Option<&'static str> {
    match event.event_type {
        EventType::Bounce if event.is_permanent_bounce() => Some("bounce"),
        EventType::Complaint => Some("complaint"),
        _ => None,
    }
}

/// What applying a tally did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Applied {
    pub updated: usize,
    /// Items that had taken this window already (a retry).
    pub already: usize,
}

impl Store {
    /// Adds a window's tally to its counter items, each at most once per window.
    pub async fn apply_tally(
        &self,
        window: &Window<'_>,
        tally: &Tally,
    ) -> Result<Applied, StoreError> {
        let (mark_name, mark) = (window.mark_name(), window.mark());
        // Collected first: a stream that holds the closure would not be `Send` for every
        // lifetime, which a spawned task requires.
        let updates: Vec<_> = tally
            .iter()
            .map(|(key, counts)| self.add_counts(key, counts, &mark_name, &mark))
            .collect();
        let results: Vec<bool> = stream::iter(updates)
            .buffer_unordered(CONCURRENT_UPDATES)
            .try_collect()
            .await?;
        let updated = results.iter().filter(|applied| **applied).count();
        Ok(Applied {
            updated,
            already: results.len() - updated,
        })
    }

    /// One counter item's update; false when the item had this window already.
    async fn add_counts(
        &self,
        key: &CounterKey,
        counts: &BTreeMap<String, u64>,
        mark_name: &str,
        mark: &str,
    ) -> Result<bool, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(
                keys::PK,
                s(keys::counters(
                    &key.project_id,
                    key.scope(),
                    key.granularity,
                )),
            )
            .key(keys::SK, s(&key.bucket))
            .condition_expression("attribute_not_exists(#w) OR #w < :w")
            .expression_attribute_names("#w", mark_name)
            .expression_attribute_values(":w", s(mark));
        let mut adds = Vec::with_capacity(counts.len());
        for (i, (counter, count)) in counts.iter().enumerate() {
            adds.push(format!("#c{i} :c{i}"));
            update = update
                .expression_attribute_names(format!("#c{i}"), counter)
                .expression_attribute_values(format!(":c{i}"), n(count));
        }
        let mut expression = format!("ADD {} SET #w = :w", adds.join(", "));
        if let Some(days) = kept_days(key) {
            let expires = Utc::now() + TimeDelta::days(days);
            expression.push_str(", #ttl = :ttl");
            update = update
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":ttl", n(expires.timestamp()));
        }
        ignore_missing(update.update_expression(expression).send().await)
    }

    /// Lists the recipient among the project's suppressions, keeping its latest reason.
    pub async fn suppress(
        &self,
        project_id: &str,
        event: &StoredEvent,
        reason: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::suppressions(project_id)))
            .key(keys::SK, s(event.recipient.as_ref()))
            .update_expression("SET reason = :r, last_event_at = :t, ses_message_id = :m")
            // A retried or late older event does not overwrite a newer one.
            .condition_expression("attribute_not_exists(pk) OR last_event_at <= :t")
            .expression_attribute_values(":r", s(reason))
            .expression_attribute_values(":t", s(time_string(event.occurred_at)))
            .expression_attribute_values(":m", s(event.ses_message_id.as_ref()))
            .send()
            .await;
        ignore_missing(result).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_compare_in_sequence_order() {
        let mark = |seq| {
            Window {
                shard_id: "shardId-00000001541626099285-f35f62ef",
                first_sequence_number: seq,
            }
            .mark()
        };
        assert!(mark("999") < mark("1000"));
        assert!(mark("1100000000017454423009") < mark("1100000000017454423010"));
        assert_eq!(mark("42").len(), SEQUENCE_DIGITS);
    }

    #[test]
    fn each_shard_has_its_own_mark() {
        let name = |shard_id| {
            Window {
                shard_id,
                first_sequence_number: "1",
            }
            .mark_name()
        };
        assert_ne!(name("shardId-a"), name("shardId-b"));
        assert_eq!(name("shardId-a"), name("shardId-a"));
    }
}
