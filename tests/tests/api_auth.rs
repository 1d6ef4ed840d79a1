//! Who may call the REST API: the admin token (also from Parameter Store), a key of one project
//! against every route of another, and no secret in a log line or a response.

mod common;

use common::ses::seed;
use common::*;
use local::ses_traffic::Mail;
use model::EventType;
use reqwest::Method;
use serde_json::json;

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
        h.status(
            Method::GET,
            &format!("/v1/projects/{a}/connections/{cid_b}"),
            &key_a
        )
        .await,
        404
    );
    assert_eq!(
        h.status(
            Method::DELETE,
            &format!("/v1/projects/{a}/connections/{cid_b}"),
            &key_a
        )
        .await,
        404
    );
    assert_eq!(
        h.status(
            Method::GET,
            &format!("/v1/projects/{b}/connections/{cid_b}"),
            &key_b
        )
        .await,
        200
    );
    assert_eq!(
        h.status(Method::GET, &format!("/v1/projects/{b}"), &key_b2)
            .await,
        200
    );
    // No key, or a malformed one: 401.
    assert_eq!(
        h.status(Method::GET, &format!("/v1/projects/{b}"), "")
            .await,
        401
    );
    assert_eq!(
        h.status(Method::GET, &format!("/v1/projects/{b}"), "garbage")
            .await,
        401
    );
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
