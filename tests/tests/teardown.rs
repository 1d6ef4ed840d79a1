//! Large accounts through the API, against the emulated AWS: identities are listed a page at a
//! time, and a teardown that runs out of time hands the rest to a fresh invocation of the wiring
//! function until every page is done.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::stream::{self, StreamExt};
use local::customer::CustomerAccount;
use model::connection::Transition;
use reqwest::Method;
use serde_json::json;

/// A customer account with a scoped key, connected in automatic mode and wired; returns the
/// account, the connection's path and its configuration set.
async fn wired(h: &Harness, pid: &str, key: &str) -> (CustomerAccount, String, String) {
    let customer = h.customer(&fresh_account("4100")).await;
    let (key_id, secret) = customer
        .scoped_access_key("trackses", local::customer::TRACKSES_POLICY)
        .await
        .unwrap();
    let (status, created) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/connections"),
            key,
            Some(json!({"mode": "automatic", "region": REGION,
                        "access_key_id": key_id, "secret_access_key": secret})),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let cid = created["id"].as_str().unwrap();
    h.wait_status(pid, key, cid, "active").await;
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    let set = created["configuration_set"].as_str().unwrap().to_owned();
    (customer, path, set)
}

/// `count` identities `u0000@domain`…, created with their default set `set_of(i)`, many at a
/// time (as many as the emulator serves well).
async fn identities(
    customer: &CustomerAccount,
    domain: &str,
    count: usize,
    set_of: impl Fn(usize) -> Option<String>,
) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|i| format!("u{i:04}@{domain}")).collect();
    stream::iter(names.iter().enumerate())
        .for_each_concurrent(16, |(i, name)| {
            let set = set_of(i);
            async move {
                customer
                    .ses
                    .create_email_identity()
                    .email_identity(name)
                    .set_configuration_set_name(set)
                    .send()
                    .await
                    .unwrap();
            }
        })
        .await;
    names
}

/// Each identity's default configuration set, as the customer sees it.
async fn sets(customer: &CustomerAccount, names: &[String]) -> Vec<Option<String>> {
    stream::iter(names)
        .map(|name| async move {
            customer
                .ses
                .get_email_identity()
                .email_identity(name)
                .send()
                .await
                .unwrap()
                .configuration_set_name
        })
        .buffered(16)
        .collect()
        .await
}

