//! The sample events of `events/` (what `sam local invoke -e` sends) through lambda_http's own
//! API Gateway decoding into the functions' routers: the path and body survive the adapter.

mod common;

use chrono::{DateTime, Utc};

use common::receiver::{Receiver, endpoint, webhook_channel};
use common::ses::mail_to;
use common::*;
use edge::finish;
use ingest::Ingestor;
use reqwest::Method;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The API as its Lambda binary builds it, with this admin token and no automatic mode.
async fn api_router(h: &Harness, admin_token: Option<&str>) -> axum::Router {
    let mut config = h.config.clone();
    config.admin_token = admin_token.map(str::to_owned);
    config.admin_token_parameter = None;
    config.kms_key_id = None;
    let lambda = aws_sdk_lambda::Client::new(&h.aws);
    let app = api::App::from_config(&config, &h.aws, lambda)
        .await
        .unwrap();
    finish(app.routes())
}

async fn invoke(router: axum::Router, event: &str) -> (u16, Value) {
    let request = lambda_http::request::from_str(event).expect("an API Gateway event");
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn api_events_reach_the_api_router() {
    const TOKEN: &str = "local-admin-token-change-me-0123456789";
    let h = Harness::start().await;
    let (status, body) = invoke(
        api_router(&h, None).await,
        include_str!("../../events/api/health.json"),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));

    let (status, body) = invoke(
        api_router(&h, Some(TOKEN)).await,
        include_str!("../../events/api/create-project.json"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["project"]["name"], "Acme mail");
    // The webhook URL comes from the configured public URL, never from the request's Host
    // header (the sample event's is API Gateway's, and a client may send any).
    let pid = body["project"]["id"].as_str().unwrap();
    let key = body["api_key"].as_str().unwrap();
    let (_, connection) = h
        .call(Method::POST, &format!("/v1/projects/{pid}/connections"), key, Some(serde_json::json!({"mode": "manual", "topic_arn": format!("arn:aws:sns:eu-west-1:{CUSTOMER}:{}", unique("trackses-lambda"))})))
        .await;
    let mut event: Value =
        serde_json::from_str(include_str!("../../events/api/health.json")).unwrap();
    let path = format!(
        "/v1/projects/{pid}/connections/{}",
        connection["id"].as_str().unwrap()
    );
    event["rawPath"] = Value::String(path.clone());
    event["requestContext"]["http"]["path"] = Value::String(path);
    event["headers"]["authorization"] = Value::String(format!("Bearer {key}"));
    let (status, body) = invoke(api_router(&h, None).await, &event.to_string()).await;
    assert_eq!(status, 200, "{body}");
    let webhook_url = body["webhook_url"].as_str().unwrap();
    let configured = h.config.require_public_url().unwrap();
    assert!(
        webhook_url.starts_with(&format!(
            "{}/v1/hooks/sns/con_",
            configured.as_str().trim_end_matches('/')
        )),
        "{webhook_url}"
    );
    assert!(!webhook_url.contains("abc123"), "{webhook_url}");
}

#[tokio::test]
async fn the_webhook_event_carries_a_real_amazon_signed_ses_bounce_into_storage() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let mut event: Value =
        serde_json::from_str(include_str!("../../events/webhook/ses-bounce.json")).unwrap();
    let envelope: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    let topic = envelope["TopicArn"].as_str().unwrap();
    let (cid, _) = h.proven_connection(&pid, &key, topic).await;
    aim_at(&mut event, &cid);
    // Signed in 2021: today it can only be a replay, and is refused as one.
    let today = finish(webhook::App::from_config(&h.config, &h.aws).routes());
    let (status, problem) = invoke(today, &event.to_string()).await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("replay"),
        "{problem}"
    );
    assert!(h.events(&pid, &key, "").await.is_empty());

    // On the day SNS delivered it, it is stored once.
    let router = || delivery_day_webhook(&h);

    let (status, body) = invoke(router(), &event.to_string()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("stored")),
        "{body}"
    );
    let (status, body) = invoke(router(), &event.to_string()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("duplicate")),
        "{body}"
    );

    let events = h.events(&pid, &key, "").await;
    assert_eq!(events.len(), 1);
    let bounce = &events[0];
    assert_eq!(bounce["type"], "bounce");
    assert_eq!(bounce["recipient"], "bounce@simulator.amazonses.com");
    assert_eq!(
        bounce["occurred_at"], "2021-11-01T08:31:09.745Z",
        "the bounce's own time, not mail.timestamp"
    );
    assert_eq!(bounce["details"]["bounce_type"], "Permanent");
    assert_eq!(
        bounce["details"]["diagnostic_code"],
        "smtp; 550 5.1.1 user unknown"
    );
    assert_eq!(bounce["tags"]["ses:configuration-set"][0], "keila");
}

