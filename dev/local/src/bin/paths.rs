//! `make bench`'s comparison of the two ways a customer account's SES events reach trackses,
//! end to end on the local stack: mail sent through the emulated SES of one account delivering
//! through SNS to the webhook, and of another through its default EventBridge bus, trackses' bus
//! and queue to `ingest-eventbridge`. For each it prints the latency from `SendEmail` to the
//! event readable through the API (p50, p99) and what DynamoDB would bill per stored event,
//! every write included (the stream consumer's counters once they took the events). Needs the
//! emulator (`make bench` starts it).
//!
//! Env: TRACKSES_PATHS_EMAILS (40 per path).

use std::sync::Arc;
use std::time::{Duration, Instant};

use local::customer::CustomerAccount;
use local::demo::{ApiClient, wait_until_active};
use local::eventbridge::{deploy_ingest_bus, routed_connection};
use local::queue::{POLLERS, QueueSource};
use model::ids;
use reqwest::Method;
use runtime::{Config, sdk_config};
use serde_json::{Value, json};
use store::Store;

type Error = Box<dyn std::error::Error>;

const SNS_ACCOUNT: &str = "555555555551";
const EVENTBRIDGE_ACCOUNT: &str = "555555555552";
/// Each mail to the simulator's success address is a Send and a Delivery.
const EVENTS_PER_MAIL: usize = 2;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let emails: usize = std::env::var("TRACKSES_PATHS_EMAILS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let stack = Stack::start().await?;
    let (pid, key) = stack.project().await?;
    let suffix = ids::random_hex(4);

    let sns = CustomerAccount::assume(&stack.aws, SNS_ACCOUNT, &stack.region).await?;
    let sns_sender = format!("sns-{suffix}@paths.trackses.test");
    stack
        .connect_sns(&pid, &key, &sns, &sns_sender, &suffix)
        .await?;

    let eventbridge =
        CustomerAccount::assume(&stack.aws, EVENTBRIDGE_ACCOUNT, &stack.region).await?;
    let eventbridge_sender = format!("eb-{suffix}@paths.trackses.test");
    stack
        .connect_eventbridge(&pid, &eventbridge, &eventbridge_sender, &suffix)
        .await?;

    for (path, customer, sender) in [
        ("SNS → webhook", &sns, &sns_sender),
        ("EventBridge → queue", &eventbridge, &eventbridge_sender),
    ] {
        let before = stack.write_units().await?;
        let mut latencies = Vec::with_capacity(emails);
        for n in 0..emails {
            let sent = Instant::now();
            let message_id = customer
                .send_email(
                    sender,
                    &["success@simulator.amazonses.com"],
                    &format!("Paths #{n}"),
                )
                .await?;
            stack.stored(&pid, &key, &message_id).await?;
            latencies.push(sent.elapsed());
        }
        stack.counted(&pid, &key, customer, emails).await?;
        let units = stack.write_units().await? - before;
        latencies.sort();
        println!(
            "paths: {path}: SendEmail to readable in the API p50 {:?}, p99 {:?} ({emails} mails, one at a time); {:.2} DynamoDB write units per stored event, every write included",
            latencies[latencies.len() / 2],
            latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)],
            units / (emails * EVENTS_PER_MAIL) as f64,
        );
    }
    Ok(())
}

/// The functions on a free local port, with the stream consumer and trackses' EventBridge entry
/// point and queue consumer, as `make dev` runs them.
struct Stack {
    api: ApiClient,
    admin_token: String,
    aws: aws_types::SdkConfig,
    region: String,
    store: Store,
    bus_arn: String,
    table: String,
}

impl Stack {
    async fn start() -> Result<Stack, Error> {
        let mut config = Config::from_env()?;
        let aws = sdk_config();
        let name = format!("trackses-paths-{}", ids::random_hex(4));
        let bus = deploy_ingest_bus(&aws, &name, &name).await?;
        config.event_bus_arn = Some(bus.bus_arn.clone());
        let (api, admin_token, _) = local::serve_for_bench(config.clone(), &aws).await?;
        let bus_arn = bus.bus_arn.clone();
        let ingest = Arc::new(ingest_eventbridge::App::from_config(&config, &aws));
        tokio::spawn(QueueSource::new(&aws, bus.queue).run(ingest, POLLERS));
        Ok(Stack {
            api,
            admin_token,
            region: aws.region().map(|r| r.to_string()).unwrap_or_default(),
            store: Store::connect(&config, &aws),
            table: config.table_name.clone(),
            aws,
            bus_arn,
        })
    }

