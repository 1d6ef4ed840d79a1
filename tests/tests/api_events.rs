//! The REST API's events: filters, pages and the live tail, and a selective filter that reads
//! bounded pages and continues by cursor.

mod common;

use chrono::{Duration, Utc};
use common::ses::seed;
use common::*;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn events_filter_page_and_tail() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let mut first = Mail::new(vec!["ana@example.com".into()], "One", "alpha");
    first.sent_at = Utc::now() - Duration::days(2);
    let second = Mail::new(
        vec!["bob@example.com".into(), "carla@example.com".into()],
        "Two",
        "beta",
    );
    seed(
        &h,
        &pid,
        &key,
        &[
            (
                first.clone(),
                vec![EventType::Send, EventType::Delivery, EventType::Open],
            ),
            (second.clone(), vec![EventType::Send, EventType::Bounce]),
        ],
    )
    .await;

    let ids = |events: &[Value]| {
        events
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let all = h.events(&pid, &key, "").await;
    assert_eq!(all.len(), 7);
    let mut sorted = ids(&all);
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids(&all), sorted, "newest first");

    assert_eq!(h.events(&pid, &key, "type=bounce").await.len(), 2);
    assert_eq!(
        h.events(&pid, &key, "recipient=ANA@example.com")
            .await
            .len(),
        3
    );
    assert_eq!(h.events(&pid, &key, "tag=campaign:beta").await.len(), 4);
    assert_eq!(
        h.events(
            &pid,
            &key,
            &format!("message_id={}&type=open", first.message_id)
        )
        .await
        .len(),
        1
    );
    let day_ago =
        (Utc::now() - Duration::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        h.events(&pid, &key, &format!("to={day_ago}")).await.len(),
        3,
        "first mail's events are two days old"
    );
    assert_eq!(
        h.events(&pid, &key, &format!("from={day_ago}")).await.len(),
        4
    );
    let bounce = &h
        .events(&pid, &key, "type=bounce&recipient=carla@example.com")
        .await[0];
    assert_eq!(bounce["details"]["bounce_type"], "Permanent");

    // Pages of 3 walk the whole stream exactly once.
    let walked: Vec<String> = event_pages(&h, &pid, &key, "limit=3")
        .await
        .iter()
        .flat_map(|page| ids(page["items"].as_array().unwrap()))
        .collect();
    assert_eq!(walked, ids(&all));

    // Live tail: nothing after the newest; a new event shows up after it, oldest first.
    let newest = ids(&all)[0].clone();
    let (_, tail) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/events?after={newest}"),
            &key,
            None,
        )
        .await;
    assert_eq!(
        (
            tail["items"].as_array().unwrap().len(),
            tail["next_cursor"].as_str()
        ),
        (0, Some(newest.as_str()))
    );
    let after_oldest = ids(&all).last().unwrap().clone();
    let (_, tail) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/events?after={after_oldest}&limit=200"),
            &key,
            None,
        )
        .await;
    let mut ascending = ids(&all);
    ascending.reverse();
    assert_eq!(ids(tail["items"].as_array().unwrap()), ascending[1..]);
}

/// Every page of `GET …/events?<query>`, following `next_cursor` until it is null.
async fn event_pages(h: &Harness, pid: &str, key: &str, query: &str) -> Vec<Value> {
    let mut pages: Vec<Value> = Vec::new();
    loop {
        let cursor = pages.last().map(|page| &page["next_cursor"]);
        let path = match cursor.and_then(Value::as_str) {
            Some(c) => format!("/v1/projects/{pid}/events?{query}&cursor={c}"),
            None if cursor.is_some() => return pages,
            None => format!("/v1/projects/{pid}/events?{query}"),
        };
        let (status, page) = h.call(Method::GET, &path, key, None).await;
        assert_eq!(status, 200, "{page}");
        pages.push(page);
        assert!(pages.len() < 100, "the cursors make progress");
    }
}

/// Stores `mail`'s event for every recipient the way ingestion does, without SNS in between:
/// for tests about reading many events back.
async fn store_directly(h: &Harness, pid: &str, mail: &Mail) {
    let document = event_json(EventType::Send, mail, &mail.recipients, Utc::now());
    let notification = ingest::ses::parse(&document).unwrap();
    let received_at = Utc::now();
    let write = ingest::IngestWrite {
        project_id: pid,
        connection_id: "con_direct",
        delivery_id: &model::ids::random_hex(16),
        notification: &notification,
        received_at,
        expires_at: (received_at + Duration::days(1)).timestamp(),
    };
    h.store.write_ingest(&write).await.unwrap();
}

/// GIVEN a project with 100 events and one rare recipient older than all of them, WHEN a client
/// asks for that recipient a page at a time, THEN no request reads more than a bounded number of
/// pages: the first answers with nothing and a cursor, and following the cursors finds the event
/// exactly once and then ends.
#[tokio::test]
async fn a_selective_filter_reads_bounded_pages_and_continues_by_cursor() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let rare = Mail::new(vec!["rare@example.com".into()], "Rare", "r");
    store_directly(&h, &pid, &rare).await;
    for batch in 0..4 {
        let crowd = (0..25)
            .map(|i| format!("c{batch}-{i}@example.com"))
            .collect();
        store_directly(&h, &pid, &Mail::new(crowd, "Common", "c")).await;
    }

    let pages = event_pages(&h, &pid, &key, "recipient=rare@example.com&limit=1").await;
    // Each of the 4 partitions holds about 25 newer events; a page reads at most 3 queries of 2
    // of them in each.
    assert_eq!(pages[0]["items"], json!([]), "{}", pages[0]);
    assert!(pages[0]["next_cursor"].is_string(), "{}", pages[0]);
    let found: Vec<&Value> = pages
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["recipient"], "rare@example.com");
    assert_eq!(found[0]["ses_message_id"], rare.message_id.as_str());
}

/// GIVEN a message with more events than a page, WHEN its events are listed by `message_id`
/// page after page, THEN every event comes once, newest first, and the last page ends it.
#[tokio::test]
async fn one_message_pages_by_cursor() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let mail = Mail::new(
        vec![
            "a@example.com".into(),
            "b@example.com".into(),
            "c@example.com".into(),
        ],
        "Paged",
        "p",
    );
    seed(
        &h,
        &pid,
        &key,
        &[(mail.clone(), vec![EventType::Send, EventType::Delivery])],
    )
    .await;
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..4 {
        let mut query = format!("message_id={}&limit=4", mail.message_id);
        if let Some(c) = &cursor {
            query.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = h
            .call(
                Method::GET,
                &format!("/v1/projects/{pid}/events?{query}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        seen.extend(items.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    let distinct: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), 6, "no event twice, none left out: {seen:?}");
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first);
}
