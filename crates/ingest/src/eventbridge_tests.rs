//! GIVEN an account whose role proved it to project A (a route), WHEN events arrive through the
//! queue, THEN only the account's own, of its own configuration set, are stored, once.

use chrono::{DateTime, Utc};
use model::connection::EventBridgeRoute;
use model::signals::AdvisorStatus;
use model::{Access, Connection, ConnectionStatus, Delivery, EventType, Source};
use serde_json::{Value, json};

use super::*;
use crate::memory::MemoryStore;

const ACCOUNT: &str = "111111111111";
const REGION: &str = "eu-west-1";
const SET: &str = "trackses-demo";

fn ses_sample(name: &str) -> Value {
    let path = format!(
        "{}/../../events/ses/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn event(id: &str, detail_type: &str, account: &str, time: &str, detail: Value) -> String {
    json!({
        "version": "0", "id": id, "detail-type": detail_type, "source": "aws.ses",
        "account": account, "time": time, "region": REGION, "resources": [], "detail": detail,
    })
    .to_string()
}

fn bounce(id: &str) -> String {
    event(
        id,
        "Email Bounced",
        ACCOUNT,
        "2026-05-01T10:00:00Z",
        ses_sample("bounce-permanent"),
    )
}

fn connection(cid: &str) -> Connection {
    let source = Source {
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        delivery: Delivery::EventBridge,
    };
    let access = Access::Role {
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/trackses"),
        stack: None,
    };
    Connection::new(
        cid.into(),
        format!("prj_{cid}"),
        access,
        ConnectionStatus::Active,
        source,
    )
}

/// Project A's connection routes the account's set `SET`.
fn store() -> MemoryStore {
    let store = MemoryStore::new();
    store.insert_connection(connection("con_a"));
    store.insert_eventbridge_route(ACCOUNT, REGION, route("con_a", SET));
    store
}

fn route(cid: &str, set: &str) -> EventBridgeRoute {
    EventBridgeRoute {
        configuration_set: set.into(),
        connection_id: cid.into(),
        project_id: format!("prj_{cid}"),
    }
}

async fn one(
    ingestor: &EventBridgeIngestor<MemoryStore>,
    body: &str,
) -> Result<EventBridgeOutcome, EventBridgeError> {
    ingestor.handle_batch(&[body]).await.remove(0)
}

#[tokio::test]
async fn an_event_of_the_routed_set_is_stored_once_however_often_it_arrives() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let results = ingestor
        .handle_batch(&[&bounce("ev-1"), &bounce("ev-1"), &bounce("ev-1")])
        .await;
    assert!(
        matches!(results[0], Ok(EventBridgeOutcome::Stored { events: 2 })),
        "{results:?}"
    );
    assert!(matches!(results[1], Ok(EventBridgeOutcome::Duplicate)));
    assert!(matches!(results[2], Ok(EventBridgeOutcome::Duplicate)));
    let events = store.events();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.connection_id == "con_a"
        && e.project_id == "prj_con_a"
        && e.delivery_id == "ev-1"
        && e.event_type == EventType::Bounce));
}

#[tokio::test]
async fn every_ses_event_type_and_the_older_notification_shape_parse() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    for (i, (sample, detail_type)) in [
        ("send", "Email Sent"),
        ("delivery", "Email Delivered"),
        ("bounce-transient", "Email Bounced"),
        ("complaint", "Email Complaint Received"),
        ("reject", "Email Rejected"),
        ("open", "Email Opened"),
        ("click", "Email Clicked"),
        ("rendering-failure", "Email Rendering Failed"),
        ("delivery-delay", "Email Delivery Delayed"),
        ("subscription", "Email Subscribed"),
        ("notification-bounce", "Email Bounced"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut detail = ses_sample(sample);
        detail["mail"]["sendingAccountId"] = json!(ACCOUNT);
        // The older shape has no tags of its own; through a set, SES would add its name.
        detail["mail"]["tags"]["ses:configuration-set"] = json!([SET]);
        let body = event(
            &format!("ev-{i}"),
            detail_type,
            ACCOUNT,
            "2026-05-01T10:00:00Z",
            detail,
        );
        let outcome = one(&ingestor, &body).await;
        assert!(
            matches!(outcome, Ok(EventBridgeOutcome::Stored { .. })),
            "{sample}: {outcome:?}"
        );
    }
}

/// GIVEN an attacker's account and a victim's route, WHEN the attacker's own SES events name
/// the victim's configuration set, THEN refused: AWS wrote the attacker's account into them.
#[tokio::test]
async fn another_accounts_events_are_refused_whatever_set_they_name() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let mut detail = ses_sample("bounce-permanent");
    detail["mail"]["sendingAccountId"] = json!("999999999999");
    let forged = event(
        "ev-x",
        "Email Bounced",
        "999999999999",
        "2026-05-01T10:00:00Z",
        detail,
    );
    let refused = one(&ingestor, &forged).await.unwrap_err();
    assert_eq!(refused.reason(), "unregistered_account");
    assert!(!refused.is_retryable());
    assert!(store.events().is_empty());
}

