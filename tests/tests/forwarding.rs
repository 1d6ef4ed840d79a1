//! Forwarding through its real entry points: endpoints registered over the API, events stored
//! by the webhook, `forward` on the table's stream, the deliveries queue, and `deliver` POSTing
//! to a receiver on this machine that checks every signature itself.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::receiver::{Receiver, endpoint};
use common::ses::seed;
use common::*;
use local::ses_traffic::Mail;
use model::EventType;
use reqwest::Method;
use serde_json::{Value, json};

/// Every test of this process: a failed delivery is retried after 1 s, doubling, and given up
/// after 5 s (a day when deployed).
async fn harness() -> Harness {
    Harness::start_with(|config| config.forward_give_up_after = Duration::from_secs(5)).await
}

#[tokio::test]
async fn each_event_arrives_signed_and_once_after_the_receiver_failed_twice() {
    let logs = LogCapture::global();
    let h = harness().await;
    let (pid, key) = h.project().await;
    let receiver = Receiver::start(2).await;
    let eid = endpoint(
        &h,
        &pid,
        &key,
        &receiver,
        json!({"event_types": ["delivery", "bounce"]}),
    )
    .await;

    // The secret is shown once: no read returns it.
    let (_, listed) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/endpoints"),
            &key,
            None,
        )
        .await;
    let (_, one) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/endpoints/{eid}"),
            &key,
            None,
        )
        .await;
    for read in [&listed, &one] {
        assert!(!read.to_string().contains("whsec_"), "{read}");
    }
    assert_eq!(one["event_types"], json!(["delivery", "bounce"]));

    let mail = Mail::new(
        vec!["ana@example.com".into(), "bob@example.com".into()],
        "Hi",
        "fwd",
    );
    seed(
        &h,
        &pid,
        &key,
        &[(
            mail,
            vec![EventType::Send, EventType::Delivery, EventType::Bounce],
        )],
    )
    .await;
    let stored = h.events(&pid, &key, "limit=100").await;
    let wanted: Vec<&Value> = stored.iter().filter(|e| e["type"] != "send").collect();
    assert_eq!(wanted.len(), 4);

    let got = receiver.settle(4).await;
    assert_eq!(
        got.len(),
        4,
        "each wanted event once, no send, no repeat: {got:?}"
    );
    for event in wanted {
        let id = event["id"].as_str().unwrap();
        let (_, body) = got.iter().find(|(got, _)| got == id).expect("forwarded");
        assert_eq!(&body["data"], event, "the event as the API shows it");
        assert_eq!(
            body["type"],
            format!("ses.{}", event["type"].as_str().unwrap())
        );
        assert_eq!(receiver.attempts(id), 3, "refused twice, then accepted");
    }
    assert_eq!(receiver.forged(), 0);
    let (_, letters) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/endpoints/{eid}/dead-letters"),
            &key,
            None,
        )
        .await;
    assert_eq!(letters["items"], json!([]));
    assert!(
        !logs.text().contains("whsec_"),
        "a signing secret reached the logs"
    );
}

#[tokio::test]
async fn a_slow_endpoint_holds_up_no_other() {
    let h = harness().await;
    let (pid, key) = h.project().await;
    let hanging = common::serve(axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            axum::http::StatusCode::NO_CONTENT
        }),
    ))
    .await;
    let (status, _) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/endpoints"),
            &key,
            Some(json!({"url": format!("{hanging}/hook")})),
        )
        .await;
    assert_eq!(status, 201);
    let fast = Receiver::start(0).await;
    endpoint(&h, &pid, &key, &fast, json!({})).await;
    let mail = Mail::new(
        vec!["ana@example.com".into(), "bob@example.com".into()],
        "Hi",
        "slow",
    );
    seed(&h, &pid, &key, &[(mail, vec![EventType::Delivery])]).await;
    let stored = std::time::Instant::now();
    for _ in 0..80 {
        if fast.accepted().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(fast.accepted().len(), 2);
    // The hanging endpoint's POSTs wait out their 10-second deadline beside these.
    assert!(
        stored.elapsed() < Duration::from_secs(8),
        "{:?}",
        stored.elapsed()
    );
}

