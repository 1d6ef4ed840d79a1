//! The quick-create link: it needs a project's key and an SES region, is new for each stack, and
//! never lets a client choose the external id; a stack connection deleted in trackses is
//! forgotten, and its stack still deletes.

mod common;

use common::onboarding::{answers, harness, link};
use common::*;
use local::role_stack::{create_stack_from_link, wait_stack};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn the_link_needs_a_project_key_and_an_ses_region() {
    let (h, _) = harness().await;
    let (pid, key) = h.project().await;
    let (other, other_key) = h.project().await;
    let path = format!("/v1/projects/{pid}/onboarding/role");
    let (status, problem) = h
        .call(Method::GET, &format!("{path}?region=ap-east-1"), &key, None)
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("SES v2"));
    let (status, problem) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(status, 400, "{problem}");
    let (status, _) = h
        .call(
            Method::GET,
            &format!("{path}?region={REGION}"),
            &other_key,
            None,
        )
        .await;
    assert_eq!(status, 404, "a key of {other} sees no other project");
    // Each call is a new link for one stack; the external id is the project's, and trackses' own.
    let (first, first_link) = link(&h, &pid, &key).await;
    let (second, second_link) = link(&h, &pid, &key).await;
    assert_ne!(first["connection_id"], second["connection_id"]);
    assert_ne!(
        first_link.parameter("ConnectionToken"),
        second_link.parameter("ConnectionToken")
    );
    assert_eq!(first["external_id"], second["external_id"]);
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/projects",
            &h.admin_token,
            Some(json!({"name": "mine", "external_id": "trackses-chosen-by-me"})),
        )
        .await;
    assert_eq!(
        status, 400,
        "a client cannot choose an external id: {problem}"
    );
    let (status, _) = h
        .call(
            Method::PATCH,
            &format!("/v1/projects/{pid}"),
            &key,
            Some(json!({"external_id": "trackses-chosen-by-me"})),
        )
        .await;
    assert_eq!(status, 405, "nor change it");
    let response = reqwest::Client::new()
        .get(format!("{}{path}?region={REGION}", h.api.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_stack_connection_deleted_in_trackses_is_forgotten_and_its_stack_still_deletes() {
    let (h, _) = harness().await;
    let (pid, key) = h.project().await;
    let (onboarding, link) = link(&h, &pid, &key).await;
    let cid = onboarding["connection_id"].as_str().unwrap();
    let customer = h.customer(&fresh_account("6100")).await;
    let stack_id = create_stack_from_link(&customer, &link).await.unwrap();
    wait_stack(&customer.cloudformation, &stack_id, "CREATE_COMPLETE")
        .await
        .unwrap();
    h.wait_status(&pid, &key, cid, "active").await;

    let path = format!("/v1/projects/{pid}/connections/{cid}");
    let (status, deleted) = h.call(Method::DELETE, &path, &key, None).await;
    assert_eq!(status, 202, "{deleted}");
    assert_eq!(deleted["status"], "deleted");
    assert!(
        deleted["detail"].as_str().unwrap().contains(&stack_id),
        "{deleted}"
    );
    let (status, _) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(status, 404);
    // trackses deleted nothing of the stack's: its topic is still there.
    let topics = customer.sns.list_topics().send().await.unwrap();
    assert!(
        topics
            .topics()
            .iter()
            .any(|t| t.topic_arn().is_some_and(|a| a.contains(":trackses-"))),
        "the stack's topic stays until the stack goes"
    );

    customer
        .cloudformation
        .delete_stack()
        .stack_name(&stack_id)
        .send()
        .await
        .unwrap();
    let answer = eventually("the stack's Delete answered", || async {
        answers().await.into_iter().find(|a| {
            a["request_type"] == "Delete" && a["response"]["StackId"] == stack_id.as_str()
        })
    })
    .await;
    assert_eq!(answer["problem"], Value::Null, "{answer}");
    assert_eq!(answer["response"]["Status"], "SUCCESS");
    assert_eq!(answer["response"]["PhysicalResourceId"], cid);
}