/// The webhook as it ran on the day SNS delivered the sample bounce (signed in 2021).
fn delivery_day_webhook(h: &Harness) -> axum::Router {
    let delivered: DateTime<Utc> = "2021-11-01T08:31:10Z".parse().unwrap();
    let ingestor = Ingestor::from_config(&h.config, h.store.clone());
    finish(webhook::App::new(ingestor.with_clock(move || delivered)).routes())
}

/// Points a sample webhook event at connection `cid`.
fn aim_at(event: &mut Value, cid: &str) {
    let path = format!("/v1/hooks/sns/{cid}");
    event["rawPath"] = Value::String(path.clone());
    event["requestContext"]["http"]["path"] = Value::String(path);
    if event.get("pathParameters").is_some() {
        event["pathParameters"]["cid"] = Value::String(cid.to_owned());
    }
}

/// GIVEN one SNS delivery as the webhook's Lambda function URL receives it and as its HTTP API
/// route does (subscriptions made before the function URL), WHEN both reach the webhook, THEN
/// the first is stored and the second is its duplicate: one event, whichever route it took.
#[tokio::test]
async fn the_function_url_event_reaches_the_webhook_and_the_http_api_copy_is_a_duplicate() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let mut function_url: Value = serde_json::from_str(include_str!(
        "../../events/webhook/function-url-ses-bounce.json"
    ))
    .unwrap();
    let mut http_api: Value =
        serde_json::from_str(include_str!("../../events/webhook/ses-bounce.json")).unwrap();
    let envelope: Value = serde_json::from_str(function_url["body"].as_str().unwrap()).unwrap();
    let (cid, _) = h
        .proven_connection(&pid, &key, envelope["TopicArn"].as_str().unwrap())
        .await;
    aim_at(&mut function_url, &cid);
    aim_at(&mut http_api, &cid);
    let (status, body) = invoke(delivery_day_webhook(&h), &function_url.to_string()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("stored")),
        "{body}"
    );
    let (status, body) = invoke(delivery_day_webhook(&h), &http_api.to_string()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("duplicate")),
        "{body}"
    );
    assert_eq!(h.events(&pid, &key, "").await.len(), 1);
}

#[tokio::test]
async fn the_stack_callback_event_refuses_a_genuine_confirmation_of_a_foreign_topic() {
    let h = Harness::start().await;
    let lambda = aws_sdk_lambda::Client::new(&h.aws);
    let router = || {
        let app = stack_callback::App::from_config(&h.config, &h.aws, lambda.clone())
            .expect("make test configures the account id and the wiring function");
        finish(app.routes())
    };
    let event = include_str!("../../events/stack-callback/foreign-confirmation.json");
    // Amazon really signed it, for a topic that is not trackses' callback topic: nothing is
    // confirmed (the SubscribeURL is never visited) and the sender hears why.
    let (status, body) = invoke(router(), event).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("not from one of trackses' callback topics"),
        "{body}"
    );
    let mut tampered: Value = serde_json::from_str(event).unwrap();
    let body = tampered["body"]
        .as_str()
        .unwrap()
        .replace("chosen", "chosan");
    tampered["body"] = Value::String(body);
    // Tampered, it is refused the same way, before its signature (and certificate) is looked at:
    // the topic alone rules it out.
    let (status, body) = invoke(router(), &tampered.to_string()).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("not from one of trackses' callback topics"),
        "{body}"
    );
}

