//! When a failed delivery is tried again: doubling from `first` up to an hour apart, for
//! `give_up_after` (a day when deployed), then a dead letter.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub first: Duration,
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            first: Duration::from_secs(30),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (from 1), with a tenth of jitter so that the
    /// jobs a receiver's outage failed together do not all return together.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doubled = self
            .first
            .saturating_mul(1 << attempt.saturating_sub(1).min(20))
            .min(MAX_DELAY);
        doubled.mul_f64(1.0 + fastrand::f64() / 10.0)
    }

    /// Whether a job enqueued at `enqueued_at` has had its time.
    pub fn exhausted(&self, enqueued_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        TimeDelta::from_std(self.give_up_after).is_ok_and(|limit| now - enqueued_at >= limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_an_hour_and_last_a_day() {
        let policy = RetryPolicy::default();
        let secs = |attempt| policy.delay(attempt).as_secs();
        assert!((30..=33).contains(&secs(1)));
        assert!((60..=66).contains(&secs(2)));
        assert!((3600..=3960).contains(&secs(8)));
        assert!((3600..=3960).contains(&secs(1000)));
        // Attempts within the day: 7 doublings to the hour, then hourly.
        let mut waited = Duration::ZERO;
        let mut attempts = 0;
        while waited < policy.give_up_after {
            attempts += 1;
            waited += policy.delay(attempts);
        }
        assert!((25..=31).contains(&attempts), "{attempts}");
        let now = Utc::now();
        assert!(!policy.exhausted(now - TimeDelta::hours(23), now));
        assert!(policy.exhausted(now - TimeDelta::hours(24), now));
    }
}
