//! Verify + parse + build-the-write, per SNS notification, on a corpus of signed SES events
//! (3-5 KB, SignatureVersion 1 and 2 alternating; regenerate with `make_corpus.py`).
//! Certificates are cached, as in a warm Lambda container.

use std::path::PathBuf;

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::FutureExt;
use ingest::IngestWrite;
use ingest::ses;
use ingest::sns::freshness::signed_within_window;
use ingest::sns::{CertStore, Envelope, verify};
use store::Store;

// The same allocator as the function binaries.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn corpus() -> Vec<Vec<u8>> {
    include_str!("corpus/notifications.jsonl")
        .lines()
        .map(|line| line.as_bytes().to_vec())
        .collect()
}

/// The whole per-message hot path of the webhook, short of the DynamoDB round trip.
fn ingest_one(body: &[u8], certs: &CertStore, store: &Store) -> usize {
    let envelope = Envelope::from_json(body).expect("corpus envelope");
    verify(&envelope, certs)
        .now_or_never()
        .expect("a cached certificate never waits")
        .expect("corpus signature");
    // The replay window, as the pipeline checks it (the corpus was signed long ago: measured
    // against its own signing time).
    let signed_at = envelope.signed_at().expect("corpus timestamp");
    signed_within_window(&envelope, signed_at).expect("fresh at its own time");
    let notification = ses::parse(&envelope.message).expect("corpus SES event");
    let write = IngestWrite {
        project_id: "prj_bench",
        connection_id: "con_bench",
        delivery_id: &envelope.message_id,
        notification: &notification,
        received_at: Utc::now(),
        expires_at: 0,
    };
    store.ingest_items(&write).expect("items").len()
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    let certs = CertStore::new(Some(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/corpus"
    ))));
    let store = Store::offline("bench");
    // Warm the certificate cache: the first message of a container pays the fetch, no other.
    let warm = Envelope::from_json(&corpus[0]).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(verify(&warm, &certs))
        .unwrap();

    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(corpus.len() as u64));
    group.bench_function("verify+parse+write", |b| {
        b.iter(|| {
            corpus
                .iter()
                .map(|body| ingest_one(body, &certs, &store))
                .sum::<usize>()
        })
    });
    group.bench_function("verify", |b| {
        let envelopes: Vec<Envelope> = corpus
            .iter()
            .map(|b| Envelope::from_json(b).unwrap())
            .collect();
        b.iter(|| {
            envelopes
                .iter()
                .filter(|e| verify(e, &certs).now_or_never().unwrap().is_ok())
                .count()
        })
    });
    group.bench_function("parse", |b| {
        let messages: Vec<String> = corpus
            .iter()
            .map(|b| Envelope::from_json(b).unwrap().message)
            .collect();
        b.iter(|| messages.iter().filter(|m| ses::parse(m).is_ok()).count())
    });
    group.bench_function("build-write", |b| {
        let parsed: Vec<_> = corpus
            .iter()
            .map(|b| {
                let envelope = Envelope::from_json(b).unwrap();
                (ses::parse(&envelope.message).unwrap(), envelope.message_id)
            })
            .collect();
        b.iter(|| {
            parsed
                .iter()
                .map(|(notification, message_id)| {
                    let write = IngestWrite {
                        project_id: "prj_bench",
                        connection_id: "con_bench",
                        delivery_id: message_id,
                        notification,
                        received_at: Utc::now(),
                        expires_at: 0,
                    };
                    store.ingest_items(&write).unwrap().len()
                })
                .sum::<usize>()
        })
    });
    group.bench_function("envelope", |b| {
        b.iter(|| {
            corpus
                .iter()
                .filter(|b| Envelope::from_json(b).is_ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
