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

/// GIVEN an event stored by the transactional release (its whole document as JSON, its own
/// marker, message and recipient-state items beside it), WHEN the project reads its events,
/// its live tail and the message's timeline, THEN the event is there, and only it.
#[tokio::test]
async fn events_stored_before_the_compact_layout_stay_readable() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let id = ulid::Ulid::new().to_string();
    let ses_message_id = format!("0102019{}-legacy-000000", &id[..10]).to_lowercase();
    let occurred = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let doc = json!({
        "id": id, "type": "delivery", "ses_message_id": ses_message_id,
        "recipient": "old@example.com", "occurred_at": occurred, "received_at": occurred,
        "connection_id": "con_legacy", "source": "a@example.com", "subject": "Old",
        "tags": {"campaign": ["old"]}, "details": {"smtp_response": "250 ok"},
    });
    let pk = keys::message(&pid, &ses_message_id);
    let mut put = h.store_client().put_item().table_name(h.store.table());
    for (name, value) in [
        (keys::PK, pk.clone()),
        (keys::SK, format!("E#{id}")),
        (keys::GSI1_PK, keys::project_events(&pid, 0)),
        (keys::GSI1_SK, format!("E#{id}")),
        ("doc", doc.to_string()),
    ] {
        put = put.item(name, s(value));
    }
    put.send().await.unwrap();
    for (sk, attribute) in [("MSG", "source"), ("R#old@example.com", "n_delivery")] {
        h.store_client()
            .put_item()
            .table_name(h.store.table())
            .item(keys::PK, s(pk.clone()))
            .item(keys::SK, s(sk))
            .item(attribute, s("1"))
            .send()
            .await
            .unwrap();
    }

    let listed = h.events(&pid, &key, "").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0]["id"], &listed[0]["recipient"]),
        (&json!(id), &json!("old@example.com"))
    );
    let before = ulid::Ulid::from_datetime(std::time::SystemTime::UNIX_EPOCH).to_string();
    assert_eq!(
        h.events(&pid, &key, &format!("after={before}")).await.len(),
        1
    );
    let (status, timeline) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/messages/{ses_message_id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{timeline}");
    assert_eq!(timeline["recipients"][0]["status"], "delivered");
    assert_eq!(
        timeline["recipients"].as_array().unwrap().len(),
        1,
        "{timeline}"
    );
}
