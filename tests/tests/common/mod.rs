//! A trackses instance on a free local port against the emulated AWS (`make test` starts it and
//! exports the SDK's standard `AWS_ENDPOINT_URL`), plus helpers that act as SNS and as a user.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use axum::body::Bytes;
use axum::routing::post;
use ingest::direct::SnsLambdaEvent;
use local::customer::CustomerAccount;
use local::demo::ApiClient;
use model::connection::Transition;
use model::ids;
use reqwest::Method;
use runtime::Config;
use serde_json::{Value, json};
use store::Store;
use wiring::Wiring;

pub const CUSTOMER: &str = "222222222222";
pub const FOREIGN: &str = "333333333333";
pub const REGION: &str = "eu-west-1";
/// trackses' own account in the emulator (the default credentials').
pub const TRACKSES_ACCOUNT: &str = "123456789012";

pub struct Harness {
    pub api: ApiClient,
    pub admin_token: String,
    pub aws: SdkConfig,
    pub store: Store,
    pub config: Config,
}

pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Harness {
        Self::start_tuned(adjust, |wiring| wiring).await
    }

    /// A harness whose wiring function `tune` adjusts (e.g. its teardown budget).
    pub async fn start_tuned(
        adjust: impl FnOnce(&mut Config),
        tune: impl FnOnce(Wiring) -> Wiring,
    ) -> Harness {
        let mut config = Config::from_env()
            .expect("run integration tests through `make test`, which sets up the emulator");
        let admin_token = ids::random_hex(16);
        config.admin_token = Some(admin_token.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        config.public_url = Some(base.parse().unwrap());
        adjust(&mut config);
        let aws = runtime::sdk_config();
        let store = Store::connect(&config, &aws);
        let app = local::app_tuned(&config, &aws, tune)
            .await
            .expect("the configuration names a public URL");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Harness {
            api: ApiClient::new(base),
            admin_token,
            aws,
            store,
            config,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.api
            .call(method, path, token, body)
            .await
            .expect("the API answers")
    }

    /// A new project; returns (project id, API key).
    pub async fn project(&self) -> (String, String) {
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/projects",
                &self.admin_token,
                Some(json!({"name": "test"})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["project"]["id"].as_str().unwrap().to_owned(),
            body["api_key"].as_str().unwrap().to_owned(),
        )
    }

    /// A manual connection for `topic_arn`; returns (connection id, webhook URL).
    pub async fn connection(&self, pid: &str, key: &str, topic_arn: &str) -> (String, String) {
        let created = self.register_topic(pid, key, topic_arn).await;
        (
            created["id"].as_str().unwrap().to_owned(),
            created["webhook_url"].as_str().unwrap().to_owned(),
        )
    }

    /// What `POST …/connections` answers for a manual connection of `topic_arn`.
    pub async fn register_topic(&self, pid: &str, key: &str, topic_arn: &str) -> Value {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/v1/projects/{pid}/connections"),
                key,
                Some(json!({"mode": "manual", "topic_arn": topic_arn})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// A manual connection whose topic counts as proven and routed, as its published topic
    /// proof would make it: for tests that feed the webhook or `ingest-sns` by hand with captured
    /// signed bodies. (The proofs themselves are tested through their entry points.)
    pub async fn proven_connection(
        &self,
        pid: &str,
        key: &str,
        topic_arn: &str,
    ) -> (String, String) {
        let (cid, webhook_url) = self.connection(pid, key, topic_arn).await;
        let connection = self.store.get_connection(&cid).await.unwrap().unwrap();
        let now = chrono::Utc::now();
        self.store.prove_topic(&connection, now).await.unwrap();
        self.store.route_topic(&connection).await.unwrap();
        self.store
            .transition(&cid, Transition::Proven, None, now)
            .await
            .unwrap();
        (cid, webhook_url)
    }

    /// Hands `ingest-sns` a Lambda event, through the Lambda Invoke path the runner serves.
    pub async fn invoke_ingest_sns(&self, event: &SnsLambdaEvent) -> Value {
        reqwest::Client::new()
            .post(format!(
                "{}/2015-03-31/functions/ingest-sns/invocations",
                self.api.base
            ))
            .json(event)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until the connection reaches `status` (SNS confirms subscriptions asynchronously).
    pub async fn wait_status(&self, pid: &str, key: &str, cid: &str, status: &str) {
        eventually(status, || async {
            let (_, c) = self
                .call(
                    Method::GET,
                    &format!("/v1/projects/{pid}/connections/{cid}"),
                    key,
                    None,
                )
                .await;
            (c["status"] == status).then_some(())
        })
        .await
    }

    /// A customer topic registered as a manual connection, with the webhook subscribed and the
    /// subscription confirmed: returns (topic ARN, connection id, webhook URL).
    pub async fn live_connection(
        &self,
        pid: &str,
        key: &str,
        customer: &CustomerAccount,
        topic_prefix: &str,
        signature_version: &str,
    ) -> (String, String, String) {
        let topic = customer
            .create_topic(&unique(topic_prefix), signature_version)
            .await
            .unwrap();
        let (cid, webhook_url) = self.connection(pid, key, &topic).await;
        customer
            .subscribe_https(&topic, &webhook_url)
            .await
            .unwrap();
        self.wait_status(pid, key, &cid, "active").await;
        (topic, cid, webhook_url)
    }

    /// A raw DynamoDB client, for what a user cannot see through the API.
    pub fn store_client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.aws)
    }

    pub async fn customer(&self, account: &str) -> CustomerAccount {
        CustomerAccount::assume(&self.aws, account, REGION)
            .await
            .expect("assume a role in the emulated account")
    }

    pub async fn events(&self, pid: &str, key: &str, query: &str) -> Vec<Value> {
        let (status, body) = self
            .call(
                Method::GET,
                &format!("/v1/projects/{pid}/events?{query}"),
                key,
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["items"].as_array().unwrap().clone()
    }

    /// Waits until `query` finds exactly `count` events of the project, and returns them.
    pub async fn wait_events(&self, pid: &str, key: &str, query: &str, count: usize) -> Vec<Value> {
        eventually(&format!("{count} events for {query:?}"), || async {
            let events = self.events(pid, key, query).await;
            (events.len() == count).then_some(events)
        })
        .await
    }

    /// Points the emulator's `lambda` subscriptions at this harness's Lambda Invoke path and
    /// subscribes `ingest-sns` to `topic`, as a customer of the direct path does.
    pub async fn subscribe_ingest_sns(&self, customer: &CustomerAccount, topic: &str) {
        let emulator = std::env::var("AWS_ENDPOINT_URL").unwrap();
        reqwest::Client::new()
            .post(format!("{emulator}/_trackses/lambda-endpoint"))
            .json(&json!({"url": self.api.base}))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        customer
            .sns
            .subscribe()
            .topic_arn(topic)
            .protocol("lambda")
            .endpoint(format!(
                "arn:aws:lambda:{REGION}:{TRACKSES_ACCOUNT}:function:ingest-sns"
            ))
            .send()
            .await
            .unwrap();
    }

    /// The project's external id, as an admin key reads it.
    pub async fn external_id(&self, pid: &str, key: &str) -> String {
        let (status, project) = self
            .call(Method::GET, &format!("/v1/projects/{pid}"), key, None)
            .await;
        assert_eq!(status, 200, "{project}");
        project["external_id"].as_str().unwrap().to_owned()
    }

    pub async fn post_webhook(&self, url: &str, body: &[u8]) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "text/plain; charset=UTF-8")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let value: Value =
            serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
        if status >= 400 {
            assert_eq!(content_type.as_deref(), Some("application/problem+json"));
        }
        (status, value)
    }
}

/// Polls `check` until it returns Some, for up to 10 s.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..100 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// An HTTP endpoint that subscribes like a well-behaved SNS consumer and keeps every signed
/// body SNS posts, so tests can replay, reorder and tamper with real signed messages.
pub struct Capture {
    pub url: String,
    bodies: Arc<Mutex<Vec<Bytes>>>,
}

impl Capture {
    pub async fn subscribe(customer: &CustomerAccount, topic_arn: &str) -> Capture {
        let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
        let kept = bodies.clone();
        let app = axum::Router::new().route(
            "/",
            post(move |body: Bytes| async move {
                kept.lock().unwrap().push(body);
            }),
        );
        let url = format!("{}/", serve(app).await);
        customer.subscribe_https(topic_arn, &url).await.unwrap();
        let capture = Capture { url, bodies };
        let confirmation = capture.next_of_type("SubscriptionConfirmation").await;
        let subscribe_url = confirmation["SubscribeURL"].as_str().unwrap().to_owned();
        reqwest::get(subscribe_url)
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        capture
    }

    pub fn take(&self) -> Vec<Bytes> {
        std::mem::take(&mut *self.bodies.lock().unwrap())
    }

    pub async fn next_of_type(&self, message_type: &str) -> Value {
        eventually(message_type, || async {
            let mut bodies = self.bodies.lock().unwrap();
            let index = bodies.iter().position(|b| {
                serde_json::from_slice::<Value>(b).unwrap()["Type"] == message_type
            })?;
            Some(serde_json::from_slice(&bodies.remove(index)).unwrap())
        })
        .await
    }

    /// Publishes each document and returns the signed envelopes SNS delivered, in order.
    pub async fn signed(
        &self,
        customer: &CustomerAccount,
        topic_arn: &str,
        documents: &[String],
    ) -> Vec<Bytes> {
        for document in documents {
            customer
                .publish_ses_event(topic_arn, document)
                .await
                .unwrap();
        }
        let want = documents.len();
        eventually("signed notifications", || async {
            let bodies = self.bodies.lock().unwrap();
            (bodies.len() >= want).then(|| bodies.clone())
        })
        .await;
        self.take()
    }
}

/// Captures every log line the service writes while it runs on this test's thread.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Every log line of this test process from now on, through the services' own filter at
    /// DEBUG. Process-wide: a thread-local subscriber misses events whose callsite interest
    /// another test thread cached first.
    pub fn global() -> &'static LogCapture {
        static CAPTURE: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
        CAPTURE.get_or_init(|| {
            let logs = LogCapture::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter(runtime::log_filter("debug"))
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other test installs a global subscriber");
            logs
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &ids::random_hex(6))
}

/// A customer account no other test uses: `prefix` (four digits) and eight random ones.
pub fn fresh_account(prefix: &str) -> String {
    let digits: String = ids::random_hex(4)
        .bytes()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    format!("{prefix}{digits}")
}

/// A role named `name` in `customer` trusting trackses' account under `external_id`, as the
/// customer template makes it.
pub async fn trusting_role(customer: &CustomerAccount, name: &str, external_id: &str) -> String {
    role_trusting_trackses(
        customer,
        name,
        Some(json!({"StringEquals": {"sts:ExternalId": external_id}})),
    )
    .await
}

/// A role trusting trackses' account under `condition`, or under none: the hand-written trust
/// policy that makes any trackses project a confused deputy.
pub async fn role_trusting_trackses(
    customer: &CustomerAccount,
    name: &str,
    condition: Option<Value>,
) -> String {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{TRACKSES_ACCOUNT}:root")},
        "Action": "sts:AssumeRole",
    });
    if let Some(condition) = condition {
        statement["Condition"] = condition;
    }
    let trust = json!({"Version": "2012-10-17", "Statement": [statement]});
    let arn = customer
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn;
    // What the role may do once assumed: the published policy, as the customer template grants.
    customer
        .iam
        .put_role_policy()
        .role_name(name)
        .policy_name("trackses")
        .policy_document(local::customer::TRACKSES_POLICY)
        .send()
        .await
        .unwrap();
    arn
}

