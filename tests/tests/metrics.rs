//! What an operator's CloudWatch sees: the Embedded Metric Format documents the webhook writes
//! for real signed notifications, read back as CloudWatch would extract them. One test in its own
//! binary, as a process holds one metrics recorder (the function's, installed the same way).

mod common;

use common::hand_fed::setup;
use common::ses::documents;
use local::ses_traffic::Mail;
use model::EventType;
use serde_json::Value;

/// The figures in the documents written since the last flush whose dimensions include `labels`.
fn figures(collector: &runtime::metrics::Collector) -> Vec<Value> {
    let mut written = Vec::new();
    collector.flush(&mut written).unwrap();
    String::from_utf8(written)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn sum(documents: &[Value], metric: &str, labels: &[(&str, &str)]) -> f64 {
    documents
        .iter()
        .filter(|d| labels.iter().all(|(name, value)| d[*name] == *value))
        .filter_map(|d| d[metric].as_f64())
        .sum()
}

/// GIVEN the webhook's metrics recorder WHEN a two-recipient delivery arrives, then its SNS
/// redelivery, then a copy with a forged signature THEN the documents count 2 delivery events
/// stored for a manual connection, 1 duplicate, 1 signature refusal and one store latency, all
/// under `Function=webhook` in the `trackses` namespace.
#[tokio::test]
async fn a_notification_through_the_webhook_is_counted_in_embedded_metric_format() {
    let collector = runtime::metrics::install("webhook").unwrap();
    let s = setup().await;
    let mail = Mail::new(
        vec!["ana@example.com".into(), "bob@example.com".into()],
        "Metrics",
        "spring",
    );
    let signed = s
        .capture
        .signed(
            &s.customer,
            &s.topic,
            &documents(&mail, &[EventType::Delivery]),
        )
        .await;
    figures(collector); // what setting up the project counted

    let (status, body) = s.h.post_webhook(&s.webhook_url, &signed[0]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.h.post_webhook(&s.webhook_url, &signed[0]).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("duplicate")));
    let mut forged: Value = serde_json::from_slice(&signed[0]).unwrap();
    let message = forged["Message"]
        .as_str()
        .unwrap()
        .replace("Metrics", "Metricz");
    forged["Message"] = Value::String(message);
    let (status, _) =
        s.h.post_webhook(&s.webhook_url, forged.to_string().as_bytes())
            .await;
    assert_eq!(status, 403);

    let documents = figures(collector);
    for document in &documents {
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "trackses");
        assert_eq!(document["Function"], "webhook");
        for name in directive["Dimensions"][0].as_array().unwrap() {
            assert!(document[name.as_str().unwrap()].is_string(), "{document}");
        }
    }
    let stored = [("Mode", "manual"), ("EventType", "Delivery")];
    assert_eq!(
        sum(&documents, "EventsStored", &stored),
        2.0,
        "{documents:?}"
    );
    assert_eq!(sum(&documents, "DuplicateDeliveries", &[]), 1.0);
    let signature = [("Reason", "signature")];
    assert_eq!(sum(&documents, "RefusedMessages", &signature), 1.0);
    assert_eq!(sum(&documents, "RefusedMessages", &[]), 1.0);
    let latencies: Vec<&Value> = documents
        .iter()
        .filter_map(|d| d["StoreLatency"].as_array())
        .flatten()
        .collect();
    assert_eq!(
        latencies.len(),
        2,
        "one write per delivery, the copy's included"
    );
    assert!(latencies.iter().all(|ms| ms.as_f64().unwrap() > 0.0));

    assert!(
        figures(collector).is_empty(),
        "a flush writes each count once"
    );
}