#[tokio::test]
async fn refusals_change_nothing_and_name_their_reason() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let mut other_set = ses_sample("bounce-permanent");
    other_set["mail"]["tags"]["ses:configuration-set"] = json!(["their-own-set"]);
    let mut foreign_sender = ses_sample("bounce-permanent");
    foreign_sender["mail"]["sendingAccountId"] = json!("222222222222");
    let mut custom = serde_json::from_str::<Value>(&bounce("ev-c")).unwrap();
    custom["source"] = json!("my.app");
    let mut elsewhere = serde_json::from_str::<Value>(&bounce("ev-r")).unwrap();
    elsewhere["region"] = json!("mars-north-1");
    let huge = event(
        "ev-h",
        "Email Bounced",
        ACCOUNT,
        "2026-05-01T10:00:00Z",
        json!({"padding": "x".repeat(MAX_EVENT_BYTES)}),
    );
    for (body, reason) in [
        (
            event(
                "ev-1",
                "Email Bounced",
                ACCOUNT,
                "2026-05-01T10:00:00Z",
                other_set,
            ),
            "unrouted_configuration_set",
        ),
        (
            event(
                "ev-2",
                "Email Bounced",
                ACCOUNT,
                "2026-05-01T10:00:00Z",
                foreign_sender,
            ),
            "foreign_sending_account",
        ),
        (custom.to_string(), "not_ses_source"),
        (elsewhere.to_string(), "bad_origin"),
        (
            event(
                "ev-3",
                "Email Teleported",
                ACCOUNT,
                "2026-05-01T10:00:00Z",
                json!({}),
            ),
            "unknown_detail_type",
        ),
        (
            event(
                "ev-4",
                "Email Bounced",
                ACCOUNT,
                "2026-05-01T10:00:00Z",
                json!({"eventType": "Bounce"}),
            ),
            "not_ses",
        ),
        (
            event(
                "ev-5",
                "Email Bounced",
                ACCOUNT,
                "2026-05-01T10:00:00Z",
                json!("a string"),
            ),
            "not_ses",
        ),
        (
            r#"{"id": "ev-6", "source": "aws.ses"}"#.to_owned(),
            "not_an_event",
        ),
        ("not json at all".to_owned(), "not_an_event"),
        (huge, "too_large"),
    ] {
        let refused = one(&ingestor, &body).await.unwrap_err();
        assert_eq!(refused.reason(), reason, "{refused}");
        assert!(!refused.is_retryable(), "{reason}");
    }
    assert!(store.events().is_empty());
    assert_eq!(
        store.connection("con_a").unwrap().signals,
        Default::default()
    );
}

/// A poisoned record is refused alone; a store failure is retried alone; the rest of the batch
/// is stored.
#[tokio::test]
async fn a_bad_record_never_blocks_its_batch() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    store.fail_next_writes(0);
    let results = ingestor
        .handle_batch(&["{", &bounce("ev-1"), "null", &bounce("ev-2")])
        .await;
    assert!(results[0].is_err() && results[2].is_err());
    assert!(results[1].is_ok() && results[3].is_ok());
    assert_eq!(store.events().len(), 4);

    store.fail_next_writes(1);
    let results = ingestor
        .handle_batch(&[&bounce("ev-3"), &bounce("ev-4")])
        .await;
    assert!(results[0].as_ref().unwrap_err().is_retryable());
    assert!(matches!(results[1], Ok(EventBridgeOutcome::Stored { .. })));
    // Delivered again, the failed one is stored and the other one is a duplicate.
    let again = ingestor
        .handle_batch(&[&bounce("ev-3"), &bounce("ev-4")])
        .await;
    assert!(matches!(again[0], Ok(EventBridgeOutcome::Stored { .. })));
    assert!(matches!(again[1], Ok(EventBridgeOutcome::Duplicate)));
}

fn at(time: &str) -> DateTime<Utc> {
    time.parse().unwrap()
}

