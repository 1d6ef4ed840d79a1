//! Signing in with the key alone (`GET /v1/session`): the key names its project, so the dashboard
//! asks for nothing else; what comes back is the key's own project and what the key may do there.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use common::*;
use reqwest::Method;
use serde_json::json;

fn kid(key: &str) -> &str {
    key.trim_start_matches("tsk_").split('_').next().unwrap()
}

#[tokio::test]
async fn a_key_alone_names_its_project_and_scope() {
    let h = Harness::start().await;
    let (pid, admin) = h.project().await;

    let (status, session) = h.call(Method::GET, "/v1/session", &admin, None).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["project"]["id"], pid.as_str());
    assert_eq!(session["project"]["name"], "test");
    assert_eq!(session["key"]["id"], kid(&admin));
    assert_eq!(session["key"]["scope"], "admin");
    let external_id = h.external_id(&pid, &admin).await;
    assert_eq!(session["project"]["external_id"], external_id.as_str());

    let (_, read) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/api-keys"),
            &admin,
            Some(json!({"label": "wall screen"})),
        )
        .await;
    let read_key = read["api_key"].as_str().unwrap();
    let (status, session) = h.call(Method::GET, "/v1/session", read_key, None).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["project"]["id"], pid.as_str());
    assert_eq!(
        session["key"],
        json!({"id": kid(read_key), "label": "wall screen", "scope": "read",
               "created_at": read["created_at"], "last_used_at": session["key"]["last_used_at"]})
    );
    // A read key sees what the project's read routes show it: never the external id in full.
    assert_ne!(session["project"]["external_id"], external_id.as_str());
    let text = session.to_string();
    assert!(
        !text.contains(read_key.rsplit('_').next().unwrap()),
        "{text}"
    );
}

/// GIVEN an attacker who knows a victim's key id (it is shown in key lists and logs) WHEN they
/// sign in with it and a guessed secret, a malformed token, no token, or a revoked key, THEN 401
/// problem+json each time, and the victim's key and project are as they were.
#[tokio::test]
async fn a_wrong_secret_a_revoked_key_or_no_key_opens_nothing() {
    let h = Harness::start().await;
    let (pid, victim) = h.project().await;
    let keys_path = format!("/v1/projects/{pid}/api-keys");
    let keys = || async { h.call(Method::GET, &keys_path, &victim, None).await.1 };
    let before = keys().await;

    let guessed = format!("tsk_{}_{}", kid(&victim), "0".repeat(64));
    for token in [
        guessed.as_str(),
        "tsk_",
        "tsk_nokey",
        "tsk_../../x_y",
        "not-a-key",
        "",
    ] {
        let (status, problem) = h.call(Method::GET, "/v1/session", token, None).await;
        assert_eq!(status, 401, "{token}: {problem}");
        assert_eq!(problem["status"], 401, "{problem}");
        assert!(problem.get("project").is_none(), "{problem}");
    }

    let (_, made) = h.call(Method::POST, &keys_path, &victim, None).await;
    let revoked = made["api_key"].as_str().unwrap();
    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("{keys_path}/{}", made["id"].as_str().unwrap()),
            &victim,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, problem) = h.call(Method::GET, "/v1/session", revoked, None).await;
    assert_eq!(status, 401, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("not valid"),
        "{problem}"
    );

    assert_eq!(before["items"], keys().await["items"]);
}

/// GIVEN a key stored before keys could be found by id alone (no index attributes) WHEN it is
/// next used with its project id THEN it signs in alone from then on.
#[tokio::test]
async fn a_key_made_before_sign_in_by_key_signs_in_after_its_next_use() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    h.store_client()
        .update_item()
        .table_name(&h.config.table_name)
        .key("pk", AttributeValue::S(format!("P#{pid}")))
        .key("sk", AttributeValue::S(format!("KEY#{}", kid(&key))))
        .update_expression("REMOVE gsi1pk, gsi1sk, last_used_at")
        .send()
        .await
        .unwrap();
    let (status, _) = h.call(Method::GET, "/v1/session", &key, None).await;
    assert_eq!(status, 401, "an unindexed key is not found by id");

    let (status, _) = h
        .call(Method::GET, &format!("/v1/projects/{pid}"), &key, None)
        .await;
    assert_eq!(status, 200);
    let (status, session) = h.call(Method::GET, "/v1/session", &key, None).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["project"]["id"], pid.as_str());
}
