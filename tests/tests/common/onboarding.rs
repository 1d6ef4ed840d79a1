//! Role mode's onboarding: a trackses instance with its own callback topic, the quick-create link,
//! and the emulator acting as CloudFormation.

use local::role_stack::{QuickCreate, deploy_callback_topic};
use model::ids;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Harness, REGION, eventually, unique};

/// The emulator's base URL, as `make test` exports it.
pub fn emulator() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap()
}

/// A trackses instance with its own callback topic (deployed from callback-topic.yaml and
/// confirmed by the instance itself), so tests do not share one.
pub async fn harness() -> (Harness, String) {
    let topic = unique("trackses-cb");
    let name = topic.clone();
    let h = Harness::start_with(|config| config.callback_topic = name).await;
    let base = h.api.base.clone();
    let arn = deploy_callback_topic(
        &h.aws,
        REGION,
        &topic,
        &format!("{base}/v1/hooks/cloudformation"),
    )
    .await
    .unwrap();
    let sns = aws_sdk_sns::Client::new(&h.aws);
    eventually("the callback subscription confirmed", || async {
        let subs = sns
            .list_subscriptions_by_topic()
            .topic_arn(&arn)
            .send()
            .await
            .unwrap();
        subs.subscriptions()
            .iter()
            .any(|s| s.subscription_arn().is_some_and(|a| a.starts_with("arn:")))
            .then_some(())
    })
    .await;
    (h, arn)
}

/// A quick-create link of the project for [`REGION`], for a stack delivering through SNS: the
/// API's answer, and the link parsed.
pub async fn link(h: &Harness, pid: &str, key: &str) -> (Value, QuickCreate) {
    link_for(h, pid, key, "sns").await
}

/// A quick-create link for a stack delivering through `delivery` (`eventbridge` or `sns`).
pub async fn link_for(h: &Harness, pid: &str, key: &str, delivery: &str) -> (Value, QuickCreate) {
    let (status, body) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/onboarding/role?region={REGION}&delivery={delivery}"),
            key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let parsed = QuickCreate::parse(body["quick_create_url"].as_str().unwrap()).unwrap();
    (body, parsed)
}

/// The project's connections, as its key lists them.
pub async fn connections(h: &Harness, pid: &str, key: &str) -> Value {
    let path = format!("/v1/projects/{pid}/connections");
    let (status, listed) = h.call(Method::GET, &path, key, None).await;
    assert_eq!(status, 200, "{listed}");
    listed["items"].clone()
}

/// Every answer the emulated CloudFormation recorded for a custom resource's request.
pub async fn answers() -> Vec<Value> {
    reqwest::get(format!("{}/_trackses/cloudformation/responses", emulator()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Acts as CloudFormation with a sample request (`events/cloudformation/<name>.json`), adjusted
/// by `adjust`, published to `callback_arn`; returns the recorded answer.
pub async fn send_request(
    name: &str,
    callback_arn: &str,
    adjust: impl FnOnce(&mut Value),
) -> Value {
    let path = format!(
        "{}/../events/cloudformation/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut request: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let request_id = ids::random_hex(16);
    request["RequestId"] = json!(request_id);
    request["ServiceToken"] = json!(callback_arn);
    request["ResourceProperties"]["ServiceToken"] = json!(callback_arn);
    adjust(&mut request);
    reqwest::Client::new()
        .post(format!("{}/_trackses/cloudformation/requests", emulator()))
        .json(&request)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let answer = eventually("the request answered", || async {
        answers()
            .await
            .into_iter()
            .find(|a| a["request_id"] == request_id.as_str())
    })
    .await;
    assert_eq!(answer["problem"], Value::Null, "{answer}");
    answer["response"].clone()
}