/// GIVEN the sample window of the table's stream (a stored Permanent bounce, in the window's
/// last invocation), WHEN `aggregate` handles it, and again as Lambda does when it retries a
/// window whose answer it lost, THEN the project counts the bounce once and suppresses its
/// recipient.
#[tokio::test]
async fn the_aggregate_window_event_counts_its_event_once_however_often_it_comes() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let mut event: Value =
        serde_json::from_str(include_str!("../../events/aggregate/window-final.json")).unwrap();
    let image = &mut event["Records"][0]["dynamodb"]["NewImage"];
    let pk = image["pk"]["S"]
        .as_str()
        .unwrap()
        .replace("prj_example", &pid);
    image["pk"]["S"] = Value::String(pk);
    image["o"]["N"] = Value::String(Utc::now().timestamp_millis().to_string());
    // A shard of its own, so that its window marks are this test's alone.
    event["shardId"] = Value::String(format!("shardId-{}", model::ids::random_hex(8)));
    let app = aggregate::App::from_config(&h.config, &h.aws);
    for _ in 0..2 {
        let window: aws_lambda_events::event::dynamodb::TimeWindowEvent =
            serde_json::from_value(event.clone()).unwrap();
        let answer = app.handle(window).await.unwrap();
        assert!(
            answer
                .time_window_event_response_properties
                .state
                .is_empty()
        );
    }
    let stats_path = format!("/v1/projects/{pid}/stats");
    let stats = counted(&h, &stats_path, &key, |s| s["totals"]["bounce"] == 1).await;
    assert_eq!(stats["totals"]["send"], 0);
    let suppressions = format!("/v1/projects/{pid}/suppressions");
    let listed = counted(&h, &suppressions, &key, |s| {
        s["items"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(
        listed["items"][0]["recipient"],
        "bounce@simulator.amazonses.com"
    );
    assert_eq!(listed["items"][0]["reason"], "bounce");
}

/// GIVEN the sample queue batch (a Bounce of a connected account, its sending paused, and a
/// message that is no EventBridge event), WHEN `ingest-eventbridge` handles it through the Lambda
/// Invoke API, and again as the queue delivers at least once, THEN the bounce is stored once,
/// the pause shows on the connection, and the poisoned message is refused without failing its
/// batch.
#[tokio::test]
async fn the_eventbridge_queue_batch_stores_once_and_refuses_its_poisoned_record() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    // The sample's account and set, made this run's own.
    let account = fresh_account("8100");
    let set = format!("trackses-{}", model::ids::random_hex(8));
    let batch = include_str!("../../events/ingest-eventbridge/batch.json")
        .replace("210987654321", &account)
        .replace("trackses-6f1d3c2e-8b7a-4c5d-9e0f-1a2b3c4d5e6f", &set);
    let cid = eventbridge_connection(&h, &pid, &account, &set).await;
    for _ in 0..2 {
        h.invoke_ingest_eventbridge(batch.clone()).await;
    }
    let bounces = h.events(&pid, &key, "type=bounce").await;
    assert_eq!(bounces.len(), 2, "{bounces:?}");
    assert!(bounces.iter().all(|e| e["connection_id"] == cid.as_str()));
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(
        connection["signals"]["sending"]["enabled"], false,
        "{connection}"
    );
}

/// GIVEN the sample stream batch (a stored bounce) and a project with an endpoint for bounces,
/// one for deliveries only and one paused, WHEN `forward` handles it, and again as Lambda does
/// when it retries a batch, THEN the bounce reaches the bounce endpoint (signed, with the
/// event's id both times, so its receiver can tell) and no other.
#[tokio::test]
async fn the_forward_stream_batch_becomes_a_delivery_for_each_endpoint_that_wants_it() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let bounces = Receiver::start(0).await;
    endpoint(&h, &pid, &key, &bounces, json!({"event_types": ["bounce"]})).await;
    let deliveries = Receiver::start(0).await;
    endpoint(
        &h,
        &pid,
        &key,
        &deliveries,
        json!({"event_types": ["delivery"]}),
    )
    .await;
    let paused = Receiver::start(0).await;
    let paused_id = endpoint(&h, &pid, &key, &paused, json!({})).await;
    let pause = format!("/v1/projects/{pid}/endpoints/{paused_id}/pause");
    assert_eq!(h.status(Method::POST, &pause, &key).await, 200);
    let batch = include_str!("../../events/forward/stream-batch.json").replace("prj_example", &pid);
    let app = forward::App::from_config(&h.config, &h.aws).unwrap();
    for _ in 0..2 {
        let event = serde_json::from_str(&batch).unwrap();
        let response = app.handle(event).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let got = bounces.settle(2).await;
    let ids: Vec<&str> = got.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["01KBH5Z2Q8J3M4N5P6R7S8T9V0"; 2]);
    assert_eq!(
        got[0].1["data"]["recipient"],
        "bounce@simulator.amazonses.com"
    );
    assert!(deliveries.accepted().is_empty());
    assert!(paused.accepted().is_empty());
}

