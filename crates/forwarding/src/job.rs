//! What the deliveries queue carries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use model::alert::Transition;
use model::{Alert, StoredEvent};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum Job {
    /// One event to one endpoint. `enqueued_at` starts its day of retries.
    Deliver {
        project_id: String,
        endpoint_id: String,
        enqueued_at: DateTime<Utc>,
        event: Box<StoredEvent>,
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

impl Job {
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