/// Sending status and advisor events reach every connection of the account, and a late copy of
/// an older one never overwrites a newer one.
#[tokio::test]
async fn account_signals_keep_the_latest_on_every_connection_of_the_account() {
    let store = store();
    store.insert_connection(connection("con_b"));
    store.insert_eventbridge_route(ACCOUNT, REGION, route("con_b", "trackses-other"));
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let disabled = event(
        "s-1",
        "Sending Status Disabled",
        ACCOUNT,
        "2026-05-01T10:00:00Z",
        json!({}),
    );
    let enabled_before = event(
        "s-0",
        "Sending Status Enabled",
        ACCOUNT,
        "2026-05-01T09:00:00Z",
        json!({}),
    );
    let advice = event(
        "a-1",
        "Advisor Recommendation Status Open",
        ACCOUNT,
        "2026-05-01T10:05:00Z",
        json!({"version": "1.0.0", "data": "DMARC is not configured for example.com", "metadata": {"impact": "HIGH", "type": "DMARC"}}),
    );
    let results = ingestor
        .handle_batch(&[&disabled, &enabled_before, &advice])
        .await;
    assert!(
        matches!(
            results[0],
            Ok(EventBridgeOutcome::Signal { connections: 2 })
        ),
        "{results:?}"
    );
    assert!(matches!(
        results[1],
        Ok(EventBridgeOutcome::Signal { connections: 0 })
    ));
    for cid in ["con_a", "con_b"] {
        let signals = store.connection(cid).unwrap().signals;
        let sending = signals.sending.unwrap();
        assert!(!sending.enabled);
        assert_eq!(sending.at, at("2026-05-01T10:00:00Z"));
        let [advisor] = &signals.advisor[..] else {
            panic!("one recommendation: {:?}", signals.advisor)
        };
        assert_eq!(advisor.status, AdvisorStatus::Open);
        assert_eq!(advisor.kind, "DMARC");
        assert!(
            advisor.recommendation.contains("DMARC"),
            "{}",
            advisor.recommendation
        );
    }
    // A signal of an account nobody connected is refused like its mail.
    let stranger = event(
        "s-9",
        "Sending Status Disabled",
        "999999999999",
        "2026-05-01T10:00:00Z",
        json!({}),
    );
    assert_eq!(
        one(&ingestor, &stranger).await.unwrap_err().reason(),
        "unregistered_account"
    );
}

/// An event naming no configuration set (the older notification shape, untagged) parses, and
/// is refused: it is no route's, whatever connections the account has.
#[tokio::test]
async fn an_event_naming_no_configuration_set_is_refused() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let mut detail = ses_sample("notification-bounce");
    detail["mail"]["sendingAccountId"] = json!(ACCOUNT);
    let body = event(
        "n-1",
        "Email Bounced",
        ACCOUNT,
        "2026-05-01T10:00:00Z",
        detail,
    );
    let refused = one(&ingestor, &body).await.unwrap_err();
    assert_eq!(refused.reason(), "unrouted_configuration_set");
    assert!(store.events().is_empty());
}

/// The account's routes could not be read: every record of that account is delivered again,
/// the others of the batch are stored.
#[tokio::test]
async fn records_whose_routes_could_not_be_read_are_retried_alone() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    store.fail_next_calls(1);
    let results = ingestor.handle_batch(&[&bounce("ev-1"), "{"]).await;
    let failed = results[0].as_ref().unwrap_err();
    assert!(failed.is_retryable(), "{failed}");
    assert_eq!(results[1].as_ref().unwrap_err().reason(), "not_an_event");
    assert!(store.events().is_empty());
    let again = ingestor.handle_batch(&[&bounce("ev-1")]).await;
    assert!(matches!(
        again[0],
        Ok(EventBridgeOutcome::Stored { events: 2 })
    ));
}

/// A sending status naming a resource is an SES tenant's: the account's own stays as it was.
#[tokio::test]
async fn a_tenants_sending_status_is_not_the_accounts() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let mut tenant: Value = serde_json::from_str(&event(
        "t-1",
        "Sending Status Disabled",
        ACCOUNT,
        "2026-05-01T10:00:00Z",
        json!({}),
    ))
    .unwrap();
    tenant["resources"] = json!([format!("arn:aws:ses:{REGION}:{ACCOUNT}:tenant/shop-a/tn-1")]);
    let refused = one(&ingestor, &tenant.to_string()).await.unwrap_err();
    assert_eq!(refused.reason(), "tenant_status");
    assert_eq!(
        store.connection("con_a").unwrap().signals,
        Default::default()
    );
}

