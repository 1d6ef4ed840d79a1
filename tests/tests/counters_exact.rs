//! Counters stay exact when the stream consumer fails part-way through a window and Lambda
//! retries it, on top of SNS redelivering every message three times in any order, and when the
//! stream moves to a new shard. In a binary of their own: the fault and the rollover act on the
//! whole emulator.

mod common;

use std::collections::BTreeMap;

use common::hand_fed::{Setup, setup};
use common::ses::documents;
use common::*;
use local::ses_traffic::Mail;
use model::EventType;
use serde_json::{Value, json};

/// The fault's retries and the rollover each slow the one consumer down; one at a time, neither
/// eats into the other's lag bound.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// GIVEN a project's notifications, each delivered three times, shuffled, WHEN the consumer's
/// counter writes fail after the first one lands (each failed write carried out, its answer
/// lost) until the consumer gives up on the window and Lambda retries it, THEN the events and
/// every counter view (project and connection, by day and by hour) count each event once, and
/// stay so.
#[tokio::test]
async fn a_window_retried_after_a_partial_failure_counts_each_event_once() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let s = setup().await;
    let types = [EventType::Send, EventType::Delivery, EventType::Bounce];
    let mut signed = Vec::new();
    let mut reference: BTreeMap<&str, u64> = BTreeMap::new();
    for i in 0..4 {
        let mail = Mail::new(
            vec![format!("bounce{i}@simulator.amazonses.com")],
            "Hi",
            "c",
        );
        signed.extend(
            s.capture
                .signed(&s.customer, &s.topic, &documents(&mail, &types))
                .await,
        );
        for t in types {
            *reference.entry(t.as_str()).or_default() += 1;
        }
    }
    // One counter write lands; the next nine (three items, each tried three times by the SDK)
    // are carried out but answered 500, so the window fails with its writes half done.
    let faults = fault_url();
    let armed = reqwest::Client::new()
        .post(&faults)
        .json(&json!({
            "target": "DynamoDB_20120810.UpdateItem",
            "body_contains": format!("N#{}#", s.pid),
            "skip": 1,
            "fail": 9,
            "apply": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(armed.status(), 200, "{}", armed.text().await.unwrap());

    let mut deliveries: Vec<_> = (0..3).flat_map(|_| signed.iter()).collect();
    fastrand::shuffle(&mut deliveries);
    for body in deliveries {
        assert_eq!(s.h.post_webhook(&s.webhook_url, body).await.0, 200);
    }
    eventually("the consumer to meet every failure", || async {
        let pending: Value = reqwest::get(&faults).await.ok()?.json().await.ok()?;
        pending["faults"].as_array()?.is_empty().then_some(())
    })
    .await;

    let views = views(&s);
    let exact = |stats: &Value| reference.iter().all(|(t, n)| stats["totals"][t] == *n);
    let mut settled = Vec::new();
    for path in &views {
        settled.push(counted(&s.h, path, &s.key, exact).await);
    }
    // A window later nothing has moved: no write of the failed window lands twice.
    tokio::time::sleep(COUNTER_LAG).await;
    for (path, before) in views.iter().zip(&settled) {
        assert_eq!(
            &counted(&s.h, path, &s.key, |_| true).await,
            before,
            "{path}"
        );
    }
    let events = s.h.events(&s.pid, &s.key, "limit=100").await;
    assert_eq!(events.len(), signed.len(), "one event per notification");
}

/// GIVEN counted events, WHEN the table's stream rolls over to a new shard (as DynamoDB does
/// every few hours) and more events arrive, THEN the consumer follows it, and the counters count
/// both shards' events once each.
#[tokio::test]
async fn counters_stay_exact_across_a_stream_shard_rollover() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let s = setup().await;
    let stats = format!("/v1/projects/{}/stats", s.pid);
    let types = [EventType::Send, EventType::Delivery];
    for round in 1..=2u64 {
        let mail = Mail::new(vec![format!("r{round}@example.com")], "Hi", "c");
        for body in s
            .capture
            .signed(&s.customer, &s.topic, &documents(&mail, &types))
            .await
        {
            assert_eq!(s.h.post_webhook(&s.webhook_url, &body).await.0, 200);
        }
        counted(&s.h, &stats, &s.key, |v| {
            v["totals"]["send"] == round && v["totals"]["delivery"] == round
        })
        .await;
        if round == 1 {
            let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
            let rolled = reqwest::Client::new()
                .post(format!("{endpoint}/_trackses/dynamodb/streams/rollover"))
                .json(&json!({"table": s.h.store.table()}))
                .send()
                .await
                .unwrap();
            assert!(
                rolled.status().is_success(),
                "{}",
                rolled.text().await.unwrap()
            );
        }
    }
    tokio::time::sleep(COUNTER_LAG).await;
    let settled = counted(&s.h, &stats, &s.key, |_| true).await;
    assert_eq!(
        (&settled["totals"]["send"], &settled["totals"]["delivery"]),
        (&json!(2), &json!(2))
    );
}

fn fault_url() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("make test sets the emulator");
    format!("{endpoint}/_trackses/faults")
}

/// The project's and the connection's stats, by day and by hour.
fn views(s: &Setup) -> Vec<String> {
    let stats = format!("/v1/projects/{}/stats", s.pid);
    vec![
        stats.clone(),
        format!("{stats}?granularity=hour"),
        format!("{stats}?connection_id={}", s.cid),
        format!("{stats}?connection_id={}&granularity=hour", s.cid),
    ]
}