#[tokio::test]
async fn an_endpoint_that_never_accepts_gets_a_dead_letter_after_its_retries() {
    let h = harness().await;
    let (pid, key) = h.project().await;
    let receiver = Receiver::start(u32::MAX).await;
    let eid = endpoint(
        &h,
        &pid,
        &key,
        &receiver,
        json!({"event_types": ["bounce"]}),
    )
    .await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Hi", "dead");
    seed(&h, &pid, &key, &[(mail.clone(), vec![EventType::Bounce])]).await;
    let path = format!("/v1/projects/{pid}/endpoints/{eid}/dead-letters");
    let letters = eventually("a dead letter", || async {
        let (_, letters) = h.call(Method::GET, &path, &key, None).await;
        letters["items"]
            .as_array()
            .filter(|l| !l.is_empty())
            .cloned()
    })
    .await;
    let [letter] = &letters[..] else {
        panic!("{letters:?}")
    };
    assert_eq!(letter["type"], "bounce");
    assert_eq!(letter["ses_message_id"], mail.message_id.as_str());
    assert!(letter["attempts"].as_u64().unwrap() >= 2, "{letter}");
    assert!(
        letter["last_error"]
            .as_str()
            .unwrap()
            .starts_with("answered HTTP 500"),
        "{letter}"
    );
    assert!(receiver.accepted().is_empty());
}

#[tokio::test]
async fn a_paused_endpoint_gets_what_it_missed_when_resumed_and_a_replay_sends_again() {
    let h = harness().await;
    let (pid, key) = h.project().await;
    let receiver = Receiver::start(0).await;
    let eid = endpoint(&h, &pid, &key, &receiver, json!({})).await;
    let base = format!("/v1/projects/{pid}/endpoints/{eid}");
    let (status, paused) = h
        .call(Method::POST, &format!("{base}/pause"), &key, None)
        .await;
    assert_eq!(status, 200, "{paused}");
    assert!(paused["paused_at"].is_string());
    let before = Utc::now();

    let mail = Mail::new(vec!["ana@example.com".into()], "Hi", "paused");
    seed(
        &h,
        &pid,
        &key,
        &[(mail, vec![EventType::Send, EventType::Delivery])],
    )
    .await;
    assert!(receiver.settle(1).await.is_empty(), "nothing while paused");

    let (status, resumed) = h
        .call(Method::POST, &format!("{base}/resume"), &key, None)
        .await;
    assert_eq!(status, 200, "{resumed}");
    assert!(resumed.get("paused_at").is_none());
    let got = receiver.settle(2).await;
    assert_eq!(got.len(), 2, "what arrived while paused: {got:?}");

    let (status, replay) = h
        .call(
            Method::POST,
            &format!("{base}/replay"),
            &key,
            Some(json!({"from": before})),
        )
        .await;
    assert_eq!(status, 202, "{replay}");
    let again = receiver.settle(4).await;
    assert_eq!(again.len(), 4);
    let ids = |d: &[(String, Value)]| {
        let mut ids: Vec<String> = d.iter().map(|(id, _)| id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&again[2..]),
        ids(&again[..2]),
        "a replay carries the same event ids"
    );
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_and_is_shown_once() {
    let h = harness().await;
    let (pid, key) = h.project().await;
    let receiver = Receiver::start(0).await;
    let eid = endpoint(&h, &pid, &key, &receiver, json!({})).await;
    let (status, rotated) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/endpoints/{eid}/rotate-secret"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap();
    // Only the new secret trusted: every delivery still verifies (both sign for a day).
    receiver.distrust_all();
    receiver.trust(new);
    let mail = Mail::new(vec!["ana@example.com".into()], "Hi", "rotated");
    seed(&h, &pid, &key, &[(mail, vec![EventType::Delivery])]).await;
    assert_eq!(receiver.settle(1).await.len(), 1);
    assert_eq!(receiver.forged(), 0);
    let (_, read) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/endpoints/{eid}"),
            &key,
            None,
        )
        .await;
    assert!(!read.to_string().contains(new));
}

