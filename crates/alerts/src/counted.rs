//! Readings of counted rules (rates, bursts), from the counters the stream keeps for each rule.

use chrono::{DateTime, TimeDelta, Utc};

use model::alert::{BurstOf, Condition};
use model::{AlertRule, EventType};
use store::attrs::time_string;
use store::counters::PERMANENT_BOUNCE_COUNTER;
use store::keys::Granularity;
use store::{Store, StoreError};

use crate::reading::{self, Reading};

/// What a counted rule's condition says at `now`; `None` for a rule the schedule evaluates.
pub async fn reading(
    store: &Store,
    rule: &AlertRule,
    now: DateTime<Utc>,
) -> Result<Option<Reading>, StoreError> {
    let (granularity, span) = match rule.condition {
        Condition::BounceRate { window_hours, .. }
        | Condition::ComplaintRate { window_hours, .. } => (
            Granularity::Hour,
            TimeDelta::hours(i64::from(window_hours) - 1),
        ),
        Condition::Burst { minutes, .. } => (
            Granularity::Minute,
            TimeDelta::minutes(i64::from(minutes) - 1),
        ),
        Condition::ConnectionHealth | Condition::Silence { .. } => return Ok(None),
    };
    let (first, last) = (time_string(now - span), time_string(now));
    let read = store
        .rule_counters(
            &rule.project_id,
            &rule.id,
            granularity,
            granularity.bucket(&first),
            granularity.bucket(&last),
        )
        .await?;
    let total = |counter: &str| -> u64 {
        read.buckets
            .values()
            .filter_map(|counts| counts.get(counter))
            .sum()
    };
    let sends = total(EventType::Send.as_str());
    Ok(Some(match rule.condition {
        Condition::BounceRate {
            threshold_percent,
            window_hours,
            min_sends,
        } => reading::rate(
            "Bounce rate",
            total(PERMANENT_BOUNCE_COUNTER),
            sends,
            threshold_percent,
            window_hours,
            min_sends,
        ),
        Condition::ComplaintRate {
            threshold_percent,
            window_hours,
            min_sends,
        } => reading::rate(
            "Complaint rate",
            total(EventType::Complaint.as_str()),
            sends,
            threshold_percent,
            window_hours,
            min_sends,
        ),
        Condition::Burst { of, count, minutes } => match of {
            BurstOf::Bounces => reading::burst(
                "permanent bounces",
                total(PERMANENT_BOUNCE_COUNTER),
                count,
                minutes,
            ),
            BurstOf::Complaints => reading::burst(
                "complaints",
                total(EventType::Complaint.as_str()),
                count,
                minutes,
            ),
        },
        Condition::ConnectionHealth | Condition::Silence { .. } => return Ok(None),
    }))
}

/// The subject of a counted rule's alert: what its scope covers, in words (stable, as rules
/// do not change).
pub fn subject(rule: &AlertRule) -> String {
    let scope = &rule.scope;
    let parts: Vec<String> = [
        scope
            .connection_id
            .as_ref()
            .map(|c| format!("connection {c}")),
        scope.identity.as_ref().map(|i| format!("identity {i}")),
        scope.tag.as_ref().map(|t| format!("tag {t}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        "project".to_owned()
    } else {
        parts.join(", ")
    }
}