async fn create_set(customer: &CustomerAccount, name: &str) {
    customer
        .ses
        .create_configuration_set()
        .configuration_set_name(name)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn identities_are_listed_a_page_at_a_time_and_a_bad_cursor_is_refused() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let (customer, path, set) = wired(&h, &pid, &key).await;
    create_set(&customer, "marketing").await;
    let domain = format!("{}.example", unique("paged"));
    let set_of = |i: usize| match i % 10 {
        0 => Some(set.clone()),
        1 => Some("marketing".to_owned()),
        _ => None,
    };
    let names = identities(&customer, &domain, 250, &set_of).await;

    let mut listed = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor
            .as_deref()
            .map(|c| format!("?cursor={}", url_encode(c)))
            .unwrap_or_default();
        let (status, page) = h
            .call(
                Method::GET,
                &format!("{path}/identities{query}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 100, "a page is one ListEmailIdentities page");
        let page_names: Vec<&str> = items
            .iter()
            .map(|i| i["identity"].as_str().unwrap())
            .collect();
        assert!(page_names.is_sorted(), "{page_names:?}");
        for item in items {
            let i: usize = item["identity"].as_str().unwrap()[1..5].parse().unwrap();
            let expected = set_of(i);
            assert_eq!(item["configuration_set"].as_str(), expected.as_deref());
            assert_eq!(item["attached"], expected == Some(set.clone()), "{item}");
        }
        listed.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut seen: Vec<String> = listed
        .iter()
        .map(|i| i["identity"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    assert_eq!(seen, names, "every identity exactly once");

    // Malformed, oversized, unknown to SES, or beside an unknown parameter: 400, as a problem.
    let long = "A".repeat(2049);
    for query in [
        "cursor=",
        "cursor=two%20words",
        &format!("cursor={long}"),
        "cursor=bm90LWEtdG9rZW4",
        "page=2",
    ] {
        let (status, problem) = h
            .call(
                Method::GET,
                &format!("{path}/identities?{query}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert!(problem["detail"].is_string(), "{problem}");
    }
}

/// Enough for the query string: SES's tokens are base64 (`+`, `/`, `=`).
fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn an_account_with_2000_identities_is_torn_down_across_invocations() {
    const IDENTITIES: usize = 2000;
    const ATTACHED: usize = 1500;
    const FOREIGN: usize = 5;
    let logs = LogCapture::global();
    // No time at all: every invocation detaches one page of identities, then hands on the rest.
    let h =
        Harness::start_tuned(|_| {}, |wiring| wiring.with_teardown_budget(Duration::ZERO)).await;
    let (pid, key) = h.project().await;
    let (customer, path, set) = wired(&h, &pid, &key).await;
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    let topic = connection["topic_arn"].as_str().unwrap().to_owned();
    let cid = connection["id"].as_str().unwrap().to_owned();
    create_set(&customer, "marketing").await;
    let domain = format!("{}.example", unique("large"));
    let started = Instant::now();
    // Attached ones spread over every page; the foreign ones among them.
    let foreign = |i: usize| i % (IDENTITIES / FOREIGN) == 7;
    let attached = |i: usize| i % 4 != 3 && !foreign(i);
    let names = identities(&customer, &domain, IDENTITIES, |i| {
        if foreign(i) {
            Some("marketing".to_owned())
        } else {
            attached(i).then(|| set.clone())
        }
    })
    .await;
    let before = sets(&customer, &names).await;
    let count = |name: &str| before.iter().filter(|s| s.as_deref() == Some(name)).count();
    assert_eq!((count(&set), count("marketing")), (ATTACHED, FOREIGN));
    eprintln!("{IDENTITIES} identities created in {:?}", started.elapsed());

    let started = Instant::now();
    let (status, deleting) = h.call(Method::DELETE, &path, &key, None).await;
    assert_eq!(status, 202, "{deleting}");
    loop {
        let (status, connection) = h.call(Method::GET, &path, &key, None).await;
        if status == 404 {
            break;
        }
        assert_eq!(connection["status"], "deleting", "{connection}");
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the teardown did not finish: {connection}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let took = started.elapsed();
    let handed_on = logs
        .text()
        .lines()
        .filter(|l| l.contains("teardown continues in a fresh invocation") && l.contains(&cid))
        .count();
    eprintln!("teardown of {IDENTITIES} identities: {took:?}, {handed_on} hand-offs");
    // A page is 100 identities: 20 pages, each in an invocation of its own.
    assert_eq!(handed_on, IDENTITIES / 100 - 1);

    let after = sets(&customer, &names).await;
    for (i, (name, set_now)) in names.iter().zip(&after).enumerate() {
        let expected = foreign(i).then(|| "marketing".to_owned());
        assert_eq!(set_now, &expected, "{name}");
    }
    let set_gone = customer
        .ses
        .get_configuration_set()
        .configuration_set_name(&set)
        .send()
        .await
        .unwrap_err();
    assert!(
        set_gone
            .as_service_error()
            .is_some_and(|e| e.is_not_found_exception()),
        "{set_gone:?}"
    );
    let topics = customer.sns.list_topics().send().await.unwrap();
    assert!(
        !topics
            .topics()
            .iter()
            .any(|t| t.topic_arn() == Some(topic.as_str())),
        "the topic is deleted"
    );
}

#[tokio::test]
async fn a_teardown_resumed_from_a_token_ses_refuses_starts_over() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let (customer, path, set) = wired(&h, &pid, &key).await;
    let domain = format!("{}.example", unique("stale"));
    let names = identities(&customer, &domain, 150, |_| Some(set.clone())).await;
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    let cid = connection["id"].as_str().unwrap();
    h.store
        .transition(
            cid,
            Transition::TeardownStarted,
            Some(None),
            chrono::Utc::now(),
        )
        .await
        .unwrap();

    // As a hand-off whose token SES no longer honours would arrive.
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/2015-03-31/functions/wiring/invocations",
            h.api.base
        ))
        .json(&json!({"action": "teardown", "connection_id": cid,
                      "resume_from": "bm90LWEtdG9rZW4"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply, json!({"result": "done"}));
    assert_eq!(h.status(Method::GET, &path, &key).await, 404);
    assert!(sets(&customer, &names).await.iter().all(Option::is_none));
}
