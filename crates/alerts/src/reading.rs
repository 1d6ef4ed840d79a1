//! What a condition says now: pure functions of counts and checks.

use model::alert::HYSTERESIS;

#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The condition holds: an alert opens if none is open.
    pub holds: bool,
    /// The condition is clearly over (past the hysteresis): an open alert resolves.
    pub clears: bool,
    /// What was measured, in words: the alert's summary or resolution.
    pub summary: String,
}

/// `bad` of `sends` as a rate against `threshold_percent`: it holds from the threshold once
/// `min_sends` were sent (AWS judges rates over a representative volume), and clears below
/// `HYSTERESIS` of it.
pub fn rate(
    what: &str,
    bad: u64,
    sends: u64,
    threshold_percent: f64,
    window_hours: u32,
    min_sends: u64,
) -> Reading {
    let percent = if sends == 0 {
        0.0
    } else {
        bad as f64 * 100.0 / sends as f64
    };
    Reading {
        holds: sends >= min_sends && percent >= threshold_percent,
        clears: percent < threshold_percent * HYSTERESIS,
        summary: format!(
            "{what} {percent:.2} % over the last {window_hours} h ({bad} of {sends} sends; threshold {threshold_percent} %)"
        ),
    }
}

/// `count` events within `minutes` against `threshold` of them.
pub fn burst(what: &str, count: u64, threshold: u64, minutes: u32) -> Reading {
    Reading {
        holds: count >= threshold,
        clears: (count as f64) < threshold as f64 * HYSTERESIS,
        summary: format!("{count} {what} within the last {minutes} min (threshold {threshold})"),
    }
}

/// A health check's problems: it holds while there is any.
pub fn health(problems: &[String]) -> Reading {
    Reading {
        holds: !problems.is_empty(),
        clears: problems.is_empty(),
        summary: if problems.is_empty() {
            "the connection works as wired".to_owned()
        } else {
            problems.join("; ")
        },
    }
}

/// Events per hour of a connection, oldest first, the current hour last: silence holds when the
/// last `quiet_hours` have none after `quiet_hours` hours that each had some.
pub fn silence(hourly: &[u64], quiet_hours: u32) -> Reading {
    let quiet = quiet_hours as usize;
    let split = hourly.len().saturating_sub(quiet);
    let (before, recent) = hourly.split_at(split);
    let received: u64 = recent.iter().sum();
    let steady = before.len() >= quiet && before.iter().all(|n| *n > 0);
    Reading {
        holds: received == 0 && steady,
        clears: received > 0,
        summary: if received == 0 {
            format!("no events for {quiet_hours} h after a steady flow")
        } else {
            let s = if received == 1 { "" } else { "s" };
            format!("{received} event{s} in the last {quiet_hours} h")
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_opens_at_its_threshold_and_clears_only_well_below_it() {
        let at = |bad| rate("Bounce rate", bad, 1000, 5.0, 24, 100);
        assert!(at(50).holds && !at(50).clears);
        assert!(!at(49).holds);
        // Hovering just under the threshold neither opens nor resolves: no flapping.
        assert!(!at(45).holds && !at(45).clears);
        assert!(at(39).clears);
        assert_eq!(
            at(50).summary,
            "Bounce rate 5.00 % over the last 24 h (50 of 1000 sends; threshold 5 %)"
        );
        // Too few sends to judge, however bad.
        assert!(!rate("Bounce rate", 5, 10, 5.0, 24, 100).holds);
        assert!(rate("Bounce rate", 0, 0, 5.0, 24, 100).clears);
    }

    #[test]
    fn a_burst_opens_at_its_count() {
        assert!(burst("complaints", 3, 3, 10).holds);
        assert!(!burst("complaints", 2, 3, 10).holds && !burst("complaints", 3, 3, 10).clears);
        assert!(burst("complaints", 2, 3, 10).clears);
        assert!(burst("complaints", 0, 1, 10).clears && !burst("complaints", 1, 1, 10).clears);
    }

    #[test]
    fn silence_needs_a_steady_flow_before_it() {
        assert!(silence(&[5, 3, 0, 0], 2).holds);
        assert!(!silence(&[5, 0, 0, 0], 2).holds, "not steady");
        assert!(!silence(&[0, 0], 2).holds, "no history");
        assert!(silence(&[5, 3, 0, 1], 2).clears);
    }
}
