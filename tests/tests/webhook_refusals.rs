//! What the webhook refuses, storing nothing: tampered, foreign, raw and garbage bodies, unknown
//! connections, and notifications over SES's own limits.

mod common;

use chrono::Utc;
use common::hand_fed::{setup, stats};
use common::ses::documents;
use common::*;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use serde_json::Value;

fn tamper(body: &[u8], field: &str, value: &str) -> Vec<u8> {
    let mut envelope: Value = serde_json::from_slice(body).unwrap();
    envelope[field] = Value::String(value.to_owned());
    serde_json::to_vec(&envelope).unwrap()
}

#[tokio::test]
async fn tampered_foreign_and_raw_messages_are_refused_and_nothing_is_stored() {
    let s = setup().await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Hi", "c");
    let signed = s
        .capture
        .signed(
            &s.customer,
            &s.topic,
            &documents(&mail, &[EventType::Delivery]),
        )
        .await;
    let original: Value = serde_json::from_slice(&signed[0]).unwrap();
    let message = original["Message"]
        .as_str()
        .unwrap()
        .replace("ana@example.com", "eve@example.com");

    for (field, value) in [
        ("Message", message.as_str()),
        ("MessageId", "00000000-0000-0000-0000-000000000000"),
        ("Subject", "Something else"),
        ("Timestamp", "2020-01-01T00:00:00.000Z"),
        ("Signature", "AAAA"),
        ("SignatureVersion", "1"),
        (
            "SigningCertURL",
            "https://sns.eu-west-1.amazonaws.com.evil.test/SimpleNotificationService-826895eb2dbf6b9050fb9f923f405e47.pem",
        ),
    ] {
        let (status, problem) =
            s.h.post_webhook(&s.webhook_url, &tamper(&signed[0], field, value))
                .await;
        assert_eq!(status, 403, "{field}: {problem}");
        assert_eq!(problem["status"], 403);
    }

    // A message really signed by SNS, but for a topic of another account, sent to this connection.
    let foreign = s.h.customer(FOREIGN).await;
    let foreign_topic = foreign
        .create_topic(&unique("trackses-foreign"), "2")
        .await
        .unwrap();
    let foreign_capture = Capture::subscribe(&foreign, &foreign_topic).await;
    let foreign_signed = foreign_capture
        .signed(
            &foreign,
            &foreign_topic,
            &documents(&mail, &[EventType::Send]),
        )
        .await;
    let (status, problem) = s.h.post_webhook(&s.webhook_url, &foreign_signed[0]).await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not registered")
    );

    // Raw message delivery: the bare SES document, no envelope.
    let (status, problem) =
        s.h.post_webhook(
            &s.webhook_url,
            documents(&mail, &[EventType::Send])[0].as_bytes(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("raw message delivery"),
        "{problem}"
    );

    for garbage in [
        &b"not json"[..],
        b"{}",
        b"[]",
        b"{\"Type\":\"Notification\"}",
        b"{\"Type\":\"Other\",\"Signature\":\"x\"}",
    ] {
        let (status, _) = s.h.post_webhook(&s.webhook_url, garbage).await;
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(garbage));
    }
    let oversized = s.webhook_url.rsplit_once('/').unwrap().0.to_owned() + "/" + &"c".repeat(3000);
    assert_eq!(s.h.post_webhook(&oversized, &signed[0]).await.0, 403);
    let unknown_connection = s.webhook_url.rsplit_once('/').unwrap().0.to_owned() + "/con_unknown";
    assert_eq!(
        s.h.post_webhook(&unknown_connection, &signed[0]).await.0,
        403
    );

    assert!(
        s.h.events(&s.pid, &s.key, "").await.is_empty(),
        "nothing was stored"
    );
    stats(&s.h, &s.pid, &s.key, |s| s["totals"]["delivery"] == 0).await;
    // And the untouched message is still accepted.
    assert_eq!(s.h.post_webhook(&s.webhook_url, &signed[0]).await.0, 200);
}

/// GIVEN a proven connection, WHEN a correctly signed notification of its topic names more
/// recipients than SES ever does, a recipient that is not an address, or an oversized subject,
/// THEN 400 in words, and nothing of it is stored.
#[tokio::test]
async fn oversized_or_impossible_notifications_are_refused_whole() {
    let s = setup().await;
    let crowd: Vec<String> = (0..51).map(|i| format!("r{i}@example.com")).collect();
    let too_many = Mail::new(crowd, "Crowd", "c");
    let not_an_address = Mail::new(vec!["not an address".into()], "Odd", "c");
    let shouting = Mail::new(vec!["ana@example.com".into()], &"A".repeat(5000), "c");
    let mails = [too_many, not_an_address, shouting];
    let documents: Vec<String> = mails
        .iter()
        .map(|m| event_json(EventType::Send, m, &m.recipients, Utc::now()))
        .collect();
    let signed = s.capture.signed(&s.customer, &s.topic, &documents).await;
    for body in &signed {
        let (status, problem) = s.h.post_webhook(&s.webhook_url, body).await;
        assert_eq!(status, 400, "{problem}");
    }
    for mail in &mails {
        let query = format!("message_id={}", mail.message_id);
        assert!(s.h.events(&s.pid, &s.key, &query).await.is_empty());
    }
}
