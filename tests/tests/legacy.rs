//! Data an earlier trackses wrote, as it wrote it, keeps working after the trust changes: the
//! new rules must not silence an existing customer or lock a project's keys.

mod common;

use chrono::Utc;
use common::*;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use reqwest::Method;
use serde_json::json;
use store::attrs::s;
use store::keys;

/// Removes `attributes` from an item, as the earlier release never wrote them.
async fn strip(h: &Harness, pk: String, sk: &str, attributes: &[&str]) {
    let names: Vec<String> = (0..attributes.len()).map(|i| format!("#a{i}")).collect();
    let mut update = h
        .store_client()
        .update_item()
        .table_name(h.store.table())
        .key(keys::PK, s(pk))
        .key(keys::SK, s(sk))
        .update_expression(format!("REMOVE {}", names.join(", ")));
    for (name, attribute) in names.iter().zip(attributes) {
        update = update.expression_attribute_names(name, *attribute);
    }
    update.send().await.unwrap();
}

/// GIVEN a connection confirmed under the earlier rule (no proof recorded), WHEN its topic
/// delivers, THEN the events are stored: SNS never confirms an existing subscription again.
#[tokio::test]
async fn a_connection_confirmed_before_proofs_existed_keeps_receiving() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let (topic, cid, _) = h
        .live_connection(&pid, &key, &customer, "trackses-legacy", "2")
        .await;
    strip(
        &h,
        keys::connection(&cid),
        keys::CONNECTION_SK,
        &["topic_proven_at", "schema"],
    )
    .await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Legacy", "l");
    let document = event_json(EventType::Send, &mail, &mail.recipients, Utc::now());
    customer.publish_ses_event(&topic, &document).await.unwrap();
    let query = format!("message_id={}", mail.message_id);
    h.wait_events(&pid, &key, &query, 1).await;
}

/// GIVEN a project from before admin keys were counted, with two keys stored before scopes
/// existed (both admin), WHEN one is revoked and then the other, THEN the first goes and the
/// last stays.
#[tokio::test]
async fn a_project_from_before_scopes_can_revoke_all_but_its_last_admin_key() {
    let h = Harness::start().await;
    let (pid, first) = h.project().await;
    let base = format!("/v1/projects/{pid}");
    let (status, second) = h
        .call(
            Method::POST,
            &format!("{base}/api-keys"),
            &first,
            Some(json!({"scope": "admin"})),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let kid_of = |token: &str| {
        token
            .trim_start_matches("tsk_")
            .split('_')
            .next()
            .unwrap()
            .to_owned()
    };
    let first_kid = kid_of(&first);
    let second_kid = second["id"].as_str().unwrap().to_owned();
    strip(&h, keys::project(&pid), keys::PROJECT_SK, &["admin_keys"]).await;
    for kid in [&first_kid, &second_kid] {
        strip(&h, keys::project(&pid), &keys::api_key_sk(kid), &["scope"]).await;
    }

    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("{base}/api-keys/{second_kid}"),
            &first,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, problem) = h
        .call(
            Method::DELETE,
            &format!("{base}/api-keys/{first_kid}"),
            &first,
            None,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(h.status(Method::GET, &base, &first).await, 200);
}
