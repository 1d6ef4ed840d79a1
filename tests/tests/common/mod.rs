//! A trackses instance on a free local port against the emulated AWS (`make test` starts it and
//! exports the SDK's standard `AWS_ENDPOINT_URL`), plus helpers that act as SNS and as a user.
//! `use common::*;` brings in these and the general helpers of the private submodules; what only
//! one group of test binaries shares stays in a public module of its own (`common::onboarding`, …).

#![allow(dead_code)]

mod capture;
mod customer;
mod logs;

pub mod automatic;
pub mod contract;
pub mod hand_fed;
pub mod onboarding;
pub mod receiver;
pub mod ses;

// As with `dead_code` above: every test binary uses some of these, none uses all.
#[allow(unused_imports)]
pub use self::{capture::*, customer::*, logs::*};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use ingest::direct::SnsLambdaEvent;
use local::customer::CustomerAccount;
use local::demo::ApiClient;
use local::eventbridge::{IngestBus, deploy_ingest_bus};
use local::forwarding::start_forwarding;
use local::queue::{OutboundQueues, POLLERS, QueueSource};
use local::stream::{StreamSettings, StreamSource};
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
    /// Every request the instance served, as (method, path): what a client really called.
    pub requests: Arc<Mutex<Vec<(String, String)>>>,
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

/// The table stream's consumer (`aggregate` and its event source mapping), once per test
/// process, as a deployment has one per stream (two would each count every event). It reads from
/// the stream's end at the first harness: what other processes stored is theirs. Returns once it
/// holds its position, so nothing a test writes after is missed.
fn consume_stream(config: &Config) {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        let config = config.clone();
        let (ready, positioned) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime for the consumer");
            runtime.block_on(async move {
                let aws = runtime::sdk_config();
                let settings = StreamSettings {
                    start: aws_sdk_dynamodbstreams::types::ShardIteratorType::Latest,
                    ..StreamSettings::local()
                };
                let source = StreamSource::connect(&aws, &config.table_name, settings)
                    .await
                    .expect("the emulated table has a stream");
                ready.send(()).ok();
                // Tests make rules right before the events that should count for them.
                let mut config = config;
                config.alert_rules_fresh_for = std::time::Duration::from_secs(1);
                let app = Arc::new(aggregate::App::from_config(&config, &aws));
                if let Err(e) = source.run(app).await {
                    eprintln!("the stream consumer stopped: {e}");
                }
            });
        });
        positioned.recv().expect("the stream consumer started");
    });
}

/// trackses' EventBridge entry point and `ingest-eventbridge` reading its queue, once per test
/// process, as a deployment has one: each process its own bus, so what its customer stacks
/// forward is consumed (and logged) by this process. Returns the bus and its queue.
pub fn eventbridge_ingest(config: &Config) -> &'static IngestBus {
    static BUS: std::sync::OnceLock<IngestBus> = std::sync::OnceLock::new();
    BUS.get_or_init(|| {
        let config = config.clone();
        let (ready, deployed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime for the consumer");
            runtime.block_on(async move {
                let aws = runtime::sdk_config();
                let name = unique("trackses-ses-events");
                let bus = deploy_ingest_bus(&aws, &name, &name)
                    .await
                    .expect("the EventBridge entry point deploys in the emulator");
                ready.send(bus.clone()).ok();
                let app = Arc::new(ingest_eventbridge::App::from_config(&config, &aws));
                QueueSource::new(&aws, bus.queue).run(app, POLLERS).await;
            });
        });
        deployed.recv().expect("the EventBridge consumer started")
    })
}

/// Forwarding (the deliveries queue, `forward` on the stream from its end, `deliver` on the
/// queue), once per test process like the stream's other consumer: an endpoint registered in
/// another process is that process's to deliver to. Retries wait a second, doubling; the first
/// harness's `config` says when they give up. Returns the queue.
pub fn forwarding(config: &Config) -> &'static OutboundQueues {
    static QUEUE: std::sync::OnceLock<OutboundQueues> = std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let mut config = config.clone();
        config.forward_first_retry = std::time::Duration::from_secs(1);
        let (ready, deployed) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("a runtime for the consumers");
            runtime.block_on(async move {
                let aws = runtime::sdk_config();
                let start = aws_sdk_dynamodbstreams::types::ShardIteratorType::Latest;
                let queue =
                    start_forwarding(&mut config, &aws, &unique("trackses-deliveries"), start)
                        .await
                        .expect("forwarding starts in the emulator");
                ready.send(queue).ok();
                std::future::pending::<()>().await;
            });
        });
        deployed.recv().expect("forwarding started")
    })
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
        config.event_bus_arn = Some(eventbridge_ingest(&config).bus_arn.clone());
        config.endpoints_on_loopback = true;
        adjust(&mut config);
        let queues = forwarding(&config);
        config.deliveries_queue_url = Some(queues.deliveries.url.clone());
        config.mail_queue_url = Some(queues.mail.url.clone());
        let aws = runtime::sdk_config();
        consume_stream(&config);
        let store = Store::connect(&config, &aws);
        let app = local::app_tuned(&config, &aws, &base.parse().unwrap(), tune)
            .await
            .expect("the configuration names a public URL");
        let requests: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let log = requests.clone();
        let app = app.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let entry = (
                    request.method().to_string(),
                    request.uri().path().to_owned(),
                );
                log.lock().unwrap().push(entry);
                next.run(request)
            },
        ));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Harness {
            api: ApiClient::new(base),
            requests,
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

    /// Only the status of a bodiless request: for checks where the answer's body says nothing more.
    pub async fn status(&self, method: Method, path: &str, token: &str) -> u16 {
        self.call(method, path, token, None).await.0
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
        self.invoke("ingest-sns", serde_json::to_string(event).unwrap())
            .await
    }

    /// Hands `ingest-eventbridge` a queue batch (an SQS event, as JSON) and asserts it reported
    /// no batch item failure.
    pub async fn invoke_ingest_eventbridge(&self, batch: String) {
        let answer = self.invoke("ingest-eventbridge", batch).await;
        assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    }

    async fn invoke(&self, function: &str, event: String) -> Value {
        reqwest::Client::new()
            .post(format!(
                "{}/2015-03-31/functions/{function}/invocations",
                self.api.base
            ))
            .body(event)
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

/// How far counters and suppressions may lag the events they follow on the local stack: the
/// stream consumer's window (`StreamSettings::local`, 2 s), its poll and its writes. The bound
/// the README states; `counted` holds every stats test to it.
pub const COUNTER_LAG: Duration = Duration::from_secs(5);

/// A read of `path` (stats or suppressions) once `ready` holds of it, which must happen within
/// `COUNTER_LAG` of the call.
pub async fn counted(h: &Harness, path: &str, key: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + COUNTER_LAG;
    loop {
        let (status, body) = h.call(Method::GET, path, key, None).await;
        assert_eq!(status, 200, "{body}");
        if ready(&body) {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} did not show the expected counts within {COUNTER_LAG:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
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

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &ids::random_hex(6))
}

/// A role connection of `pid` delivering through EventBridge from `account`'s set `set`, as its
/// stack and the wiring function leave it. Returns its id.
pub async fn eventbridge_connection(h: &Harness, pid: &str, account: &str, set: &str) -> String {
    local::eventbridge::routed_connection(&h.store, pid, account, REGION, set)
        .await
        .unwrap()
}
