//! SES → SNS → webhook → DynamoDB → API, through the emulated SNS and the real webhook route.

mod common;

use chrono::{Duration, Utc};
use common::*;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use reqwest::Method;
use serde_json::Value;

fn documents(mail: &Mail, steps: &[EventType]) -> Vec<String> {
    steps
        .iter()
        .enumerate()
        .map(|(i, t)| {
            event_json(
                *t,
                mail,
                &mail.recipients,
                Utc::now() + Duration::seconds(i as i64),
            )
        })
        .collect()
}

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

/// The project's counters as `GET /stats` shows them (the last 30 days).
async fn stats(h: &Harness, pid: &str, key: &str) -> Value {
    let (status, stats) = h
        .call(Method::GET, &format!("/v1/projects/{pid}/stats"), key, None)
        .await;
    assert_eq!(status, 200, "{stats}");
    stats
}

struct Setup {
    h: Harness,
    pid: String,
    key: String,
    webhook_url: String,
    customer: local::customer::CustomerAccount,
    topic: String,
    capture: Capture,
}

/// A project whose connection is registered but whose webhook is fed by hand: the signed
/// bodies come from a capturing subscriber on the same topic.
async fn setup() -> Setup {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let topic = customer
        .create_topic(&unique("trackses-replay"), "2")
        .await
        .unwrap();
    let (_, webhook_url) = h.proven_connection(&pid, &key, &topic).await;
    let capture = Capture::subscribe(&customer, &topic).await;
    Setup {
        h,
        pid,
        key,
        webhook_url,
        customer,
        topic,
        capture,
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
    let counted = stats(&s.h, &s.pid, &s.key).await;
    for (event_type, want) in [("send", 1), ("delivery", 1), ("bounce", 1)] {
        assert_eq!(counted["totals"][event_type], want, "{event_type}");
    }
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
    assert_eq!(stats(&s.h, &s.pid, &s.key).await["totals"]["delivery"], 0);
    // And the untouched message is still accepted.
    assert_eq!(s.h.post_webhook(&s.webhook_url, &signed[0]).await.0, 200);
}

#[tokio::test]
async fn a_confirmation_for_another_topic_is_refused_and_never_confirmed() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let registered = customer
        .create_topic(&unique("trackses-mine"), "2")
        .await
        .unwrap();
    let (cid, webhook_url) = h.connection(&pid, &key, &registered).await;
    let other = customer
        .create_topic(&unique("trackses-other"), "1")
        .await
        .unwrap();
    customer
        .subscribe_https(&other, &webhook_url)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let subscriptions = customer
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&other)
        .send()
        .await
        .unwrap();
    let arns: Vec<_> = subscriptions
        .subscriptions()
        .iter()
        .map(|s| s.subscription_arn().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        arns,
        ["PendingConfirmation"],
        "trackses must not confirm a topic it was not given"
    );
    let (_, connection) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/connections/{cid}"),
            &key,
            None,
        )
        .await;
    assert_eq!(connection["status"], "pending");
}

#[tokio::test]
async fn unsubscribing_marks_the_connection_and_a_later_notification_revives_it() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let (topic, cid, webhook_url) = h
        .live_connection(&pid, &key, &customer, "trackses-unsub", "1")
        .await;
    let capture = Capture::subscribe(&customer, &topic).await;
    let subscriptions = customer
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let ours = subscriptions
        .subscriptions()
        .iter()
        .find(|s| s.endpoint() == Some(webhook_url.as_str()))
        .and_then(|s| s.subscription_arn())
        .unwrap()
        .to_owned();
    customer
        .sns
        .unsubscribe()
        .subscription_arn(ours)
        .send()
        .await
        .unwrap();
    h.wait_status(&pid, &key, &cid, "unsubscribed").await;

    // A notification signed for the registered topic proves a subscription exists again.
    let mail = Mail::new(vec!["ana@example.com".into()], "Back", "c");
    let signed = capture
        .signed(&customer, &topic, &documents(&mail, &[EventType::Send]))
        .await;
    let (status, outcome) = h.post_webhook(&webhook_url, &signed[0]).await;
    assert_eq!((status, outcome["status"].as_str()), (200, Some("stored")));
    h.wait_status(&pid, &key, &cid, "active").await;
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
