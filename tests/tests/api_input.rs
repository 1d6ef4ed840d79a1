//! The REST API refuses bad input in problem+json: connection bodies, unknown routes, methods,
//! ids and queries; and naming a topic claims nothing.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn connections_validate_and_naming_a_topic_claims_nothing() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let path = format!("/v1/projects/{pid}/connections");
    for body in [
        json!({"mode": "manual"}),
        json!({"mode": "manual", "topic_arn": "arn:aws:sqs:eu-west-1:222222222222:q"}),
        json!({"mode": "manual", "topic_arn": 5}),
        json!({"mode": "carrier-pigeon"}),
        json!("manual"),
    ] {
        let (status, problem) = h.call(Method::POST, &path, &key, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {problem}");
    }
    let topic = format!(
        "arn:aws:sns:eu-west-1:{CUSTOMER}:{}",
        unique("trackses-once")
    );
    let (cid, webhook_url) = h.connection(&pid, &key, &topic).await;
    assert!(webhook_url.ends_with(&format!("/v1/hooks/sns/{cid}")));
    let (status, list) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(status, 200);
    let item = &list["items"][0];
    assert_eq!(
        (
            item["id"].as_str(),
            item["status"].as_str(),
            item["account_id"].as_str(),
            item["region"].as_str()
        ),
        (
            Some(cid.as_str()),
            Some("pending"),
            Some(CUSTOMER),
            Some("eu-west-1")
        )
    );
    assert!(item.get("project_id").is_none());
    assert_eq!(
        h.status(Method::DELETE, &format!("{path}/{cid}"), &key)
            .await,
        202
    );
    assert_eq!(
        h.status(Method::GET, &format!("{path}/{cid}"), &key).await,
        404
    );
}

#[tokio::test]
async fn unknown_routes_methods_and_queries_answer_in_problem_json() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    // Ids that could never be table keys are a client's mistake, never a server error.
    let long = "x".repeat(3000);
    for (method, path, token, want) in [
        (
            Method::GET,
            format!("/v1/projects/{long}"),
            key.clone(),
            404,
        ),
        (
            Method::GET,
            format!("/v1/projects/{pid}/connections/{long}"),
            key.clone(),
            404,
        ),
        (
            Method::DELETE,
            format!("/v1/projects/{pid}/connections/a%23b"),
            key.clone(),
            404,
        ),
        (
            Method::GET,
            format!("/v1/projects/{pid}/messages/{long}"),
            key.clone(),
            404,
        ),
        (
            Method::DELETE,
            format!("/v1/projects/{pid}/api-keys/{long}"),
            key.clone(),
            404,
        ),
        (
            Method::GET,
            format!("/v1/projects/{pid}/events?message_id={long}"),
            key.clone(),
            400,
        ),
        (
            Method::GET,
            format!("/v1/projects/{pid}"),
            format!("tsk_{long}_00"),
            401,
        ),
    ] {
        let (status, problem) = h.call(method.clone(), &path, &token, None).await;
        assert_eq!(
            status,
            want,
            "{method} {}: {problem}",
            &path[..path.len().min(80)]
        );
    }
    assert_eq!(h.status(Method::GET, "/nope", &key).await, 404);
    assert_eq!(h.status(Method::PUT, "/health", &key).await, 405);
    for query in [
        "type=teleport",
        "from=yesterday",
        "limit=0",
        "limit=201",
        "limit=x",
        "cursor=abc",
        "after=abc",
        "tag=novalue",
        "bogus=1",
    ] {
        let (status, problem) = h
            .call(
                Method::GET,
                &format!("/v1/projects/{pid}/events?{query}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 400, "{query}: {problem}");
        assert!(problem["detail"].is_string());
    }
    assert_eq!(
        h.status(
            Method::GET,
            &format!("/v1/projects/{pid}/messages/unknown"),
            &key
        )
        .await,
        404
    );
}

/// Every region SES v2 serves is one a role link may name, including those added since 2024;
/// a region SES lacks is refused. The list is public: the dashboard reads it before sign-in.
#[tokio::test]
async fn the_region_list_is_public_and_what_the_api_accepts() {
    let h = Harness::start().await;
    let listed: serde_json::Value = reqwest::get(format!("{}/v1/regions", h.api.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        items.contains(&"ap-southeast-5") && items.contains(&"eu-west-1"),
        "{listed}"
    );
    let (pid, key) = h.project().await;
    let link = |region: &str| format!("/v1/projects/{pid}/onboarding/role?region={region}");
    let (status, body) = h.call(Method::GET, &link("mx-central-1"), &key, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = h.call(Method::GET, &link("xx-nowhere-1"), &key, None).await;
    assert_eq!(status, 400, "{body}");
}
