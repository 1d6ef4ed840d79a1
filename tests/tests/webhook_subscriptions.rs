//! The webhook's SNS subscriptions: a confirmation for a topic it was not given is never
//! confirmed, and an unsubscribed connection revives on a later notification of its topic.

mod common;

use common::ses::documents;
use common::*;
use local::ses_traffic::Mail;
use model::EventType;
use reqwest::Method;

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
