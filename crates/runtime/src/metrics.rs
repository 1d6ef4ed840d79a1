//! CloudWatch metrics as Embedded Metric Format lines on stdout: CloudWatch Logs extracts them
//! from the function's log, so a count on the hot path costs no API call and no latency.

use serde_json::{Value, json};

const NAMESPACE: &str = "trackses";

/// Counts one SNS message refused at `entry` (`webhook`, `ingest-sns`) for `reason`.
pub fn refused(entry: &str, reason: &str) {
    println!(
        "{}",
        refusal_line(entry, reason, chrono::Utc::now().timestamp_millis())
    );
}

/// Published per entry (what the alarm watches) and per entry and reason (what an operator reads).
fn refusal_line(entry: &str, reason: &str, timestamp_millis: i64) -> Value {
    json!({
        "_aws": {
            "Timestamp": timestamp_millis,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Entry"], ["Entry", "Reason"]],
                "Metrics": [{"Name": "RefusedMessages", "Unit": "Count"}],
            }],
        },
        "Entry": entry,
        "Reason": reason,
        "RefusedMessages": 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape CloudWatch's EMF specification requires: every dimension and metric named in
    /// the directive is a top-level member of the same object.
    #[test]
    fn the_line_follows_the_embedded_metric_format() {
        let line = refusal_line("ingest-sns", "stale", 1_700_000_000_000);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        for dimensions in directive["Dimensions"].as_array().unwrap() {
            for name in dimensions.as_array().unwrap() {
                assert!(line[name.as_str().unwrap()].is_string(), "{name}");
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert_eq!(line[metric["Name"].as_str().unwrap()], 1);
        }
    }
}
