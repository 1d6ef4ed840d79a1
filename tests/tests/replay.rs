//! Replays: a signed message stays valid forever, so trackses bounds how old one may be and keeps
//! each stored event (which a copy of its message finds by key) for at least that long, whatever
//! the retention.

mod common;

use chrono::Utc;
use common::*;
use ingest::sns::freshness::REPLAY_WINDOW;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use store::keys;

/// GIVEN a deployment keeping events for one day and a stored notification, WHEN its copy is
/// replayed, THEN it is a duplicate, and the event is kept past the replay window: the
/// retention is a floor's worth of days shorter than what a replay could reach.
#[tokio::test]
async fn events_outlive_the_replay_window_whatever_the_retention() {
    let h = Harness::start_with(|config| config.retention_days = 1).await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let topic = customer
        .create_topic(&unique("trackses-short"), "2")
        .await
        .unwrap();
    let (_, webhook_url) = h.proven_connection(&pid, &key, &topic).await;
    let capture = Capture::subscribe(&customer, &topic).await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Short", "s");
    let document = event_json(EventType::Send, &mail, &mail.recipients, Utc::now());
    let signed = capture.signed(&customer, &topic, &[document]).await;
    let (status, outcome) = h.post_webhook(&webhook_url, &signed[0]).await;
    assert_eq!((status, outcome["status"].as_str()), (200, Some("stored")));
    let (status, outcome) = h.post_webhook(&webhook_url, &signed[0]).await;
    assert_eq!(
        (status, outcome["status"].as_str()),
        (200, Some("duplicate"))
    );

    let envelope: serde_json::Value = serde_json::from_slice(&signed[0]).unwrap();
    let item = h
        .store_client()
        .get_item()
        .table_name(h.store.table())
        .key(
            keys::PK,
            store::attrs::s(keys::message(&pid, &mail.message_id)),
        )
        .key(
            keys::SK,
            store::attrs::s(keys::event_sk(
                envelope["MessageId"].as_str().unwrap(),
                "ana@example.com",
            )),
        )
        .send()
        .await
        .unwrap()
        .item
        .expect("the event, keyed by its delivery");
    let expires: i64 = item[keys::TTL].as_n().unwrap().parse().unwrap();
    assert!(
        expires >= (Utc::now() + REPLAY_WINDOW).timestamp(),
        "the event outlives the replay window, whatever the retention"
    );
    let events = h
        .events(&pid, &key, &format!("message_id={}", mail.message_id))
        .await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "send");
}