    async fn project(&self) -> Result<(String, String), Error> {
        let (_, created) = self
            .api
            .call(
                Method::POST,
                "/v1/projects",
                &self.admin_token,
                Some(json!({"name": "paths"})),
            )
            .await?;
        let pid = created["project"]["id"]
            .as_str()
            .ok_or("no project id")?
            .to_owned();
        let key = created["api_key"].as_str().ok_or("no API key")?.to_owned();
        Ok((pid, key))
    }

    /// A share-nothing connection: the customer's own topic and set, the webhook subscribed.
    async fn connect_sns(
        &self,
        pid: &str,
        key: &str,
        customer: &CustomerAccount,
        sender: &str,
        suffix: &str,
    ) -> Result<(), Error> {
        let topic = customer
            .create_topic(&format!("paths-{suffix}"), "2")
            .await?;
        customer
            .publish_ses_events_to(sender, &format!("paths-{suffix}"), &topic)
            .await?;
        let (cid, webhook_url) = self.api.connect_manual(pid, key, &topic).await?;
        customer.subscribe_https(&topic, &webhook_url).await?;
        let path = format!("/v1/projects/{pid}/connections/{cid}");
        Ok(wait_until_active(&self.api, &path, key).await?)
    }

    /// What the customer stack and the wiring function leave: the account forwarding the set's
    /// events to trackses' bus, and the set routed to a connection of the project.
    async fn connect_eventbridge(
        &self,
        pid: &str,
        customer: &CustomerAccount,
        sender: &str,
        suffix: &str,
    ) -> Result<(), Error> {
        let set = format!("trackses-paths-{suffix}");
        customer.create_identity(sender).await?;
        customer
            .forward_ses_events(&set, sender, &self.bus_arn)
            .await?;
        routed_connection(&self.store, pid, &customer.account_id, &self.region, &set).await?;
        Ok(())
    }

    /// Until the message's Delivery is readable through the API.
    async fn stored(&self, pid: &str, key: &str, message_id: &str) -> Result<(), Error> {
        let path = format!("/v1/projects/{pid}/events?message_id={message_id}&type=delivery");
        self.until(|| async {
            let (_, found) = self.api.call(Method::GET, &path, key, None).await?;
            Ok(found["items"]
                .as_array()
                .is_some_and(|items| !items.is_empty()))
        })
        .await
    }

    /// Until the project's counters took every mail of this customer's connection so far.
    async fn counted(
        &self,
        pid: &str,
        key: &str,
        customer: &CustomerAccount,
        emails: usize,
    ) -> Result<(), Error> {
        let (_, connections) = self
            .api
            .call(
                Method::GET,
                &format!("/v1/projects/{pid}/connections"),
                key,
                None,
            )
            .await?;
        let cid = connections["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|c| c["account_id"] == customer.account_id.as_str())
            })
            .and_then(|c| c["id"].as_str())
            .ok_or("no connection of the customer")?
            .to_owned();
        let path = format!("/v1/projects/{pid}/stats?connection_id={cid}");
        self.until(|| async {
            let (_, stats) = self.api.call(Method::GET, &path, key, None).await?;
            Ok(stats["totals"]["delivery"].as_u64() == Some(emails as u64))
        })
        .await
    }

    async fn write_units(&self) -> Result<f64, Error> {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")?;
        let meter: Value = reqwest::get(format!("{endpoint}/_trackses/dynamodb/capacity"))
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(meter["tables"][&self.table]["write_units"]
            .as_f64()
            .unwrap_or_default())
    }

    /// Polls `done` every 5 ms for up to 30 s.
    async fn until<F, Fut>(&self, mut done: F) -> Result<(), Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, String>>,
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if done().await? {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Err("timed out".into())
    }
}