/// What trackses must leave as it found it: topics, subscriptions, configuration sets and each
/// identity's configuration set.
pub async fn snapshot(customer: &CustomerAccount) -> BTreeMap<String, String> {
    let mut state = BTreeMap::new();
    for topic in customer.sns.list_topics().send().await.unwrap().topics() {
        state.insert(
            format!("topic {}", topic.topic_arn().unwrap()),
            String::new(),
        );
    }
    for sub in customer
        .sns
        .list_subscriptions()
        .send()
        .await
        .unwrap()
        .subscriptions()
    {
        state.insert(
            format!("subscription {}", sub.topic_arn().unwrap()),
            sub.endpoint().unwrap_or_default().to_owned(),
        );
    }
    for set in customer
        .ses
        .list_configuration_sets()
        .send()
        .await
        .unwrap()
        .configuration_sets()
    {
        state.insert(format!("set {set}"), String::new());
    }
    let identities = customer.ses.list_email_identities().send().await.unwrap();
    for identity in identities.email_identities() {
        let name = identity.identity_name().unwrap();
        let detail = customer
            .ses
            .get_email_identity()
            .email_identity(name)
            .send()
            .await
            .unwrap();
        state.insert(
            format!("identity {name}"),
            detail
                .configuration_set_name()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    state
}

/// Wraps SNS HTTP envelopes into the Lambda event: same fields, Lambda's spellings.
pub fn lambda_event(bodies: &[&[u8]]) -> SnsLambdaEvent {
    let records: Vec<Value> = bodies
        .iter()
        .map(|body| {
            let mut sns: Value = serde_json::from_slice(body).unwrap();
            let object = sns.as_object_mut().unwrap();
            let cert = object.remove("SigningCertURL").unwrap();
            object.insert("SigningCertUrl".into(), cert);
            let unsubscribe = object.remove("UnsubscribeURL").unwrap_or(json!(""));
            object.insert("UnsubscribeUrl".into(), unsubscribe);
            json!({"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": "arn:aws:sns:eu-west-1:222222222222:t:1", "Sns": sns})
        })
        .collect();
    serde_json::from_value(json!({"Records": records})).unwrap()
}
