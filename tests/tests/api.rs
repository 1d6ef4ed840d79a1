//! The REST API: auth, tenancy on every route, bad input, filters, paging and the live tail.

mod common;

use chrono::{Duration, Utc};
use common::*;
use local::ses_traffic::{Mail, event_json};
use model::EventType;
use reqwest::Method;
use serde_json::{Value, json};
use store::keys::{CounterScope, Granularity};

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
        h.call(Method::GET, &format!("/v1/projects/{pid}"), &second, None)
            .await
            .0,
        200
    );
    assert_eq!(
        h.call(
            Method::DELETE,
            &format!("/v1/projects/{pid}/api-keys/{kid}"),
            &key,
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        h.call(Method::GET, &format!("/v1/projects/{pid}"), &second, None)
            .await
            .0,
        404,
        "a deleted key opens nothing"
    );
    assert_eq!(
        h.call(
            Method::DELETE,
            &format!("/v1/projects/{pid}/api-keys/{kid}"),
            &key,
            None
        )
        .await
        .0,
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
    assert_eq!(h.call(Method::GET, &base, &admin, None).await.0, 200);
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
    assert_eq!(h.call(Method::GET, &base, read_key, None).await.0, 404);
}

/// GIVEN the admin token kept as an SSM SecureString, as deployed, WHEN the API starts knowing
/// only the parameter's name, THEN the parameter's value creates projects and nothing else does.
#[tokio::test]
async fn the_admin_token_comes_from_parameter_store() {
    let token = model::ids::random_hex(24);
    let name = format!("/trackses/{}/admin-token", unique("test"));
    let aws = runtime::sdk_config();
    aws_sdk_ssm::Client::new(&aws)
        .put_parameter()
        .name(&name)
        .value(&token)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let parameter = name.clone();
    let h = Harness::start_with(move |config| {
        config.admin_token = None;
        config.admin_token_parameter = Some(parameter);
    })
    .await;
    for (bearer, want) in [(token.as_str(), 201), (h.admin_token.as_str(), 403)] {
        let (status, body) = h
            .call(
                Method::POST,
                "/v1/projects",
                bearer,
                Some(json!({"name": "ssm"})),
            )
            .await;
        assert_eq!(status, want, "{body}");
    }
}

#[tokio::test]
async fn admin_token_guards_project_creation() {
    let h = Harness::start().await;
    for (token, want) in [("", 401), ("wrong-token", 403)] {
        let (status, problem) = h
            .call(
                Method::POST,
                "/v1/projects",
                token,
                Some(json!({"name": "x"})),
            )
            .await;
        assert_eq!(status, want, "{problem}");
        assert_eq!(problem["status"], want);
    }
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "x", "extra": 1}),
        json!([1]),
    ] {
        assert_eq!(
            h.call(
                Method::POST,
                "/v1/projects",
                &h.admin_token,
                Some(body.clone())
            )
            .await
            .0,
            400,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_key_of_project_a_opens_nothing_of_project_b() {
    let h = Harness::start().await;
    let (a, key_a) = h.project().await;
    let (b, key_b) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let topic = customer
        .create_topic(&unique("trackses-b"), "2")
        .await
        .unwrap();
    let (cid_b, _) = h.connection(&b, &key_b, &topic).await;
    let (_, key_b2) = {
        let (_, k) = h
            .call(
                Method::POST,
                &format!("/v1/projects/{b}/api-keys"),
                &key_b,
                None,
            )
            .await;
        (
            k["id"].as_str().unwrap().to_owned(),
            k["api_key"].as_str().unwrap().to_owned(),
        )
    };
    let kid_b2 = key_b2
        .trim_start_matches("tsk_")
        .split('_')
        .next()
        .unwrap()
        .to_owned();
    let routes = [
        (Method::GET, format!("/v1/projects/{b}"), None),
        (Method::POST, format!("/v1/projects/{b}/api-keys"), None),
        (Method::GET, format!("/v1/projects/{b}/api-keys"), None),
        (
            Method::DELETE,
            format!("/v1/projects/{b}/api-keys/{kid_b2}"),
            None,
        ),
        (Method::GET, format!("/v1/projects/{b}/connections"), None),
        (
            Method::POST,
            format!("/v1/projects/{b}/connections"),
            Some(
                json!({"mode": "manual", "topic_arn": "arn:aws:sns:eu-west-1:222222222222:trackses-x"}),
            ),
        ),
        (
            Method::GET,
            format!("/v1/projects/{b}/connections/{cid_b}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/projects/{b}/connections/{cid_b}"),
            None,
        ),
        (Method::GET, format!("/v1/projects/{b}/events"), None),
        (
            Method::GET,
            format!("/v1/projects/{b}/messages/some-message"),
            None,
        ),
        (Method::GET, format!("/v1/projects/{b}/stats"), None),
        (Method::GET, format!("/v1/projects/{b}/suppressions"), None),
    ];
    for (method, path, body) in &routes {
        let (status, problem) = h.call(method.clone(), path, &key_a, body.clone()).await;
        assert_eq!(status, 404, "{method} {path}: {problem}");
        assert_eq!(problem["status"], 404);
    }
    // B's connection under A's id is also not found, and B is untouched.
    assert_eq!(
        h.call(
            Method::GET,
            &format!("/v1/projects/{a}/connections/{cid_b}"),
            &key_a,
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        h.call(
            Method::DELETE,
            &format!("/v1/projects/{a}/connections/{cid_b}"),
            &key_a,
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        h.call(
            Method::GET,
            &format!("/v1/projects/{b}/connections/{cid_b}"),
            &key_b,
            None
        )
        .await
        .0,
        200
    );
    assert_eq!(
        h.call(Method::GET, &format!("/v1/projects/{b}"), &key_b2, None)
            .await
            .0,
        200
    );
    // No key, or a malformed one: 401.
    assert_eq!(
        h.call(Method::GET, &format!("/v1/projects/{b}"), "", None)
            .await
            .0,
        401
    );
    assert_eq!(
        h.call(Method::GET, &format!("/v1/projects/{b}"), "garbage", None)
            .await
            .0,
        401
    );
}

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
        h.call(Method::DELETE, &format!("{path}/{cid}"), &key, None)
            .await
            .0,
        202
    );
    assert_eq!(
        h.call(Method::GET, &format!("{path}/{cid}"), &key, None)
            .await
            .0,
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
    assert_eq!(h.call(Method::GET, "/nope", &key, None).await.0, 404);
    assert_eq!(h.call(Method::PUT, "/health", &key, None).await.0, 405);
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
        h.call(
            Method::GET,
            &format!("/v1/projects/{pid}/messages/unknown"),
            &key,
            None
        )
        .await
        .0,
        404
    );
}

/// Publishes SES events straight through the webhook's real signed path and waits for them.
async fn seed(h: &Harness, pid: &str, key: &str, mails: &[(Mail, Vec<EventType>)]) {
    let customer = h.customer(CUSTOMER).await;
    let (topic, _, _) = h
        .live_connection(pid, key, &customer, "trackses-seed", "2")
        .await;
    let mut expected = 0;
    for (mail, steps) in mails {
        for (i, step) in steps.iter().enumerate() {
            let doc = event_json(
                *step,
                mail,
                &mail.recipients,
                mail.sent_at + Duration::seconds(i as i64),
            );
            customer.publish_ses_event(&topic, &doc).await.unwrap();
            expected += mail.recipients.len();
        }
    }
    h.wait_events(pid, key, "limit=200", expected).await;
}

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

#[tokio::test]
async fn secrets_never_reach_logs_or_responses() {
    let logs = LogCapture::global();

    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let mail = Mail::new(vec!["ana@example.com".into()], "Logs", "l");
    seed(
        &h,
        &pid,
        &key,
        &[(mail, vec![EventType::Send, EventType::Bounce])],
    )
    .await;
    let (_, second) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/api-keys"),
            &key,
            None,
        )
        .await;
    let second_key = second["api_key"].as_str().unwrap().to_owned();
    // Failed attempts with real-looking secrets must not echo them either.
    let (_, wrong_admin) = h
        .call(
            Method::POST,
            "/v1/projects",
            &format!("{}x", h.admin_token),
            Some(json!({"name": "x"})),
        )
        .await;
    let (_, wrong_key) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}"),
            &format!("{key}x"),
            None,
        )
        .await;
    let mut responses = Vec::new();
    for path in ["", "/connections", "/events"] {
        responses.push(
            h.call(
                Method::GET,
                &format!("/v1/projects/{pid}{path}"),
                &key,
                None,
            )
            .await
            .1,
        );
    }

    let logs = logs.text();
    assert!(
        logs.contains("project created"),
        "the capture sees the service's logs"
    );
    let seen = format!("{logs}\n{wrong_admin}\n{wrong_key}\n{responses:?}");
    for secret in [h.admin_token.as_str(), key.as_str(), second_key.as_str()] {
        let secret_part = secret.rsplit('_').next().unwrap();
        assert!(!seen.contains(secret_part), "a secret leaked");
    }
}

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
    let (status, stats) = h.call(Method::GET, &stats_path, &key, None).await;
    assert_eq!(status, 200, "{stats}");
    for (event_type, want) in [
        ("send", 3),
        ("delivery", 2),
        ("bounce", 1),
        ("complaint", 1),
        ("open", 1),
        ("click", 1),
        ("reject", 0),
    ] {
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
    let (_, hourly) = h
        .call(
            Method::GET,
            &format!("{stats_path}?granularity=hour"),
            &key,
            None,
        )
        .await;
    assert_eq!(hourly["totals"]["send"], 2);
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
async fn a_thirty_day_view_reads_at_most_a_hundred_items() {
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
    assert!(read.items_read <= 100, "{} items read", read.items_read);
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
        sns_message_id: &model::ids::random_hex(16),
        notification: &notification,
        received_at,
        expires_at: (received_at + Duration::days(1)).timestamp(),
        marker_expires_at: (received_at + Duration::days(30)).timestamp(),
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
