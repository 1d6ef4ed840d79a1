use serde_json::{Value, json};

use super::*;
use crate::attrs::item_size;
use crate::keys;
use chrono::Utc;
use ingest::ses::{self, limits};
use model::SesNotification;

/// DynamoDB's limit on an item, and what one write unit covers.
const MAX_ITEM_BYTES: usize = 400 * 1024;
const WRITE_UNIT_BYTES: usize = 1024;

fn store() -> Store {
    Store::offline("trackses")
}

/// A string that takes `json` bytes as JSON.
fn filler(json: usize) -> String {
    "x".repeat(json - 2)
}

/// The largest bounce `ses::parse` accepts: every count and length at its limit, recipients
/// made of a character JSON doubles.
fn worst_bounce(bounce_type: &str) -> SesNotification {
    let domain = "@example.com";
    let recipients: Vec<String> = (0..limits::MAX_RECIPIENTS)
        .map(|i| {
            let local = "\\".repeat(limits::MAX_ADDRESS_LEN - 2 - domain.len());
            format!("{i:02}{local}{domain}")
        })
        .collect();
    let tags: serde_json::Map<String, Value> = (0..limits::MAX_TAGS)
        .map(|i| {
            let name = format!("{i:0>width$}", width = limits::MAX_TAG_LEN);
            (name, json!(["v".repeat(limits::MAX_TAG_LEN)]))
        })
        .collect();
    let detail = || filler(limits::MAX_DETAIL_JSON);
    let bounced: Vec<Value> = recipients
        .iter()
        .map(|r| {
            json!({"emailAddress": r, "action": detail(), "status": detail(),
                   "diagnosticCode": detail()})
        })
        .collect();
    let document = json!({
        "eventType": "Bounce",
        "mail": {
            "timestamp": "2024-05-14T10:01:16.904Z",
            "messageId": "m".repeat(200),
            "source": filler(limits::MAX_HEADER_JSON),
            "destination": recipients,
            "commonHeaders": {"subject": filler(limits::MAX_HEADER_JSON)},
            "tags": tags,
        },
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": detail(),
            "bouncedRecipients": bounced,
            "timestamp": "2024-05-14T10:01:18.231Z",
            "feedbackId": detail(),
            "reportingMTA": detail(),
            "remoteMtaIp": detail(),
        },
    });
    ses::parse(&document.to_string()).expect("the worst case is within the parser's limits")
}

fn write<'n>(notification: &'n SesNotification, delivery_id: &'n str) -> IngestWrite<'n> {
    IngestWrite {
        project_id: "prj_01j0000000000000000000000",
        connection_id: "con_01j0000000000000000000000",
        delivery_id,
        notification,
        received_at: Utc::now(),
        expires_at: (Utc::now() + chrono::Duration::days(90)).timestamp(),
    }
}

#[test]
fn the_largest_notification_fits_dynamodb_items() {
    let store = store();
    for bounce_type in ["Permanent".to_owned(), filler(limits::MAX_DETAIL_JSON)] {
        let notification = worst_bounce(&bounce_type);
        assert_eq!(notification.recipients.len(), limits::MAX_RECIPIENTS);
        let items = store
            .ingest_items(&write(
                &notification,
                "7f1c2a5e-0b8d-5d3e-9f4a-6c1b2d3e4f50",
            ))
            .unwrap();
        assert_eq!(
            items.len(),
            limits::MAX_RECIPIENTS,
            "one item per recipient"
        );
        let sizes: Vec<usize> = items.iter().map(item_size).collect();
        assert!(sizes.iter().all(|&size| size < MAX_ITEM_BYTES), "{sizes:?}");
    }
}

/// The signed SES events the ingest benchmark uses: every type, SES's own tags, real headers.
fn corpus() -> Vec<(String, SesNotification)> {
    include_str!("../benches/corpus/notifications.jsonl")
        .lines()
        .map(|line| {
            let envelope: Value = serde_json::from_str(line).unwrap();
            let notification = ses::parse(envelope["Message"].as_str().unwrap()).unwrap();
            (
                envelope["MessageId"].as_str().unwrap().to_owned(),
                notification,
            )
        })
        .collect()
}

/// GIVEN every event type as SES publishes it, WHEN each is turned into items, THEN each item
/// is one write unit, and reads back as the event it stores.
#[test]
fn typical_events_are_one_write_unit_and_read_back_whole() {
    let store = store();
    for (delivery_id, notification) in corpus() {
        let write = write(&notification, &delivery_id);
        let items = store.ingest_items(&write).unwrap();
        let events: Vec<_> = write.events(&notification.recipients).collect();
        for (item, written) in items.iter().zip(&events) {
            let bytes = item_size(item);
            assert!(
                bytes <= WRITE_UNIT_BYTES,
                "{:?} item of {bytes} bytes",
                notification.event_type
            );
            let read = crate::event_item::event(item).unwrap();
            // Ids are minted per call of `events`; everything else is what was written, with
            // times at the millisecond they are stored to.
            let ms = |t: chrono::DateTime<Utc>| t.timestamp_millis();
            assert_eq!(read.event_type, written.event_type);
            assert_eq!(read.recipient, written.recipient);
            assert_eq!(read.ses_message_id, written.ses_message_id);
            assert_eq!(read.source, written.source);
            assert_eq!(read.subject, written.subject);
            assert_eq!(read.tags, written.tags);
            assert_eq!(read.details, written.details);
            assert_eq!(ms(read.occurred_at), ms(written.occurred_at));
            assert_eq!(ms(read.received_at), ms(written.received_at));
        }
    }
}

/// GIVEN the same notification delivered twice (a new event id each time), THEN its items take
/// the same keys, so the second put finds them taken; another delivery takes other keys.
#[test]
fn a_copy_lands_on_the_same_keys() {
    let store = store();
    let (delivery_id, notification) = corpus().swap_remove(0);
    let keys_of = |id: &str| -> Vec<String> {
        store
            .ingest_items(&write(&notification, id))
            .unwrap()
            .iter()
            .map(|i| format!("{:?}/{:?}", i[keys::PK], i[keys::SK]))
            .collect()
    };
    let first = keys_of(&delivery_id);
    assert_eq!(first.len(), notification.recipients.len());
    assert_eq!(first, keys_of(&delivery_id));
    assert!(
        keys_of("another-sns-message")
            .iter()
            .all(|k| !first.contains(k))
    );
}
