//! One tenant at 10,000 events a second keeps every partition key the writes touch under the
//! 1,000 write units a second DynamoDB allows one. A simulation over the real key layout: the
//! event items are the ones `Store::ingest_items` builds from real SES events, sized by
//! DynamoDB's billing rules, and the counter writes are the stream consumer's, one per counter
//! item per shard per window.

use std::collections::HashMap;

use chrono::Utc;
use ingest::{IngestWrite, ses};
use model::SesNotification;
use store::attrs::{Item, n, s, write_units};
use store::counters::Tally;
use store::{Store, event_item, keys};

const EVENTS_PER_SECOND: usize = 10_000;
const PARTITION_KEY_LIMIT: usize = 1_000;
/// The table needs ten partitions for 10,000 one-unit writes a second; its stream has about one
/// shard per partition. Twice that, for the consumer's sake: more shards, more counter writes.
const STREAM_SHARDS: usize = 20;
/// DynamoDB rolls a stream's shards over about every four hours.
const ROLLOVERS_A_DAY: usize = 6;
/// The shortest tumbling window a deployment may set (`CounterWindowSeconds`' minimum).
const WINDOW_SECONDS: usize = 1;

fn corpus() -> Vec<SesNotification> {
    include_str!("../benches/corpus/notifications.jsonl")
        .lines()
        .map(|line| {
            let envelope: serde_json::Value = serde_json::from_str(line).unwrap();
            ses::parse(envelope["Message"].as_str().unwrap()).unwrap()
        })
        .collect()
}

fn store() -> Store {
    Store::offline("trackses")
}

/// Per partition key, the write units one second of traffic spends on it.
#[derive(Default)]
struct Load(HashMap<String, usize>);

impl Load {
    fn add(&mut self, key: &str, units: usize) {
        *self.0.entry(key.to_owned()).or_default() += units;
    }

    fn hottest(&self) -> (&str, usize) {
        self.0
            .iter()
            .max_by_key(|(_, units)| **units)
            .map(|(key, units)| (key.as_str(), *units))
            .unwrap_or_default()
    }
}

#[test]
fn ten_thousand_events_a_second_keep_every_partition_key_under_its_limit() {
    let store = store();
    let corpus = corpus();
    let project_id = "prj_01jbusy00000000000000000000";
    let connections = [
        "con_01jeu0000000000000000000",
        "con_01jus0000000000000000000",
    ];
    let (mut table, mut index) = (Load::default(), Load::default());
    let mut tallies: Vec<Tally> = (0..STREAM_SHARDS).map(|_| Tally::default()).collect();
    for i in 0..EVENTS_PER_SECOND {
        let mut notification = corpus[i % corpus.len()].clone();
        notification.mail.ses_message_id =
            format!("0102019{i:09x}-5e4f3a2b-1c0d-4e9f-8a7b-6c5d4e3f2a1b-000000");
        notification.recipients.truncate(1);
        let delivery_id = format!("7f1c2a5e-0b8d-5d3e-9f4a-{i:012x}");
        let write = IngestWrite {
            project_id,
            connection_id: connections[i % connections.len()],
            delivery_id: &delivery_id,
            notification: &notification,
            received_at: Utc::now(),
            expires_at: (Utc::now() + chrono::Duration::days(90)).timestamp(),
        };
        for item in store.ingest_items(&write).unwrap() {
            let units = write_units(&item);
            let pk = item[keys::PK].as_s().unwrap();
            table.add(pk, units);
            // gsi1 projects every attribute: the index write is the item's size again.
            index.add(item[keys::GSI1_PK].as_s().unwrap(), units);
            // The stream shard of an item follows its partition key.
            let shard = keys::shard_of(pk, STREAM_SHARDS as u32) as usize;
            let event = event_item::event(&item).unwrap();
            tallies[shard].count(project_id, &event);
        }
    }
    // Each shard's consumer writes each counter item it counted once per window, an item that
    // holds every type's count and a window mark per shard that wrote it: a day's item, one
    // for each of the shards of the day's six rollovers.
    let mut counters = Load::default();
    let marks = |shards: usize| (0..shards).map(|i| (format!("w{i:016x}"), s("0".repeat(40))));
    for tally in &tallies {
        for (key, counts) in tally.iter() {
            let mut item: Item = counts.iter().map(|(c, v)| (c.clone(), n(v))).collect();
            item.extend(marks(match key.granularity {
                keys::Granularity::Day => ROLLOVERS_A_DAY * STREAM_SHARDS,
                // Alert rules' minute items span a minute: one shard rollover at most.
                keys::Granularity::Hour | keys::Granularity::Minute => 2 * STREAM_SHARDS,
            }));
            let pk = keys::counters(&key.project_id, key.scope(), key.granularity);
            counters.add(&pk, write_units(&item) / WINDOW_SECONDS);
        }
    }
    for (what, load) in [("table", &table), ("gsi1", &index), ("counters", &counters)] {
        let (key, units) = load.hottest();
        println!("{what}: hottest partition key {key} takes {units} WCU/s");
        assert!(
            units < PARTITION_KEY_LIMIT,
            "{what}: {key} needs {units} WCU/s"
        );
    }
    let (_, index_units) = index.hottest();
    assert!(
        index_units * keys::EVENT_SHARDS as usize > EVENTS_PER_SECOND,
        "every event is written to the index"
    );
}
