//! Large accounts through the API, against the emulated AWS: identities are listed a page at a
//! time.

mod common;

use common::*;
use futures_util::stream::{self, StreamExt};
use local::customer::CustomerAccount;
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
