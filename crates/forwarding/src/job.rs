//! What the deliveries queue carries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use model::alert::Transition;
use model::{Alert, StoredEvent};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// Events to one endpoint, each its own POST: up to `MAX_EVENTS` a job, so a queue message
    /// (one request to send, one to receive and delete) carries many events, not one.
    /// `enqueued_at` starts their day of retries; `attempt` counts tries, a retry being a new
    /// job of the events that failed, due no earlier than `not_before`.
    Deliver {
        project_id: String,
        endpoint_id: String,
        enqueued_at: DateTime<Utc>,
        #[serde(default = "first_attempt")]
        attempt: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        not_before: Option<DateTime<Utc>>,
        events: Vec<StoredEvent>,
    },
    /// A project's events after event id `after` up to `until` (inclusive) to one endpoint: one
    /// page per job, each page enqueuing its deliveries and the next page.
    Replay {
        project_id: String,
        endpoint_id: String,
        after: String,
        until: String,
    },
    /// An alert's opening or resolution to one of its channels (a webhook or Slack channel on
    /// the deliveries queue; an e-mail channel on the mail queue).
    Notify {
        project_id: String,
        channel_id: String,
        transition: Transition,
        alert: Box<Alert>,
    },
    /// The one message an e-mail channel gets before its address confirms it (mail queue).
    Confirm {
        project_id: String,
        channel_id: String,
    },
}

/// Events one delivery job carries at most.
pub const MAX_EVENTS: usize = 25;
/// The JSON of a job's events stays under this, far inside SQS's 256 KiB message.
pub const MAX_EVENTS_BYTES: usize = 160 * 1024;

fn first_attempt() -> u32 {
    1
}

impl Job {
    /// `events` for one endpoint as first-attempt jobs of at most `MAX_EVENTS` and
    /// `MAX_EVENTS_BYTES` each, in order.
    pub fn deliveries(
        project_id: &str,
        endpoint_id: &str,
        enqueued_at: DateTime<Utc>,
        events: impl IntoIterator<Item = StoredEvent>,
    ) -> Vec<Job> {
        let mut jobs = Vec::new();
        let (mut batch, mut bytes) = (Vec::new(), 0);
        for event in events {
            let size = serde_json::to_vec(&event).map_or(0, |json| json.len());
            if !batch.is_empty() && (batch.len() == MAX_EVENTS || bytes + size > MAX_EVENTS_BYTES) {
                jobs.push(std::mem::take(&mut batch));
                bytes = 0;
            }
            bytes += size;
            batch.push(event);
        }
        if !batch.is_empty() {
            jobs.push(batch);
        }
        jobs.into_iter()
            .map(|events| Job::Deliver {
                project_id: project_id.to_owned(),
                endpoint_id: endpoint_id.to_owned(),
                enqueued_at,
                attempt: 1,
                not_before: None,
                events,
            })
            .collect()
    }

    /// Every event that arrived from `from` to `until`, again.
    pub fn replay(
        project_id: &str,
        endpoint_id: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Job {
        // Event ids are ULIDs, which sort by the millisecond they were made in: the smallest id
        // of `from`'s millisecond less one, and the largest of `until`'s.
        let millis = |at: DateTime<Utc>| u64::try_from(at.timestamp_millis()).unwrap_or_default();
        let first = Ulid::from_parts(millis(from), 0).0.saturating_sub(1);
        Job::Replay {
            project_id: project_id.to_owned(),
            endpoint_id: endpoint_id.to_owned(),
            after: Ulid(first).to_string(),
            until: Ulid::from_parts(millis(until), u128::MAX).to_string(),
        }
    }

    pub fn project_id(&self) -> &str {
        match self {
            Job::Deliver { project_id, .. }
            | Job::Replay { project_id, .. }
            | Job::Notify { project_id, .. }
            | Job::Confirm { project_id, .. } => project_id,
        }
    }

    /// The endpoint of a forwarding job.
    pub fn endpoint_id(&self) -> Option<&str> {
        match self {
            Job::Deliver { endpoint_id, .. } | Job::Replay { endpoint_id, .. } => Some(endpoint_id),
            Job::Notify { .. } | Job::Confirm { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_go_in_jobs_of_at_most_max_events_in_order() {
        let event = |i: usize| -> StoredEvent {
            serde_json::from_value(serde_json::json!({
                "id": format!("{i:03}"), "type": "delivery", "ses_message_id": "m",
                "recipient": "r@example.com", "occurred_at": "2026-12-01T00:00:00Z",
                "received_at": "2026-12-01T00:00:00Z", "connection_id": "con_1",
                "source": "s@example.com", "subject": null, "tags": {}, "details": {}
            }))
            .unwrap()
        };
        let jobs = Job::deliveries("prj", "ep", Utc::now(), (0..60).map(event));
        let sizes: Vec<usize> = jobs
            .iter()
            .map(|j| match j {
                Job::Deliver { events, .. } => events.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(sizes, [25, 25, 10]);
        let Job::Deliver { events, .. } = &jobs[1] else {
            unreachable!()
        };
        assert_eq!(events[0].id, "025");
        assert!(Job::deliveries("prj", "ep", Utc::now(), []).is_empty());
    }

    #[test]
    fn a_replay_spans_exactly_the_ids_of_its_times() {
        let from = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let until = DateTime::from_timestamp_millis(1_700_000_060_000).unwrap();
        let Job::Replay {
            after, until: last, ..
        } = Job::replay("prj", "ep", from, until)
        else {
            unreachable!()
        };
        let at = |ms: u64, random: u128| Ulid::from_parts(ms, random).to_string();
        // Strictly after the last id of the millisecond before `from`: every id of `from`'s own.
        assert_eq!(after, at(1_699_999_999_999, u128::MAX));
        assert!(after < at(1_700_000_000_000, 0));
        // Up to the last id of `until`'s millisecond, none of the next.
        assert_eq!(last, at(1_700_000_060_000, u128::MAX));
        assert!(last < at(1_700_000_060_001, 0));
    }
}
