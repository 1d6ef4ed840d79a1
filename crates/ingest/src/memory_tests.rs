//! The in-memory store keeps the DynamoDB adapter's conditions (`store::connections`,
//! `store::ingest_write`): the ones the pipeline's use cases cannot reach with real signed
//! messages are pinned here.

use chrono::{DateTime, Duration, Utc};
use model::connection::{TopicProof, Transition};
use model::{Access, Connection, ConnectionStatus, Delivery, SesNotification, Source};

use crate::memory::MemoryStore;
use crate::port::{ConnectionRecords, IngestStore, IngestWrite, WriteOutcome};

const TOPIC: &str = "arn:aws:sns:eu-west-1:111111111111:events";

fn t0() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn connection(cid: &str, status: ConnectionStatus) -> Connection {
    let source = Source {
        account_id: String::new(),
        region: String::new(),
        delivery: Delivery::Sns {
            topic_arn: TOPIC.into(),
        },
    };
    let mut c = Connection::new(cid.into(), "prj_a".into(), Access::Manual, status, source);
    c.created_at = t0();
    c.updated_at = t0();
    c
}

fn store_with(c: &Connection) -> MemoryStore {
    let store = MemoryStore::new();
    store.insert_connection(c.clone());
    store
}

#[tokio::test]
async fn a_transition_applies_only_from_its_states_and_reaching_active_clears_the_error() {
    let mut pending = connection("con_a", ConnectionStatus::Pending);
    pending.last_error = Some("earlier".into());
    let store = store_with(&pending);
    let later = t0() + Duration::hours(1);

    let from_pending = Transition::Unsubscribed;
    assert!(
        !store
            .transition("con_a", from_pending, None, later)
            .await
            .unwrap()
    );
    assert_eq!(store.connection("con_a"), Some(pending));

    assert!(
        store
            .transition("con_a", Transition::Proven, None, later)
            .await
            .unwrap()
    );
    let active = store.connection("con_a").unwrap();
    assert_eq!(
        (active.status, active.last_error),
        (ConnectionStatus::Active, None)
    );
    assert_eq!(active.updated_at, later);

    let failed = Transition::WiringFailed;
    assert!(
        store
            .transition("con_a", failed, Some(Some("role")), later)
            .await
            .unwrap()
    );
    let error = store.connection("con_a").unwrap();
    assert_eq!(error.last_error.as_deref(), Some("role"));
    assert!(
        !store
            .transition("con_a", Transition::Proven, None, later)
            .await
            .unwrap()
    );
    assert!(
        !store
            .transition("con_gone", Transition::Proven, None, later)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn an_unsubscription_ends_only_a_proof_older_than_the_removal() {
    let mut active = connection("con_a", ConnectionStatus::Active);
    active.topic_proven_at = Some(t0());
    let store = store_with(&active);
    let now = t0() + Duration::days(1);

    for removed_at in [t0() - Duration::seconds(1), t0()] {
        assert!(!store.unsubscribed("con_a", removed_at, now).await.unwrap());
    }
    assert_eq!(store.connection("con_a"), Some(active));
    let removed_at = t0() + Duration::seconds(1);
    assert!(store.unsubscribed("con_a", removed_at, now).await.unwrap());
    assert_eq!(
        store.connection("con_a").unwrap().status,
        ConnectionStatus::Unsubscribed
    );

    let never_proven = store_with(&connection("con_b", ConnectionStatus::Active));
    assert!(
        !never_proven
            .unsubscribed("con_b", removed_at, now)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_resubscription_needs_a_signature_newer_than_the_last_change() {
    let removed = connection("con_a", ConnectionStatus::Unsubscribed);
    let store = store_with(&removed);
    let now = t0() + Duration::days(1);

    assert!(!store.resubscribed("con_a", t0(), now).await.unwrap());
    let same_millisecond = t0() + Duration::microseconds(500);
    assert!(
        !store
            .resubscribed("con_a", same_millisecond, now)
            .await
            .unwrap()
    );
    assert!(
        store
            .resubscribed("con_a", t0() + Duration::seconds(1), now)
            .await
            .unwrap()
    );
    assert_eq!(
        store.connection("con_a").unwrap().status,
        ConnectionStatus::Active
    );

    let error = store_with(&connection("con_b", ConnectionStatus::Error));
    assert!(!error.resubscribed("con_b", now, now).await.unwrap());
}

#[tokio::test]
async fn a_topic_is_proven_only_while_the_connection_still_names_it() {
    let pending = connection("con_a", ConnectionStatus::Pending);
    let store = store_with(&pending);
    let mut renamed = pending.clone();
    renamed.delivery = Delivery::Sns {
        topic_arn: "arn:aws:sns:eu-west-1:111111111111:other".into(),
    };

    store.prove_topic(&renamed, t0()).await.unwrap();
    assert_eq!(store.connection("con_a"), Some(pending.clone()));
    store.prove_topic(&pending, t0()).await.unwrap();
    assert_eq!(
        store.connection("con_a").unwrap().topic_proven_at,
        Some(t0())
    );

    let gone = connection("con_gone", ConnectionStatus::Pending);
    store.prove_topic(&gone, t0()).await.unwrap();
    assert_eq!(store.connection("con_gone"), None);
}

#[tokio::test]
async fn a_topic_proof_names_its_connection_until_the_second_it_expires() {
    let store = store_with(&connection("con_a", ConnectionStatus::Pending));
    let (_, proof) = TopicProof::mint(t0());
    store.insert_topic_proof("con_a", &proof);
    let (_, orphan) = TopicProof::mint(t0());
    store.insert_topic_proof("con_gone", &orphan);
    let named = |at| store.topic_proof_connection(&proof.token_sha256, at);

    let last_moment = proof.expires_at + Duration::milliseconds(999);
    assert_eq!(named(t0()).await.unwrap().unwrap().id, "con_a");
    assert_eq!(named(last_moment).await.unwrap().unwrap().id, "con_a");
    assert_eq!(
        named(proof.expires_at + Duration::seconds(1))
            .await
            .unwrap(),
        None
    );
    let orphaned = store.topic_proof_connection(&orphan.token_sha256, t0());
    assert_eq!(orphaned.await.unwrap(), None);
}

#[tokio::test]
async fn only_route_topic_routes_a_topic_and_the_latest_route_wins() {
    let (a, b) = (
        connection("con_a", ConnectionStatus::Active),
        connection("con_b", ConnectionStatus::Active),
    );
    let store = store_with(&a);
    store.insert_connection(b.clone());
    assert_eq!(store.connection_for_topic(TOPIC).await.unwrap(), None);

    store.route_topic(&a).await.unwrap();
    assert_eq!(store.connection_for_topic(TOPIC).await.unwrap(), Some(a));
    store.route_topic(&b).await.unwrap();
    assert_eq!(store.connection_for_topic(TOPIC).await.unwrap(), Some(b));
}

fn two_recipients() -> SesNotification {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/ses/bounce-permanent.json"
    );
    crate::ses::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write<'a>(cid: &'a str, message_id: &'a str, n: &'a SesNotification) -> IngestWrite<'a> {
    IngestWrite {
        project_id: "prj_a",
        connection_id: cid,
        delivery_id: message_id,
        notification: n,
        received_at: t0(),
        expires_at: 0,
    }
}

#[tokio::test]
async fn a_message_is_stored_once_per_connection_one_event_per_recipient() {
    let store = MemoryStore::new();
    let n = two_recipients();

    let first = store.write_ingest(&write("con_a", "m1", &n)).await.unwrap();
    let copy = store.write_ingest(&write("con_a", "m1", &n)).await.unwrap();
    let other = store.write_ingest(&write("con_b", "m1", &n)).await.unwrap();

    assert_eq!(first, WriteOutcome::Stored { events: 2 });
    assert_eq!(copy, WriteOutcome::Duplicate);
    assert_eq!(other, WriteOutcome::Stored { events: 2 });
    let events = store.events();
    let recipients: Vec<&str> = events[..2].iter().map(|e| e.recipient.as_str()).collect();
    let expected: Vec<&str> = n.recipients.iter().map(|r| r.recipient.as_str()).collect();
    assert_eq!(recipients, expected);
    assert_eq!(events.len(), 4);
    assert!(
        events
            .iter()
            .all(|e| e.ses_message_id == n.mail.ses_message_id)
    );
}

#[tokio::test]
async fn an_injected_failure_changes_nothing_and_the_next_call_goes_through() {
    let pending = connection("con_a", ConnectionStatus::Pending);
    let store = store_with(&pending);
    let n = two_recipients();

    store.fail_next_writes(1);
    assert!(
        store.get_connection("con_a").await.is_ok(),
        "reads go through"
    );
    assert!(store.write_ingest(&write("con_a", "m1", &n)).await.is_err());
    assert_eq!(store.events(), []);
    let stored = store.write_ingest(&write("con_a", "m1", &n)).await;
    assert_eq!(stored.unwrap(), WriteOutcome::Stored { events: 2 });

    store.fail_next_calls(2);
    assert!(store.get_connection("con_a").await.is_err());
    assert!(
        store
            .transition("con_a", Transition::Proven, None, t0())
            .await
            .is_err()
    );
    assert_eq!(store.connection("con_a"), Some(pending));
    assert!(store.get_connection("con_a").await.unwrap().is_some());
}
