//! Replays: a signed message stays valid forever, so trackses bounds how old one may be and keeps
//! its delivery markers for at least that long, whatever the retention.

mod common;

use chrono::{Duration, Utc};
use common::*;
use ingest::sns::freshness::REPLAY_WINDOW;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use store::keys;

/// GIVEN a deployment keeping events for one day and a stored notification, WHEN its copy is
/// replayed, THEN it is a duplicate, and its marker is kept past the replay window while the
/// event itself expires with the retention.
#[tokio::test]
async fn markers_outlive_the_replay_window_whatever_the_retention() {
    let h = Harness::start_with(|config| config.retention_days = 1).await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let topic = customer
        .create_topic(&unique("trackses-short"), "2")
        .await
        .unwrap();
    let (cid, webhook_url) = h.proven_connection(&pid, &key, &topic).await;
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
    let marker = h
        .store_client()
        .get_item()
        .table_name(h.store.table())
        .key(
            keys::PK,
            store::attrs::s(keys::delivery_marker(
                &cid,
                envelope["MessageId"].as_str().unwrap(),
                0,
            )),
        )
        .key(keys::SK, store::attrs::s(keys::MARKER_SK))
        .send()
        .await
        .unwrap()
        .item
        .expect("the marker");
    let marker_expires: i64 = marker[keys::TTL].as_n().unwrap().parse().unwrap();
    assert!(
        marker_expires >= (Utc::now() + REPLAY_WINDOW).timestamp(),
        "the marker outlives the replay window"
    );
    let event = &h
        .events(&pid, &key, &format!("message_id={}", mail.message_id))
        .await[0];
    assert_eq!(event["type"], "send");
    let event_expires = Utc::now() + Duration::days(1);
    assert!(marker_expires > event_expires.timestamp() + Duration::days(20).num_seconds());
}
