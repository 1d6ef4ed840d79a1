//! SES → SNS → webhook → DynamoDB → API, through the emulated SNS and the real webhook route:
//! events appear once whatever the order and the copies, a storage failure is retried, and an
//! unknown event type is kept.

mod common;

use common::hand_fed::{setup, stats};
use common::ses::documents;
use common::*;
use local::ses_traffic::Mail;
use model::EventType;
use reqwest::Method;

#[tokio::test]
async fn events_published_to_a_subscribed_topic_appear_through_the_api() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    for signature_version in ["1", "2"] {
        let (topic, cid, _) = h
            .live_connection(&pid, &key, &customer, "trackses-live", signature_version)
            .await;

        let mail = Mail::new(
            vec!["Ana@Example.com".into(), "bob@example.com".into()],
            "Hello",
            "spring",
        );
        for document in documents(&mail, &[EventType::Send, EventType::Delivery]) {
            customer.publish_ses_event(&topic, &document).await.unwrap();
        }
        let query = format!("message_id={}", mail.message_id);
        let events = h.wait_events(&pid, &key, &query, 4).await;
        for event in &events {
            assert_eq!(event["connection_id"], cid.as_str());
            assert_eq!(event["subject"], "Hello");
            assert_eq!(event["tags"]["campaign"][0], "spring");
        }
        let types: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap(),
                    e["recipient"].as_str().unwrap(),
                )
            })
            .collect();
        assert!(
            types.contains(&("delivery", "ana@example.com")),
            "{types:?}"
        );
        assert!(types.contains(&("send", "bob@example.com")), "{types:?}");
        let (status, timeline) = h
            .call(
                Method::GET,
                &format!("/v1/projects/{pid}/messages/{}", mail.message_id),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(timeline["recipients"].as_array().unwrap().len(), 2);
        assert!(
            timeline["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] == "delivered")
        );
    }
}

#[tokio::test]
async fn the_same_message_three_times_in_any_order_is_stored_once_with_exact_counters() {
    let s = setup().await;
    let mail = Mail::new(vec!["bounce@simulator.amazonses.com".into()], "Hi", "c");
    let signed = s
        .capture
        .signed(
            &s.customer,
            &s.topic,
            &documents(
                &mail,
                &[EventType::Send, EventType::Delivery, EventType::Bounce],
            ),
        )
        .await;
    // Bounce first, then copies of everything interleaved.
    for body in [
        &signed[2], &signed[0], &signed[2], &signed[1], &signed[0], &signed[2], &signed[1],
        &signed[0], &signed[1],
    ] {
        let (status, outcome) = s.h.post_webhook(&s.webhook_url, body).await;
        assert_eq!(status, 200, "{outcome}");
    }
    let events =
        s.h.events(&s.pid, &s.key, &format!("message_id={}", mail.message_id))
            .await;
    assert_eq!(events.len(), 3, "{events:#?}");
    let once_each = |s: &serde_json::Value| {
        ["send", "delivery", "bounce"]
            .iter()
            .all(|t| s["totals"][t] == 1)
    };
    let counted = stats(&s.h, &s.pid, &s.key, once_each).await;
    // A window later, still once each: no copy is counted late.
    tokio::time::sleep(COUNTER_LAG).await;
    assert_eq!(stats(&s.h, &s.pid, &s.key, |_| true).await, counted);
    assert_eq!(
        counted["rates"]["bounce"], 1.0,
        "the one bounce is Permanent"
    );
    assert_eq!(counted["status"]["bounce"], "at_risk");
    let (_, timeline) =
        s.h.call(
            Method::GET,
            &format!("/v1/projects/{}/messages/{}", s.pid, mail.message_id),
            &s.key,
            None,
        )
        .await;
    assert_eq!(
        timeline["recipients"][0]["status"], "bounced",
        "a bounce that came first still wins"
    );
    let times: Vec<_> = timeline["recipients"][0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        ["send", "delivery", "bounce"],
        "timeline oldest first"
    );
    let (status, outcome) = s.h.post_webhook(&s.webhook_url, &signed[0]).await;
    assert_eq!(
        (status, outcome["status"].as_str()),
        (200, Some("duplicate"))
    );
}

#[tokio::test]
async fn a_storage_failure_after_acceptance_is_a_5xx_so_sns_retries() {
    let s = setup().await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Hi", "c");
    let signed = s
        .capture
        .signed(&s.customer, &s.topic, &documents(&mail, &[EventType::Send]))
        .await;
    let broken = Harness::start_with(|c| c.table_name = "trackses-missing-table".into()).await;
    let url = s
        .webhook_url
        .replace(s.h.api.base.as_str(), broken.api.base.as_str());
    let (status, problem) = broken.post_webhook(&url, &signed[0]).await;
    assert_eq!(status, 503, "{problem}");
    assert!(
        !problem.to_string().contains("missing-table"),
        "no internal detail leaks: {problem}"
    );
    assert_eq!(
        s.h.post_webhook(&s.webhook_url, &signed[0]).await.0,
        200,
        "the retry lands"
    );
}

#[tokio::test]
async fn an_unknown_ses_event_type_is_stored_as_unknown_not_dropped() {
    let s = setup().await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Future", "f");
    let signed = s
        .capture
        .signed(
            &s.customer,
            &s.topic,
            &documents(&mail, &[EventType::Unknown]),
        )
        .await;
    let (status, outcome) = s.h.post_webhook(&s.webhook_url, &signed[0]).await;
    assert_eq!((status, outcome["status"].as_str()), (200, Some("stored")));
    let events = s.h.events(&s.pid, &s.key, "type=unknown").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["details"]["raw_event_type"], "FutureThing");
    assert_eq!(events[0]["recipient"], "ana@example.com");
}
