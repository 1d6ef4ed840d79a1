//! A project receives a topic's events only after proving it controls the topic: a subscription
//! confirmation at its own webhook URL, or (direct SNS → Lambda) its topic proof published to the
//! topic. Naming a topic claims nothing, blocks nobody and tells nothing.

mod common;

use chrono::Utc;
use common::*;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use model::connection::Transition;
use reqwest::Method;

fn shape(created: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = created.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

/// GIVEN a victim whose topic feeds trackses' `ingest-sns` and an attacker project that names the
/// victim's topic first, WHEN the victim's mail flows, the victim connects the same topic and
/// proves it, and the attacker replays a signed notification of the topic to its own webhook,
/// THEN the attacker's answer was the same as for a free topic, the victim is not blocked, every
/// event lands in the victim's project and none in the attacker's.
#[tokio::test]
async fn a_topic_named_by_an_attacker_first_still_belongs_to_its_owner() {
    let h = Harness::start().await;
    let (attacker, attacker_key) = h.project().await;
    let (victim_pid, victim_key) = h.project().await;
    let victim = h.customer(&fresh_account("7000")).await;
    let topic = victim
        .create_topic(&unique("orders-events"), "2")
        .await
        .unwrap();
    h.subscribe_ingest_sns(&victim, &topic).await;
    let third_party = Capture::subscribe(&victim, &topic).await;

    // Naming a taken topic answers exactly as naming a free one: no oracle, no block.
    let squatted = h.register_topic(&attacker, &attacker_key, &topic).await;
    let free_topic = format!(
        "arn:aws:sns:{REGION}:{}:{}",
        victim.account_id,
        unique("free")
    );
    let free = h
        .register_topic(&attacker, &attacker_key, &free_topic)
        .await;
    assert_eq!(shape(&squatted), shape(&free));
    assert_eq!(
        (squatted["status"].as_str(), free["status"].as_str()),
        (Some("pending"), Some("pending"))
    );

    // Mail before anyone proved the topic: delivered to ingest-sns, stored nowhere.
    let before = Mail::new(vec!["ana@example.com".into()], "Early", "e");
    let document = event_json(EventType::Send, &before, &before.recipients, Utc::now());
    victim.publish_ses_event(&topic, &document).await.unwrap();
    let early = third_party.next_of_type("Notification").await;

    let owned = h.register_topic(&victim_pid, &victim_key, &topic).await;
    let proof = owned["topic_proof"]["message"].as_str().unwrap();
    victim.publish_ses_event(&topic, proof).await.unwrap();
    let victim_cid = owned["id"].as_str().unwrap();
    h.wait_status(&victim_pid, &victim_key, victim_cid, "active")
        .await;

    let mail = Mail::new(vec!["bob@example.com".into()], "Orders", "o");
    for step in [EventType::Send, EventType::Delivery] {
        let document = event_json(step, &mail, &mail.recipients, Utc::now());
        victim.publish_ses_event(&topic, &document).await.unwrap();
    }
    let query = format!("message_id={}", mail.message_id);
    h.wait_events(&victim_pid, &victim_key, &query, 2).await;

    // The attacker replays a genuine signed notification of the topic to its own webhook.
    let squatted_url = squatted["webhook_url"].as_str().unwrap();
    let body = serde_json::to_vec(&early).unwrap();
    let (status, problem) = h.post_webhook(squatted_url, &body).await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not proven control"),
        "{problem}"
    );

    assert!(h.events(&attacker, &attacker_key, "").await.is_empty());
    let (_, connection) = h
        .call(
            Method::GET,
            &format!(
                "/v1/projects/{attacker}/connections/{}",
                squatted["id"].as_str().unwrap()
            ),
            &attacker_key,
            None,
        )
        .await;
    assert_eq!(connection["status"], "pending", "{connection}");
    assert_eq!(connection["topic_proven_at"], serde_json::Value::Null);
    assert!(
        h.events(
            &victim_pid,
            &victim_key,
            &format!("message_id={}", before.message_id)
        )
        .await
        .is_empty(),
        "what arrived before the proof was refused, not kept for whoever proves later"
    );

    // Even an attacker allowed to subscribe endpoints to the topic proves only its own webhook
    // connection by it: the topic's direct deliveries stay routed to the owner's.
    victim.subscribe_https(&topic, squatted_url).await.unwrap();
    let squatted_id = squatted["id"].as_str().unwrap();
    h.wait_status(&attacker, &attacker_key, squatted_id, "active")
        .await;
    let after = Mail::new(vec!["dan@example.com".into()], "After", "a");
    let document = event_json(EventType::Send, &after, &after.recipients, Utc::now());
    victim.publish_ses_event(&topic, &document).await.unwrap();
    let query = format!("message_id={}", after.message_id);
    h.wait_events(&victim_pid, &victim_key, &query, 1).await;
}

/// GIVEN a live connection and an UnsubscribeConfirmation of its topic captured earlier, WHEN it
/// is replayed after the subscription was confirmed again, THEN the connection stays active; and a
/// notification revives only an unsubscribed connection, never one in error.
#[tokio::test]
async fn replayed_unsubscriptions_and_notifications_do_not_move_the_state() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let (topic, cid, webhook_url) = h
        .live_connection(&pid, &key, &customer, "trackses-replay-state", "2")
        .await;
    let capture = Capture::subscribe(&customer, &topic).await;
    let arn_of = |endpoint: String| {
        let customer = customer.clone();
        let topic = topic.clone();
        async move {
            customer
                .sns
                .list_subscriptions_by_topic()
                .topic_arn(&topic)
                .send()
                .await
                .unwrap()
                .subscriptions()
                .iter()
                .find(|s| s.endpoint() == Some(endpoint.as_str()))
                .and_then(|s| s.subscription_arn())
                .unwrap()
                .to_owned()
        }
    };
    let unsubscribe = |arn: String| {
        let customer = customer.clone();
        async move {
            customer
                .sns
                .unsubscribe()
                .subscription_arn(arn)
                .send()
                .await
                .unwrap();
        }
    };
    unsubscribe(arn_of(capture.url.clone()).await).await;
    let stale = capture.next_of_type("UnsubscribeConfirmation").await;

    // The webhook's own subscription is removed and confirmed again: proven anew.
    unsubscribe(arn_of(webhook_url.clone()).await).await;
    h.wait_status(&pid, &key, &cid, "unsubscribed").await;
    customer
        .subscribe_https(&topic, &webhook_url)
        .await
        .unwrap();
    h.wait_status(&pid, &key, &cid, "active").await;

    let (status, _) = h
        .post_webhook(&webhook_url, &serde_json::to_vec(&stale).unwrap())
        .await;
    assert_eq!(status, 200);
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(
        connection["status"], "active",
        "a stale removal changes nothing"
    );

    // In error (as wiring leaves a connection it cannot use), mail is kept but revives nothing.
    h.store
        .transition(
            &cid,
            Transition::WiringFailed,
            Some(Some("broken")),
            Utc::now(),
        )
        .await
        .unwrap();
    let mail = Mail::new(vec!["ana@example.com".into()], "Still", "s");
    let document = event_json(EventType::Send, &mail, &mail.recipients, Utc::now());
    customer.publish_ses_event(&topic, &document).await.unwrap();
    let query = format!("message_id={}", mail.message_id);
    h.wait_events(&pid, &key, &query, 1).await;
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(
        (
            connection["status"].as_str(),
            connection["last_error"].as_str()
        ),
        (Some("error"), Some("broken"))
    );
}