fn sample(name: &str) -> String {
    let path = format!(
        "{}/../../events/eventbridge/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

/// Every sample of what the queue receives is accepted for the connection of its account and
/// configuration set, and the account's signals are kept.
#[tokio::test]
async fn every_sample_delivery_is_stored_or_kept() {
    let store = MemoryStore::new();
    let mut customer = connection("con_c");
    customer.account_id = "210987654321".into();
    store.insert_connection(customer);
    store.insert_eventbridge_route(
        "210987654321",
        REGION,
        route("con_c", "trackses-6f1d3c2e-8b7a-4c5d-9e0f-1a2b3c4d5e6f"),
    );
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let mail = [
        "send",
        "delivery",
        "bounce",
        "complaint",
        "reject",
        "open",
        "click",
        "rendering-failure",
        "delivery-delay",
        "subscription",
    ];
    for name in mail {
        let outcome = one(&ingestor, &sample(name)).await;
        assert!(
            matches!(outcome, Ok(EventBridgeOutcome::Stored { .. })),
            "{name}: {outcome:?}"
        );
    }
    let stored: std::collections::HashSet<EventType> =
        store.events().iter().map(|e| e.event_type).collect();
    assert_eq!(stored.len(), mail.len(), "{stored:?}");
    for name in ["sending-status-disabled", "advisor-open"] {
        let outcome = one(&ingestor, &sample(name)).await;
        assert!(
            matches!(outcome, Ok(EventBridgeOutcome::Signal { connections: 1 })),
            "{name}: {outcome:?}"
        );
    }
    let signals = store.connection("con_c").unwrap().signals;
    let sending = signals.sending.unwrap();
    assert!(!sending.enabled);
    // To the millisecond the table keeps, from the detail's timestamp, not the event's second.
    assert_eq!(sending.at, at("2024-05-14T15:02:11.512Z"));
    let [advisor] = &signals.advisor[..] else {
        panic!("one recommendation: {:?}", signals.advisor)
    };
    assert_eq!(advisor.status, AdvisorStatus::Open);
    assert_eq!(
        advisor.resource.as_deref(),
        Some("arn:aws:ses:eu-west-1:210987654321:identity/mail.example.com")
    );
    assert!(
        advisor
            .recommendation
            .starts_with("HIGH impact · DMARC is not configured"),
        "{}",
        advisor.recommendation
    );
    for name in ["sending-status-enabled", "advisor-resolved"] {
        assert!(one(&ingestor, &sample(name)).await.is_ok(), "{name}");
    }
    // The same recommendation, resolved: still one, now resolved.
    let signals = store.connection("con_c").unwrap().signals;
    assert!(signals.sending.unwrap().enabled);
    let [advisor] = &signals.advisor[..] else {
        panic!("one recommendation: {:?}", signals.advisor)
    };
    assert_eq!(advisor.status, AdvisorStatus::Resolved);
}

/// GIVEN two open recommendations of two identities, WHEN one is resolved, THEN the other stays
/// open: each is kept by its type and resource.
#[tokio::test]
async fn each_recommendation_is_kept_apart() {
    let store = store();
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let advice = |id: &str, status: &str, identity: &str, time: &str| {
        let mut body: Value = serde_json::from_str(&event(
            id,
            &format!("Advisor Recommendation Status {status}"),
            ACCOUNT,
            time,
            json!({"data": format!("DMARC is not configured for {identity}"), "metadata": {"type": "DMARC", "impact": "HIGH"}}),
        ))
        .unwrap();
        body["resources"] = json!([format!(
            "arn:aws:ses:{REGION}:{ACCOUNT}:identity/{identity}"
        )]);
        body.to_string()
    };
    let results = ingestor
        .handle_batch(&[
            &advice("a-1", "Open", "a.example", "2026-05-01T10:00:00Z"),
            &advice("b-1", "Open", "b.example", "2026-05-01T10:00:01Z"),
            &advice("a-2", "Resolved", "a.example", "2026-05-01T11:00:00Z"),
            // A late copy of a's opening changes nothing.
            &advice("a-1", "Open", "a.example", "2026-05-01T10:00:00Z"),
        ])
        .await;
    assert!(
        matches!(
            results[3],
            Ok(EventBridgeOutcome::Signal { connections: 0 })
        ),
        "{results:?}"
    );
    let advisor = store.connection("con_a").unwrap().signals.advisor;
    let states: Vec<(&str, AdvisorStatus)> = advisor
        .iter()
        .map(|a| {
            (
                a.resource.as_deref().unwrap().rsplit('/').next().unwrap(),
                a.status,
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("a.example", AdvisorStatus::Resolved),
            ("b.example", AdvisorStatus::Open)
        ]
    );
}

/// GIVEN an account connected through SNS only, WHEN its SES events come through EventBridge
/// (its owner forwards them anyway), THEN refused: only a connection registered for EventBridge
/// delivery has a route.
#[tokio::test]
async fn an_account_connected_through_sns_is_refused_on_eventbridge() {
    let store = MemoryStore::new();
    let mut sns = connection("con_s");
    sns.delivery = Delivery::Sns {
        topic_arn: format!("arn:aws:sns:{REGION}:{ACCOUNT}:trackses-s"),
    };
    store.insert_connection(sns);
    let ingestor = EventBridgeIngestor::new(store.clone(), 30);
    let refused = one(&ingestor, &bounce("ev-1")).await.unwrap_err();
    assert_eq!(refused.reason(), "unregistered_account");
    assert!(store.events().is_empty());
}
