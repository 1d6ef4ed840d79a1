//! Role mode delivering through EventBridge, against the emulated AWS: the quick-create stack
//! with `Delivery=eventbridge` (an SES EventBridge destination, rules on the customer's default
//! bus forwarding to trackses' bus), trackses' bus, rule and queue as eventbridge-ingest.yaml
//! deploys them, and `ingest-eventbridge` reading the queue. Mail sent in the customer account
//! shows in the API once, however often its events are delivered; another account's events are
//! refused; the account's paused and resumed sending shows on the connection.

mod common;

use std::collections::BTreeSet;

use aws_sdk_sqs::Client as Sqs;
use common::onboarding::{emulator, harness, link_for};
use common::*;
use local::customer::CustomerAccount;
use local::demo::engage;
use local::eventbridge::copy_account_events;
use local::role_stack::{create_stack_from_link, output, wait_stack};
use model::EventType;
use reqwest::Method;
use serde_json::{Value, json};

/// Every SES event type, as the API names them, in the model's order.
fn types() -> impl Iterator<Item = &'static str> {
    EventType::published().map(EventType::as_str)
}

/// A connected customer account: the project, its key, the connection and its stack's set.
struct Connected {
    pid: String,
    key: String,
    cid: String,
    customer: CustomerAccount,
    set: String,
    sender: String,
}

/// A project, and a customer account connected to it by the quick-create stack with
/// `Delivery=eventbridge`, its sender identity attached to the stack's configuration set.
async fn connected(h: &Harness, account_prefix: &str) -> Connected {
    let (pid, key) = h.project().await;
    let (onboarding, link) = link_for(h, &pid, &key, "eventbridge").await;
    let cid = onboarding["connection_id"].as_str().unwrap().to_owned();
    let bus = h.config.event_bus_arn.clone().unwrap();
    assert_eq!(onboarding["delivery"], "eventbridge");
    assert_eq!(onboarding["event_bus_arn"], bus.as_str());
    assert_eq!(link.parameter("Delivery"), Some("eventbridge"));
    assert_eq!(link.parameter("EventBusArn"), Some(bus.as_str()));

    let customer = h.customer(&fresh_account(account_prefix)).await;
    let sender = format!("hello@{}.example", unique("eb"));
    customer.create_identity(&sender).await.unwrap();
    let stack_id = create_stack_from_link(&customer, &link).await.unwrap();
    let stack = wait_stack(&customer.cloudformation, &stack_id, "CREATE_COMPLETE")
        .await
        .unwrap();
    h.wait_status(&pid, &key, &cid, "active").await;
    let set = output(&stack, "ConfigurationSetName").unwrap();
    let path = format!("/v1/projects/{pid}/connections/{cid}/identities/{sender}");
    let (status, attached) = h.call(Method::PUT, &path, &key, None).await;
    assert_eq!(status, 200, "{attached}");
    assert_eq!(attached["configuration_set"], set.as_str());
    Connected {
        pid,
        key,
        cid,
        customer,
        set,
        sender,
    }
}

async fn connection(h: &Harness, c: &Connected) -> Value {
    let path = format!("/v1/projects/{}/connections/{}", c.pid, c.cid);
    let (status, connection) = h.call(Method::GET, &path, &c.key, None).await;
    assert_eq!(status, 200, "{connection}");
    connection
}

/// Mail through the connected set that makes SES publish every event type: the mailbox
/// simulator's outcomes, and what the emulated SES reports later for a sent message (opens,
/// clicks, delays, subscriptions, and the rejections and rendering failures that replace a
/// send). Returns the SES message ids.
async fn mail_of_every_type(c: &Connected) -> Vec<String> {
    let mut ids = Vec::new();
    for to in [
        "success@simulator.amazonses.com",
        "bounce@simulator.amazonses.com",
        "complaint@simulator.amazonses.com",
    ] {
        ids.push(
            c.customer
                .send_email(&c.sender, &[to], "Via EventBridge")
                .await
                .unwrap(),
        );
    }
    for kind in [
        "open",
        "click",
        "reject",
        "renderingFailure",
        "deliveryDelay",
        "subscription",
    ] {
        engage(&emulator(), &ids[0], kind).await.unwrap();
    }
    ids
}

