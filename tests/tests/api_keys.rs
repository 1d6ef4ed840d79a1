//! The REST API's projects and keys: a project's lifecycle, keys that read or administer, listed
//! never with their secret, and the last admin key, which stays.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn health_and_project_lifecycle() {
    let h = Harness::start().await;
    let (status, body) = h.call(Method::GET, "/health", "", None).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));

    let (pid, key) = h.project().await;
    let (status, project) = h
        .call(Method::GET, &format!("/v1/projects/{pid}"), &key, None)
        .await;
    assert_eq!(status, 200);
    let external_id = project["external_id"].as_str().unwrap();
    assert!(
        external_id.len() >= 32
            && external_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(c))
    );
    assert!(project.get("api_key").is_none());

    let (status, created) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/api-keys"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 201);
    let second = created["api_key"].as_str().unwrap().to_owned();
    let kid = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        h.status(Method::GET, &format!("/v1/projects/{pid}"), &second)
            .await,
        200
    );
    assert_eq!(
        h.status(
            Method::DELETE,
            &format!("/v1/projects/{pid}/api-keys/{kid}"),
            &key
        )
        .await,
        204
    );
    assert_eq!(
        h.status(Method::GET, &format!("/v1/projects/{pid}"), &second)
            .await,
        404,
        "a deleted key opens nothing"
    );
    assert_eq!(
        h.status(
            Method::DELETE,
            &format!("/v1/projects/{pid}/api-keys/{kid}"),
            &key
        )
        .await,
        404
    );

    // The stored key is a hash: the secret itself is nowhere in the table.
    let secret = key.rsplit('_').next().unwrap();
    let scan = aws_sdk_dynamodb::Client::new(&h.aws)
        .scan()
        .table_name(&h.config.table_name)
        .send()
        .await
        .unwrap();
    assert!(!format!("{:?}", scan.items()).contains(secret));
}

/// GIVEN a project's read key in an attacker's hands, WHEN it tries every route that manages
/// keys, connections, identities or onboarding, THEN 403 each time and nothing changed; it reads
/// what the dashboard shows, never the external id in full. And the last admin key cannot be
/// revoked, whoever tries.
#[tokio::test]
async fn a_read_key_reads_and_the_last_admin_key_stays() {
    let h = Harness::start().await;
    let (pid, admin) = h.project().await;
    let base = format!("/v1/projects/{pid}");
    let mint = |scope: Option<&str>, label: &str| {
        let mut body = json!({"label": label});
        if let Some(scope) = scope {
            body["scope"] = json!(scope);
        }
        let (h, base, admin) = (&h, &base, &admin);
        async move {
            let (status, created) = h
                .call(Method::POST, &format!("{base}/api-keys"), admin, Some(body))
                .await;
            assert_eq!(status, 201, "{created}");
            created
        }
    };
    let read = mint(None, "dashboard").await;
    assert_eq!(read["scope"], "read", "least privilege by default");
    let second_admin = mint(Some("admin"), "ops").await;
    let read_key = read["api_key"].as_str().unwrap();
    let topic = format!(
        "arn:aws:sns:{REGION}:{CUSTOMER}:{}",
        unique("trackses-scoped")
    );
    let (cid, _) = h.connection(&pid, &admin, &topic).await;

    let (status, listed) = h
        .call(Method::GET, &format!("{base}/api-keys"), &admin, None)
        .await;
    assert_eq!(status, 200, "{listed}");
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let text = listed.to_string();
    for secret in [&admin, read_key, second_admin["api_key"].as_str().unwrap()] {
        assert!(!text.contains(secret.rsplit('_').next().unwrap()), "{text}");
    }
    assert!(!text.contains("sha256"), "{text}");
    assert!(
        items
            .iter()
            .any(|k| k["label"] == "dashboard" && k["scope"] == "read")
    );
    // The admin key has been used (it made the others); the new ones not yet.
    let used = |id: &serde_json::Value| {
        items.iter().find(|k| &k["id"] == id).unwrap()["last_used_at"].is_string()
    };
    assert!(!used(&read["id"]) && !used(&second_admin["id"]));
    let first_id = admin.trim_start_matches("tsk_").split('_').next().unwrap();
    assert!(used(&json!(first_id)));

    // What a read key may do.
    let (status, project) = h.call(Method::GET, &base, read_key, None).await;
    assert_eq!(status, 200);
    let (_, full) = h.call(Method::GET, &base, &admin, None).await;
    let external_id = full["external_id"].as_str().unwrap();
    assert_ne!(project["external_id"], external_id);
    assert!(project["external_id"].as_str().unwrap().ends_with('…'));
    for path in ["events", "stats", "suppressions", "connections"] {
        let (status, body) = h
            .call(Method::GET, &format!("{base}/{path}"), read_key, None)
            .await;
        assert_eq!(status, 200, "{path}: {body}");
    }

    // What it may not.
    let admin_kid = second_admin["id"].as_str().unwrap();
    let refused = [
        (
            Method::POST,
            format!("{base}/api-keys"),
            Some(json!({"scope": "admin"})),
        ),
        (Method::GET, format!("{base}/api-keys"), None),
        (Method::DELETE, format!("{base}/api-keys/{admin_kid}"), None),
        (
            Method::POST,
            format!("{base}/connections"),
            Some(json!({"mode": "manual", "topic_arn": topic})),
        ),
        (Method::DELETE, format!("{base}/connections/{cid}"), None),
        (
            Method::GET,
            format!("{base}/connections/{cid}/identities"),
            None,
        ),
        (
            Method::PUT,
            format!("{base}/connections/{cid}/identities/a@b.example"),
            None,
        ),
        (
            Method::POST,
            format!("{base}/connections/{cid}/verify"),
            None,
        ),
        (
            Method::GET,
            format!("{base}/onboarding/role?region={REGION}"),
            None,
        ),
    ];
    for (method, path, body) in refused {
        let (status, problem) = h.call(method.clone(), &path, read_key, body).await;
        assert_eq!(status, 403, "{method} {path}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("`admin` key"),
            "{problem}"
        );
    }
    let (_, after) = h
        .call(Method::GET, &format!("{base}/api-keys"), &admin, None)
        .await;
    assert_eq!(
        after["items"].as_array().unwrap().len(),
        3,
        "no key was made or revoked"
    );
    let (status, _) = h
        .call(
            Method::GET,
            &format!("{base}/connections/{cid}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 200, "the connection is still there");

    // The last admin key cannot be revoked; the one before it can.
    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("{base}/api-keys/{admin_kid}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let first_kid = admin.trim_start_matches("tsk_").split('_').next().unwrap();
    let (status, problem) = h
        .call(
            Method::DELETE,
            &format!("{base}/api-keys/{first_kid}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 409, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("last admin key")
    );
    assert_eq!(h.status(Method::GET, &base, &admin).await, 200);
    // A read key revoked by the admin opens nothing after.
    let read_kid = read["id"].as_str().unwrap();
    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("{base}/api-keys/{read_kid}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(h.status(Method::GET, &base, read_key).await, 404);
}