#[tokio::test]
async fn another_tenant_can_neither_see_nor_change_an_endpoint() {
    let h = harness().await;
    let (victim, victim_key) = h.project().await;
    let (attacker, attacker_key) = h.project().await;
    let receiver = Receiver::start(0).await;
    let eid = endpoint(&h, &victim, &victim_key, &receiver, json!({})).await;
    let (_, before) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{victim}/endpoints/{eid}"),
            &victim_key,
            None,
        )
        .await;

    for base in [
        format!("/v1/projects/{attacker}/endpoints/{eid}"),
        format!("/v1/projects/{victim}/endpoints/{eid}"),
    ] {
        for (method, suffix, body) in [
            (Method::GET, "", None),
            (Method::DELETE, "", None),
            (Method::POST, "/pause", None),
            (Method::POST, "/resume", None),
            (Method::POST, "/rotate-secret", None),
            (Method::POST, "/replay", Some(json!({"from": Utc::now()}))),
            (Method::GET, "/dead-letters", None),
        ] {
            let (status, problem) = h
                .call(
                    method.clone(),
                    &format!("{base}{suffix}"),
                    &attacker_key,
                    body,
                )
                .await;
            assert!(
                [401, 403, 404].contains(&status),
                "{method} {base}{suffix}: {status} {problem}"
            );
            assert!(problem["type"].is_string(), "problem+json: {problem}");
            assert!(!problem.to_string().contains("whsec_"));
        }
    }
    let (_, listed) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{attacker}/endpoints"),
            &attacker_key,
            None,
        )
        .await;
    assert_eq!(listed["items"], json!([]));
    let (_, after) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{victim}/endpoints/{eid}"),
            &victim_key,
            None,
        )
        .await;
    assert_eq!(after, before, "nothing of the victim's changed");

    // The victim's deliveries still verify with the secret it was given.
    let mail = Mail::new(vec!["ana@example.com".into()], "Hi", "victim");
    seed(
        &h,
        &victim,
        &victim_key,
        &[(mail, vec![EventType::Delivery])],
    )
    .await;
    assert_eq!(receiver.settle(1).await.len(), 1);
    assert_eq!(receiver.forged(), 0);
}

#[tokio::test]
async fn addresses_and_input_an_attacker_would_use_are_refused_and_nothing_is_made() {
    let h = harness().await;
    let (pid, key) = h.project().await;
    let (other, other_key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let (_, other_connection, _) = h
        .live_connection(&other, &other_key, &customer, "trackses-fwd-other", "2")
        .await;
    let path = format!("/v1/projects/{pid}/endpoints");
    for body in [
        json!({"url": "http://hooks.example.com/"}),
        json!({"url": "https://169.254.169.254/latest/meta-data/"}),
        json!({"url": "https://10.0.0.8/hook"}),
        json!({"url": "http://10.0.0.8/hook"}),
        json!({"url": "https://[fd00:ec2::254]/"}),
        json!({"url": "https://user:pass@hooks.example.com/"}),
        json!({"url": "javascript:alert(1)"}),
        json!({"url": format!("https://hooks.example.com/{}", "a".repeat(2100))}),
        json!({"url": "https://hooks.example.com/", "event_types": ["everything"]}),
        json!({"url": "https://hooks.example.com/", "event_types": ["unknown"]}),
        json!({"url": "https://hooks.example.com/", "connection_id": other_connection}),
        json!({"url": "https://hooks.example.com/", "secret": "mine"}),
        json!({"url": 7}),
    ] {
        let (status, problem) = h.call(Method::POST, &path, &key, Some(body.clone())).await;
        assert!([400, 404].contains(&status), "{body}: {status} {problem}");
        assert!(problem["detail"].is_string(), "{problem}");
    }
    let (_, listed) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(listed["items"], json!([]), "nothing was made");

    // A read key reads, and changes nothing.
    let (status, read_key) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/api-keys"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 201, "{read_key}");
    let read_key = read_key["api_key"].as_str().unwrap();
    let (status, _) = h
        .call(
            Method::POST,
            &path,
            read_key,
            Some(json!({"url": "https://hooks.example.com/"})),
        )
        .await;
    assert_eq!(status, 403);

    // At most ten endpoints a project: the eleventh is refused.
    for n in 1..=11 {
        let body = json!({"url": "https://hooks.example.com/"});
        let (status, answer) = h.call(Method::POST, &path, &key, Some(body)).await;
        assert_eq!(status, if n <= 10 { 201 } else { 409 }, "{n}: {answer}");
    }
}

#[tokio::test]
async fn a_replay_pages_through_every_event_of_its_span() {
    let h = harness().await;
    let (pid, key) = h.project().await;
    let before = Utc::now();
    let recipients: Vec<String> = (0..40).map(|i| format!("r{i}@example.com")).collect();
    let mail = Mail::new(recipients, "Many", "replay");
    let steps = vec![
        EventType::Send,
        EventType::Delivery,
        EventType::Open,
        EventType::Click,
        EventType::Bounce,
    ];
    seed(&h, &pid, &key, &[(mail, steps)]).await;
    let receiver = Receiver::start(0).await;
    let eid = endpoint(&h, &pid, &key, &receiver, json!({})).await;
    let path = format!("/v1/projects/{pid}/endpoints/{eid}/replay");
    let (status, answer) = h
        .call(Method::POST, &path, &key, Some(json!({"from": before})))
        .await;
    assert_eq!(status, 202, "{answer}");
    let got = receiver.settle(200).await;
    let mut ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200, "every event of the span, over two pages");
}