async fn events_of(h: &Harness, c: &Connected) -> Vec<Value> {
    h.events(&c.pid, &c.key, "limit=100").await
}

#[tokio::test]
async fn every_event_type_arrives_through_eventbridge_once_however_often_it_is_delivered() {
    let h = harness().await.0;
    let c = connected(&h, "7100").await;
    let shown = connection(&h, &c).await;
    assert_eq!(shown["mode"], "role");
    assert_eq!(shown["delivery"], "eventbridge");
    assert_eq!(shown["configuration_set"], c.set.as_str());
    assert!(
        shown.get("topic_arn").is_none() && shown.get("webhook_url").is_none(),
        "{shown}"
    );

    // A copy of everything trackses' bus receives from this account, as a second rule sees it.
    let sqs = Sqs::new(&h.aws);
    let bus = h.config.event_bus_arn.as_deref().unwrap();
    let bus_name = bus.rsplit('/').next().unwrap();
    let copies = copy_account_events(&h.aws, bus_name, &c.customer.account_id)
        .await
        .unwrap();

    let clicked = std::time::Instant::now();
    mail_of_every_type(&c).await;
    // The success mail: send, delivery, open, click, reject, rendering failure, delay,
    // subscription; the bounce mail: send, bounce; the complaint mail: send, delivery and
    // complaint.
    let expected = 8 + 2 + 3;
    let events = h.wait_events(&c.pid, &c.key, "limit=100", expected).await;
    eprintln!(
        "EventBridge: {expected} events from SendEmail to the API in {:?}",
        clicked.elapsed()
    );
    let shown: BTreeSet<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(shown, types().collect(), "{events:?}");
    assert!(events.iter().all(|e| e["connection_id"] == c.cid.as_str()));

    // EventBridge and SQS deliver at least once: every message delivered twice more.
    let delivered = drain(&sqs, &copies, expected).await;
    let queue = &eventbridge_ingest(&h.config).queue.url;
    for body in delivered.iter().chain(&delivered) {
        sqs.send_message()
            .queue_url(queue)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    wait_queue_empty(&sqs, queue).await;
    let again = events_of(&h, &c).await;
    assert_eq!(again.len(), expected, "{again:?}");
    // Counted once each, however often delivered.
    let totals = |s: &Value| {
        types()
            .map(|t| s["totals"][t].as_u64().unwrap_or_default())
            .collect::<Vec<_>>()
    };
    let stats = counted(&h, &format!("/v1/projects/{}/stats", c.pid), &c.key, |s| {
        totals(s).iter().sum::<u64>() == expected as u64
    })
    .await;
    assert_eq!(totals(&stats), [3, 2, 1, 1, 1, 1, 1, 1, 1, 1], "{stats}");
}

/// GIVEN a victim connected through EventBridge and an attacker account that forwards its own
/// SES events to trackses' bus (its policy admits every account) through a configuration set
/// named like the victim's, WHEN the attacker sends mail, THEN nothing reaches the victim: AWS
/// wrote the attacker's account into every event, and no connection routes it.
#[tokio::test]
async fn another_accounts_events_are_refused_and_change_nothing() {
    let logs = LogCapture::global();
    let h = harness().await.0;
    let victim = connected(&h, "7200").await;
    let attacker = h.customer(&fresh_account("7300")).await;
    let sender = format!("mallory@{}.example", unique("eb"));
    attacker.create_identity(&sender).await.unwrap();
    let bus = h.config.event_bus_arn.clone().unwrap();
    attacker
        .forward_ses_events(&victim.set, &sender, &bus)
        .await
        .unwrap();
    attacker
        .send_email(&sender, &["bounce@simulator.amazonses.com"], "Forged")
        .await
        .unwrap();
    // Its Send and its Bounce reached trackses' bus and queue, and were refused there.
    eventually("the attacker's events refused", || async {
        let refused = logs
            .text()
            .lines()
            .filter(|l| {
                l.contains("EventBridge event refused")
                    && l.contains(
                        "no connection of this account and region receives EventBridge deliveries",
                    )
            })
            .count();
        (refused >= 2).then_some(())
    })
    .await;
    assert!(events_of(&h, &victim).await.is_empty());
    let shown = connection(&h, &victim).await;
    assert!(shown.get("signals").is_none(), "{shown}");
}

/// The customer pauses the account's sending, then resumes it: each shows on the connection.
#[tokio::test]
async fn paused_and_resumed_sending_shows_on_the_connection() {
    let h = harness().await.0;
    let c = connected(&h, "7400").await;
    for (enabled, say) in [(false, "paused"), (true, "resumed")] {
        c.customer
            .ses
            .put_account_sending_attributes()
            .sending_enabled(enabled)
            .send()
            .await
            .unwrap();
        let signals = eventually(say, || async {
            let shown = connection(&h, &c).await;
            (shown["signals"]["sending"]["enabled"] == enabled).then(|| shown["signals"].clone())
        })
        .await;
        assert!(signals["sending"]["at"].is_string(), "{signals}");
    }
    engage_advisor(&c.customer, "open").await;
    let shown = eventually("the advisor's recommendation", || async {
        let shown = connection(&h, &c).await;
        (shown["signals"]["advisor"][0]["status"] == "open").then_some(shown)
    })
    .await;
    assert!(
        shown["signals"]["advisor"][0]["recommendation"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{shown}"
    );
}

/// Asks the emulated SES for an advisor recommendation event of the account.
async fn engage_advisor(customer: &CustomerAccount, status: &str) {
    reqwest::Client::new()
        .post(format!("{}/_trackses/ses/advisor", emulator()))
        .json(&json!({"account_id": customer.account_id, "region": customer.region, "status": status}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

/// The `count` messages of a queue, as their bodies.
async fn drain(sqs: &Sqs, queue: &str, count: usize) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut bodies = Vec::new();
    while bodies.len() < count {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {count} copies",
            bodies.len()
        );
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        bodies.extend(
            received
                .messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_owned)),
        );
    }
    bodies
}

async fn wait_queue_empty(sqs: &Sqs, queue: &str) {
    eventually("the queue consumed", || async {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(
                aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .send()
            .await
            .unwrap();
        let waiting: u64 = attributes
            .attributes()
            .into_iter()
            .flat_map(|a| a.values())
            .filter_map(|v| v.parse::<u64>().ok())
            .sum();
        (waiting == 0).then_some(())
    })
    .await;
}

/// GIVEN a connection deleted in trackses (its stack still forwarding), WHEN the account sends
/// mail, THEN nothing more is stored for the project: the route went before the connection.
#[tokio::test]
async fn a_deleted_connection_stores_nothing_more() {
    let h = harness().await.0;
    let c = connected(&h, "7500").await;
    let path = format!("/v1/projects/{}/connections/{}", c.pid, c.cid);
    let (status, deleted) = h.call(Method::DELETE, &path, &c.key, None).await;
    assert_eq!(status, 202, "{deleted}");
    c.customer
        .send_email(&c.sender, &["success@simulator.amazonses.com"], "After")
        .await
        .unwrap();
    let sqs = Sqs::new(&h.aws);
    wait_queue_empty(&sqs, &eventbridge_ingest(&h.config).queue.url).await;
    assert!(events_of(&h, &c).await.is_empty());
    assert!(
        h.store
            .eventbridge_routes(&c.customer.account_id, REGION)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A stack update renaming the configuration set moves the route: the old set routes nowhere.
#[tokio::test]
async fn a_renamed_set_takes_the_route_and_the_old_one_routes_nowhere() {
    let h = Harness::start().await;
    let (pid, _) = h.project().await;
    let account = fresh_account("7600");
    let cid = eventbridge_connection(&h, &pid, &account, "trackses-before").await;
    h.store
        .update_stack_connection(
            &cid,
            &format!("arn:aws:iam::{account}:role/trackses"),
            "trackses-after",
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let renamed = h.store.get_connection(&cid).await.unwrap().unwrap();
    assert!(
        h.store
            .route_eventbridge(&renamed, chrono::Utc::now())
            .await
            .unwrap()
    );
    let routes = h.store.eventbridge_routes(&account, REGION).await.unwrap();
    let sets: Vec<&str> = routes
        .iter()
        .map(|r| r.configuration_set.as_str())
        .collect();
    assert_eq!(sets, ["trackses-after"]);
}
