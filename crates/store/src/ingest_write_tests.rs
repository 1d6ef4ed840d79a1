use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use serde_json::{Value, json};

use super::*;
use chrono::Utc;
use ingest::ses::{self, limits};
use model::SesNotification;

/// DynamoDB's TransactWriteItems limits: 100 actions and 4 MB of items per call, 400 KB an item.
const MAX_ACTIONS: usize = 100;
const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
const MAX_ITEM_BYTES: usize = 400 * 1024;

fn store() -> Store {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .build();
    Store::new(aws_sdk_dynamodb::Client::from_conf(config), "trackses")
}

fn value_bytes(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) | AttributeValue::N(text) => text.len(),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        other => panic!("no size rule for {other:?}"),
    }
}

fn attributes_bytes(attributes: &HashMap<String, AttributeValue>) -> usize {
    attributes
        .iter()
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum()
}

/// DynamoDB sizes an item as the sum of its attribute names' and values' lengths. What an
/// update writes is bounded by its key, the names and values its expression uses, and the
/// expression itself (for names written literally); the items updates add to (counts,
/// counters) hold one small number per event type on top.
fn item_bytes(item: &TransactWriteItem) -> usize {
    if let Some(put) = item.put() {
        return attributes_bytes(put.item());
    }
    let update = item.update().expect("ingest writes only puts and updates");
    let names = update.expression_attribute_names().into_iter().flatten();
    attributes_bytes(update.key())
        + names.map(|(_, name)| name.len()).sum::<usize>()
        + update
            .expression_attribute_values()
            .map_or(0, attributes_bytes)
        + update.update_expression().len()
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

#[test]
fn the_largest_notification_fits_dynamodb_transactions() {
    let store = store();
    // Permanent: every recipient also gets a suppression item. Otherwise: one more detail at
    // its largest instead.
    for bounce_type in ["Permanent".to_owned(), filler(limits::MAX_DETAIL_JSON)] {
        let notification = worst_bounce(&bounce_type);
        assert_eq!(notification.recipients.len(), limits::MAX_RECIPIENTS);
        let suppressions = notification.is_permanent_bounce();
        let write = IngestWrite {
            project_id: "prj_01j0000000000000000000000",
            connection_id: "con_01j0000000000000000000000",
            sns_message_id: "7f1c2a5e-0b8d-5d3e-9f4a-6c1b2d3e4f50",
            notification: &notification,
            received_at: Utc::now(),
            expires_at: i64::MAX,
            marker_expires_at: i64::MAX,
        };
        let transactions = store.ingest_transactions(&write).unwrap();
        assert_eq!(transactions.len(), 2);
        for items in &transactions {
            let per_recipient = if suppressions { 3 } else { 2 };
            assert_eq!(items.len(), 6 + per_recipient * RECIPIENTS_PER_CHUNK);
            assert!(items.len() <= MAX_ACTIONS);
            let sizes: Vec<usize> = items.iter().map(item_bytes).collect();
            let total: usize = sizes.iter().sum();
            assert!(sizes.iter().all(|&size| size < MAX_ITEM_BYTES), "{sizes:?}");
            assert!(total < MAX_TRANSACTION_BYTES, "{total} bytes");
        }
    }
}
