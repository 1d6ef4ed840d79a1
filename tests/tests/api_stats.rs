//! The REST API's stats and suppressions: totals, rates, series and one connection's view follow
//! the stored events, and a thirty-day view reads a bounded number of items.

mod common;

use chrono::{Duration, Utc};
use common::ses::seed;
use common::*;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use reqwest::Method;
use serde_json::json;
use store::keys::{CounterScope, Granularity};

#[tokio::test]
async fn stats_rates_and_suppressions_follow_the_stored_events() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let mut engaged = Mail::new(vec!["ana@example.com".into()], "A", "s");
    engaged.sent_at = Utc::now() - Duration::days(3);
    let bounced = Mail::new(vec!["bounce@simulator.amazonses.com".into()], "B", "s");
    let complained = Mail::new(vec!["complaint@simulator.amazonses.com".into()], "C", "s");
    use EventType::*;
    seed(
        &h,
        &pid,
        &key,
        &[
            (engaged.clone(), vec![Send, Delivery, Open, Click]),
            (bounced, vec![Send, Bounce]),
            (complained, vec![Send, Delivery, Complaint]),
        ],
    )
    .await;

    let stats_path = format!("/v1/projects/{pid}/stats");
    let expected = [
        ("send", 3),
        ("delivery", 2),
        ("bounce", 1),
        ("complaint", 1),
        ("open", 1),
        ("click", 1),
        ("reject", 0),
    ];
    // The events may be counted in more than one window: wait for all of them.
    let total: u64 = expected.iter().map(|(_, n)| n).sum();
    let stats = counted(&h, &stats_path, &key, |s| {
        let totals = s["totals"].as_object().unwrap();
        totals.values().filter_map(|n| n.as_u64()).sum::<u64>() == total
    })
    .await;
    for (event_type, want) in expected {
        assert_eq!(stats["totals"][event_type], want, "{event_type}");
    }
    let rate = |name: &str| stats["rates"][name].as_f64().unwrap();
    assert!((rate("bounce") - 1.0 / 3.0).abs() < 1e-9 && (rate("open") - 0.5).abs() < 1e-9);
    assert_eq!(
        stats["status"],
        json!({"bounce": "at_risk", "complaint": "at_risk"})
    );
    let day = engaged.sent_at.format("%Y-%m-%d").to_string();
    let point = stats["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["t"] == day.as_str())
        .unwrap();
    assert_eq!(
        (point["send"].as_u64(), point["click"].as_u64()),
        (Some(1), Some(1))
    );

    // The last 24 hours, hour by hour, leave out the mail of three days ago.
    counted(&h, &format!("{stats_path}?granularity=hour"), &key, |s| {
        s["totals"]["send"] == 2
    })
    .await;
    for query in [
        "granularity=week",
        "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
        "from=2020-01-01T00:00:00Z",
        "granularity=hour&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z",
        "connection_id=con_nope",
    ] {
        let (status, problem) = h
            .call(Method::GET, &format!("{stats_path}?{query}"), &key, None)
            .await;
        assert!(
            status == 400 || (status == 404 && query.starts_with("connection_id")),
            "{query}: {status} {problem}"
        );
    }

    // One connection's view.
    let customer = h.customer(CUSTOMER).await;
    let (topic, cid, _) = h
        .live_connection(&pid, &key, &customer, "trackses-second", "2")
        .await;
    let other = Mail::new(vec!["dan@example.com".into()], "D", "s");
    customer
        .publish_ses_event(
            &topic,
            &event_json(Send, &other, &other.recipients, Utc::now()),
        )
        .await
        .unwrap();
    eventually("the second connection's send", || async {
        let (_, s) = h
            .call(
                Method::GET,
                &format!("{stats_path}?connection_id={cid}"),
                &key,
                None,
            )
            .await;
        (s["totals"]["send"] == 1).then_some(())
    })
    .await;
    let (_, all) = h.call(Method::GET, &stats_path, &key, None).await;
    assert_eq!(all["totals"]["send"], 4);

    // Suppressions: the hard bounce and the complaint, page by page.
    let path = format!("/v1/projects/{pid}/suppressions");
    counted(&h, &path, &key, |s| {
        s["items"].as_array().unwrap().len() == 2
    })
    .await;
    let (_, first) = h
        .call(Method::GET, &format!("{path}?limit=1"), &key, None)
        .await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = h
        .call(
            Method::GET,
            &format!("{path}?limit=1&cursor={cursor}"),
            &key,
            None,
        )
        .await;
    let listed: Vec<(String, String)> = [&first, &second]
        .iter()
        .map(|page| {
            (
                page["items"][0]["recipient"].as_str().unwrap().to_owned(),
                page["items"][0]["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "bounce@simulator.amazonses.com".to_owned(),
                "bounce".to_owned()
            ),
            (
                "complaint@simulator.amazonses.com".to_owned(),
                "complaint".to_owned()
            )
        ]
    );
    let (_, rest) = h
        .call(
            Method::GET,
            &format!("{path}?cursor={}", listed[1].0),
            &key,
            None,
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn a_thirty_day_view_reads_one_counter_item_a_day() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let mails: Vec<_> = (0..30)
        .map(|day| {
            let mut mail = Mail::new(vec!["ana@example.com".into()], "Daily", "d");
            mail.sent_at = Utc::now() - Duration::days(day);
            (mail, vec![EventType::Send, EventType::Delivery])
        })
        .collect();
    seed(&h, &pid, &key, &mails).await;
    counted(&h, &format!("/v1/projects/{pid}/stats"), &key, |s| {
        s["totals"]["delivery"] == 30
    })
    .await;
    let to = Utc::now();
    let bucket = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let read = h
        .store
        .counters(
            &pid,
            CounterScope::Project,
            Granularity::Day,
            &bucket(to - Duration::days(30)),
            &bucket(to),
        )
        .await
        .unwrap();
    assert_eq!(read.buckets.len(), 30, "every day has counts");
    // One item per day of the range (31 buckets at most), well within the 100 the issue allows.
    assert!(read.items_read <= 31, "{} items read", read.items_read);
    let (_, stats) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/stats"),
            &key,
            None,
        )
        .await;
    assert_eq!(stats["totals"]["delivery"], 30);
}
