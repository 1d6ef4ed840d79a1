//! The pipeline's use cases against the in-memory store, with messages Amazon SNS really signed
//! (`events/sns-real`), verified against the pinned certificate at the time they were signed.

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use model::{Access, Connection, ConnectionStatus, Delivery, EventType, Source, TopicArn};

use crate::memory::{MemoryStore, StoredRow};
use crate::sns::freshness::{REPLAY_WINDOW, StaleMessage};
use crate::sns::{CertStore, Confirmer, Envelope};
use crate::{Disposition, IngestError, IngestStore, Ingestor, Outcome, Target};

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/sns-real");

/// The topic of the real SES bounce and subscription confirmation.
const SES_TOPIC: &str = "arn:aws:sns:eu-central-1:573964052742:keila_notifications";
/// Another account's topic, which signed only "Hello world" notifications.
const OTHER_TOPIC: &str =
    "arn:aws:sns:us-east-2:295079676684:publish-and-verify-892f85fe-4836-424d-8188-ab85bef0f362";

const BOUNCE: &str = "ses-bounce-v1.json";
const BOUNCE_MESSAGE_ID: &str = "e2857e84-192d-54ff-9477-277db1208553";
const SUBSCRIPTION: &str = "subscription-v1.json";
const HELLO: &str = "hello-v1.json";

fn fixture(name: &str) -> Envelope {
    let body = std::fs::read(format!("{REAL}/{name}")).unwrap();
    Envelope::from_json(&body).unwrap()
}

fn signed_at(name: &str) -> DateTime<Utc> {
    fixture(name).signed_at().unwrap()
}

/// A minute after `name` was signed: a prompt delivery.
fn soon_after(name: &str) -> DateTime<Utc> {
    signed_at(name) + Duration::minutes(1)
}

/// An active connection that proved `topic_arn`, last changed well before any fixture was signed.
fn proven(cid: &str, topic_arn: &str) -> Connection {
    let long_ago: DateTime<Utc> = "2021-01-01T00:00:00Z".parse().unwrap();
    let topic: TopicArn = topic_arn.parse().unwrap();
    let source = Source {
        account_id: topic.account_id().into(),
        region: topic.region().into(),
        delivery: Delivery::Sns {
            topic_arn: topic_arn.into(),
        },
    };
    let mut connection = Connection::new(
        cid.into(),
        format!("prj_of_{cid}"),
        Access::Manual,
        ConnectionStatus::Active,
        source,
    );
    connection.topic_proven_at = Some(long_ago);
    connection.created_at = long_ago;
    connection.updated_at = long_ago;
    connection
}

/// A store holding `connections`, and an ingestor over it whose clock says `now`.
fn given(connections: &[&Connection], now: DateTime<Utc>) -> (MemoryStore, Ingestor<MemoryStore>) {
    let store = MemoryStore::new();
    for connection in connections {
        store.insert_connection((*connection).clone());
    }
    let certs = CertStore::new(Some(PathBuf::from(REAL)));
    let ingestor = Ingestor::new(store.clone(), certs, Confirmer::new(None), 30);
    (store, ingestor.with_clock(move || now))
}

fn bounce_row(cid: &str) -> StoredRow {
    StoredRow {
        project_id: format!("prj_of_{cid}"),
        connection_id: cid.into(),
        delivery_id: BOUNCE_MESSAGE_ID.into(),
        event_type: EventType::Bounce,
        recipient: "bounce@simulator.amazonses.com".into(),
        ses_message_id: "0107017cda9fa5c6-be6757c7-8954-4f49-bea4-259cb6e602de-000000".into(),
    }
}

#[track_caller]
fn assert_refused(result: Result<Outcome, IngestError>, reason: &str, disposition: Disposition) {
    let error = result.expect_err("the message must be refused");
    assert_eq!((error.reason(), error.disposition()), (reason, disposition));
}

/// GIVEN a registered connection that proved its topic
/// WHEN SNS delivers a real SES bounce to its webhook URL, then delivers the same message again
/// THEN the bounce is stored once, one event for its one recipient; the redelivery is a duplicate
#[tokio::test]
async fn a_proven_connection_stores_a_notification_once_and_a_redelivery_is_a_duplicate() {
    let connection = proven("con_a", SES_TOPIC);
    let (store, ingestor) = given(&[&connection], soon_after(BOUNCE));
    let target = Target::Connection("con_a");

    let first = ingestor.handle(&fixture(BOUNCE), target).await;
    let again = ingestor.handle(&fixture(BOUNCE), target).await;

    assert_eq!(first.unwrap(), Outcome::Stored { events: 1 });
    assert_eq!(again.unwrap(), Outcome::Duplicate);
    assert_eq!(store.events(), [bounce_row("con_a")]);
    assert_eq!(store.connection("con_a"), Some(connection));
}