/// GIVEN the sample deliveries batch (a delivery job, a replay page, and a message that is no
/// job) for an endpoint of a project, WHEN `deliver` handles it, THEN the event is POSTed,
/// signed, the replay page finds nothing to add, and the poisoned message is dropped without
/// failing its batch.
#[tokio::test]
async fn the_deliver_batch_posts_its_job_and_drops_its_poisoned_message() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let receiver = Receiver::start(0).await;
    let eid = endpoint(&h, &pid, &key, &receiver, json!({})).await;
    let batch = include_str!("../../events/deliver/batch.json")
        .replace("prj_example", &pid)
        .replace("ep_example", &eid);
    let app = deliver::App::from_config(&h.config, &h.aws).unwrap();
    let response = app.handle(&serde_json::from_str(&batch).unwrap()).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    let got = receiver.settle(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "01KBH5Z2Q8J3M4N5P6R7S8T9V0");
    assert_eq!(got[0].1["type"], "ses.bounce");
    assert_eq!(receiver.forged(), 0);
}

/// GIVEN the sample stream record of an opened alert, for a project with the rule's webhook
/// channel, WHEN `forward` handles it, THEN the channel is told, signed, once per delivery.
#[tokio::test]
async fn the_forward_alert_record_notifies_its_channel() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let receiver = Receiver::start(0).await;
    let channel_id = webhook_channel(&h, &pid, &key, &receiver).await;
    let record = include_str!("../../events/forward/alert-opened.json")
        .replace("prj_example", &pid)
        .replace("ch_example", &channel_id);
    let app = forward::App::from_config(&h.config, &h.aws).unwrap();
    let response = app.handle(serde_json::from_str(&record).unwrap()).await;
    assert!(response.batch_item_failures.is_empty());
    let got = receiver.settle(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "01KBH6A1B2C3D4E5F6G7H8J9K0.opened");
    assert_eq!(got[0].1["type"], "alert.opened");
    assert_eq!(receiver.forged(), 0);
}

/// GIVEN the sample mail batch (a channel's confirmation, a notification to it, and a message
/// that is no job) for an unconfirmed e-mail channel whose creation sent its confirmation,
/// WHEN `mail` handles it, THEN the address gets nothing more (one confirmation a day, and no
/// alert before it confirms), and nothing fails.
#[tokio::test]
async fn the_mail_batch_sends_only_the_confirmation_to_an_unconfirmed_address() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let address = format!("{}@ops.example.com", unique("sample"));
    let (status, created) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/alert-channels"),
            &key,
            Some(json!({"type": "email", "address": address})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let channel_id = created["channel"]["id"].as_str().unwrap();
    let batch = include_str!("../../events/mail/batch.json")
        .replace("prj_example", &pid)
        .replace("ch_example", channel_id);
    let app = mail::App::from_config(&h.config, &h.aws).unwrap();
    let response = app.handle(&serde_json::from_str(&batch).unwrap()).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    // The API's own confirmation only: the sample's is one too many today, and no alert.
    let sent = mail_to(&address, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent.iter().all(|m| m["subject"]
            .as_str()
            .unwrap()
            .contains("Confirm this address")),
        "{sent:?}"
    );
}

/// GIVEN the schedules' two sample inputs, WHEN `sweep` handles them, THEN each runs (with and
/// without the health checks) and fails nothing.
#[tokio::test]
async fn the_sweep_runs_on_both_schedules_inputs() {
    let h = Harness::start().await;
    let lambda = local::local_lambda(&h.aws, &h.api.base.parse().unwrap());
    let app = sweep::App::from_config(&h.config, &h.aws, lambda).unwrap();
    for input in [
        include_str!("../../events/sweep/every-minute.json"),
        include_str!("../../events/sweep/health.json"),
    ] {
        let swept = app
            .handle(&serde_json::from_str(input).unwrap())
            .await
            .unwrap();
        assert_eq!(swept.failed, 0, "{swept:?}");
    }
}