/// GIVEN a proven connection registered for another topic
/// WHEN a real SES bounce of a different topic arrives at its webhook URL
/// THEN it is refused as forbidden and nothing is stored
#[tokio::test]
async fn a_notification_of_a_topic_not_the_connections_is_forbidden_and_stores_nothing() {
    let (store, ingestor) = given(&[&proven("con_a", OTHER_TOPIC)], soon_after(BOUNCE));

    let result = ingestor
        .handle(&fixture(BOUNCE), Target::Connection("con_a"))
        .await;

    assert_refused(result, "unregistered_topic", Disposition::Forbidden);
    assert_eq!(store.events(), []);
}

/// GIVEN a connection registered for the topic that has not proven control of it
/// WHEN a real SES bounce of that topic arrives at its webhook URL
/// THEN it is refused as forbidden, nothing is stored and the connection stays pending
#[tokio::test]
async fn an_unproven_connection_refuses_notifications() {
    let mut connection = proven("con_a", SES_TOPIC);
    connection.status = ConnectionStatus::Pending;
    connection.topic_proven_at = None;
    let (store, ingestor) = given(&[&connection], soon_after(BOUNCE));

    let result = ingestor
        .handle(&fixture(BOUNCE), Target::Connection("con_a"))
        .await;

    assert_refused(result, "unproven_topic", Disposition::Forbidden);
    assert_eq!(store.events(), []);
    assert_eq!(store.connection("con_a"), Some(connection));
}

/// GIVEN a proven connection, and a store that would fail the first call made of it
/// WHEN a real SES bounce signed longer ago than the replay window arrives
/// THEN it is refused as a replay, before the store is even read, and nothing is stored
#[tokio::test]
async fn a_replay_outside_the_window_is_refused() {
    let late = signed_at(BOUNCE) + REPLAY_WINDOW + Duration::seconds(1);
    let (store, ingestor) = given(&[&proven("con_a", SES_TOPIC)], late);
    store.fail_next_calls(1);

    let result = ingestor
        .handle(&fixture(BOUNCE), Target::Connection("con_a"))
        .await;

    assert!(matches!(
        result,
        Err(IngestError::Stale(StaleMessage::TooOld))
    ));
    assert_refused(result, "stale", Disposition::Forbidden);
    assert_eq!(store.events(), []);
}

/// GIVEN a proven connection, and a store whose next write fails
/// WHEN a real SES bounce arrives, then SNS delivers it again, and once more
/// THEN the first attempt answers Retry with nothing stored, the retry stores it, and the last is a
/// duplicate: one event in all
#[tokio::test]
async fn a_store_failure_after_acceptance_is_retry_and_the_retry_stores_exactly_once() {
    let (store, ingestor) = given(&[&proven("con_a", SES_TOPIC)], soon_after(BOUNCE));
    let target = Target::Connection("con_a");
    store.fail_next_writes(1);

    let failed = ingestor.handle(&fixture(BOUNCE), target).await;
    assert_refused(failed, "store", Disposition::Retry);
    assert_eq!(store.events(), []);

    let retried = ingestor.handle(&fixture(BOUNCE), target).await;
    let again = ingestor.handle(&fixture(BOUNCE), target).await;

    assert_eq!(retried.unwrap(), Outcome::Stored { events: 1 });
    assert_eq!(again.unwrap(), Outcome::Duplicate);
    assert_eq!(store.events(), [bounce_row("con_a")]);
}

/// GIVEN a proven connection, and a store whose next read fails
/// WHEN a real SES bounce arrives at its webhook URL
/// THEN it answers Retry (SNS delivers again) and nothing is stored
#[tokio::test]
async fn a_store_failure_reading_the_connection_is_retry() {
    let (store, ingestor) = given(&[&proven("con_a", SES_TOPIC)], soon_after(BOUNCE));
    store.fail_next_calls(1);

    let result = ingestor
        .handle(&fixture(BOUNCE), Target::Connection("con_a"))
        .await;

    assert_refused(result, "store", Disposition::Retry);
    assert_eq!(store.events(), []);
}

/// GIVEN a victim's proven connection, and an attacker who owns another topic
/// WHEN the attacker sends their topic's real, validly signed messages (an SES bounce and a
/// subscription confirmation) to the victim's webhook URL, naming the victim's connection id
/// THEN each is refused as forbidden, and the victim's connection and events are unchanged
#[tokio::test]
async fn an_attackers_topic_at_the_victims_connection_id_changes_nothing_of_the_victim() {
    let victim = proven("con_victim", OTHER_TOPIC);
    let (store, ingestor) = given(&[&victim], soon_after(BOUNCE));

    for name in [BOUNCE, SUBSCRIPTION] {
        let result = ingestor
            .handle(&fixture(name), Target::Connection("con_victim"))
            .await;
        assert_refused(result, "unregistered_topic", Disposition::Forbidden);
    }

    assert_eq!(store.connection("con_victim"), Some(victim));
    assert_eq!(store.events(), []);
}

/// GIVEN a victim's proven connection routed for the direct path, and an attacker's connection
/// naming the victim's topic without having proven it
/// WHEN a captured real SES bounce of the victim's topic is sent to the attacker's webhook URL,
/// and the same message arrives on the direct path
/// THEN the attacker's copy is refused and stores nothing; the direct delivery goes to the victim
#[tokio::test]
async fn an_attackers_connection_naming_the_victims_topic_receives_nothing() {
    let victim = proven("con_victim", SES_TOPIC);
    let mut attacker = proven("con_attacker", SES_TOPIC);
    attacker.status = ConnectionStatus::Pending;
    attacker.topic_proven_at = None;
    let (store, ingestor) = given(&[&victim, &attacker], soon_after(BOUNCE));
    store.route_topic(&victim).await.unwrap();

    let at_attacker = ingestor
        .handle(&fixture(BOUNCE), Target::Connection("con_attacker"))
        .await;
    let direct = ingestor.handle(&fixture(BOUNCE), Target::Topic).await;

    assert_refused(at_attacker, "unproven_topic", Disposition::Forbidden);
    assert_eq!(direct.unwrap(), Outcome::Stored { events: 1 });
    assert_eq!(store.events(), [bounce_row("con_victim")]);
    assert_eq!(store.connection("con_victim"), Some(victim));
}

/// GIVEN a proven connection whose topic is not routed (a subscription confirmation proves a
/// connection but routes nothing)
/// WHEN a real SES bounce arrives on the direct path; then, once the topic is routed to it,
/// again; then the same message at its webhook URL
/// THEN the first is refused, the second stored for it, and the webhook copy is a duplicate
#[tokio::test]
async fn a_direct_delivery_is_stored_only_once_its_topic_is_routed() {
    let connection = proven("con_a", SES_TOPIC);
    let (store, ingestor) = given(&[&connection], soon_after(BOUNCE));

    let unrouted = ingestor.handle(&fixture(BOUNCE), Target::Topic).await;
    assert_refused(unrouted, "unregistered_topic", Disposition::Forbidden);

    store.route_topic(&connection).await.unwrap();
    let routed = ingestor.handle(&fixture(BOUNCE), Target::Topic).await;
    let webhook = ingestor
        .handle(&fixture(BOUNCE), Target::Connection("con_a"))
        .await;

    assert_eq!(routed.unwrap(), Outcome::Stored { events: 1 });
    assert_eq!(webhook.unwrap(), Outcome::Duplicate);
    assert_eq!(store.events(), [bounce_row("con_a")]);
}

/// GIVEN a proven connection SNS said was unsubscribed before the bounce was signed
/// WHEN the real SES bounce arrives at its webhook URL
/// THEN it is stored and the connection is active again
#[tokio::test]
async fn a_notification_signed_after_the_removal_revives_the_connection() {
    let mut connection = proven("con_a", SES_TOPIC);
    connection.status = ConnectionStatus::Unsubscribed;
    connection.updated_at = signed_at(BOUNCE) - Duration::hours(1);
    let (store, ingestor) = given(&[&connection], soon_after(BOUNCE));

    let result = ingestor
        .handle(&fixture(BOUNCE), Target::Connection("con_a"))
        .await;

    assert_eq!(result.unwrap(), Outcome::Stored { events: 1 });
    let revived = store.connection("con_a").unwrap();
    assert_eq!(revived.status, ConnectionStatus::Active);
    assert_eq!(revived.updated_at, soon_after(BOUNCE));
}

/// GIVEN a proven connection SNS said was unsubscribed after the bounce was signed
/// WHEN the real SES bounce arrives late at its webhook URL (a retry from before the removal)
/// THEN it is stored, but the connection stays unsubscribed
#[tokio::test]
async fn a_late_notification_signed_before_the_removal_revives_nothing() {
    let mut connection = proven("con_a", SES_TOPIC);
    connection.status = ConnectionStatus::Unsubscribed;
    connection.updated_at = signed_at(BOUNCE) + Duration::seconds(30);
    let (store, ingestor) = given(&[&connection], soon_after(BOUNCE));

    let result = ingestor
        .handle(&fixture(BOUNCE), Target::Connection("con_a"))
        .await;

    assert_eq!(result.unwrap(), Outcome::Stored { events: 1 });
    assert_eq!(store.connection("con_a"), Some(connection));
}

/// GIVEN a proven connection on a topic that publishes more than SES events
/// WHEN a real, validly signed notification that is not an SES event arrives
/// THEN it is refused as malformed and nothing is stored
#[tokio::test]
async fn a_signed_notification_that_is_not_an_ses_event_is_malformed() {
    let (store, ingestor) = given(&[&proven("con_a", OTHER_TOPIC)], soon_after(HELLO));

    let result = ingestor
        .handle(&fixture(HELLO), Target::Connection("con_a"))
        .await;

    assert_refused(result, "not_ses", Disposition::Malformed);
    assert_eq!(store.events(), []);
}
