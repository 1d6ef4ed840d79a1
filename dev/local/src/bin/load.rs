//! `make bench`'s load test of the local stack: N signed SES notifications (really signed by the
//! emulated SNS), each delivered 3 times, shuffled, by 12 concurrent senders to the webhook, as
//! SNS would retry them. It prints throughput and latency, checks that the events and `/stats`
//! totals equal a once-each reference (the stream consumer runs as `make dev` runs it), and
//! prints what DynamoDB would bill per event, every write included. Needs the emulator (`make
//! bench` starts it).
//!
//! Env: TRACKSES_LOAD_NOTIFICATIONS (1000), TRACKSES_LOAD_COPIES (3), TRACKSES_LOAD_SENDERS (12).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use futures_util::StreamExt;
use local::customer::CustomerAccount;
use local::demo::{ApiClient, wait_until_active};
use local::ses_traffic::{Mail, event_json};
use model::{EventType, ids};
use reqwest::Method;
use runtime::{Config, sdk_config};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error>;

/// The event types a notification carries, in turn: one recipient each, so a notification is
/// one stored event.
const TYPES: [EventType; 6] = [
    EventType::Send,
    EventType::Delivery,
    EventType::Open,
    EventType::Click,
    EventType::Bounce,
    EventType::Complaint,
];
const CUSTOMER: &str = "444444444444";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let notifications = setting("TRACKSES_LOAD_NOTIFICATIONS", 1000);
    let copies = setting("TRACKSES_LOAD_COPIES", 3);
    let senders = setting("TRACKSES_LOAD_SENDERS", 12);

    let aws = sdk_config();
    let (api, admin_token, queues) = local::serve_for_bench(Config::from_env()?, &aws).await?;
    let customer = CustomerAccount::assume(&aws, CUSTOMER, &region(&aws)).await?;
    let client = reqwest::Client::new();
    let meter = Meter {
        client: client.clone(),
        table: std::env::var("TRACKSES_TABLE")?,
    };

    // What one event costs, and one copy of it, each delivery alone: every write included, the
    // stream consumer's counters and suppressions too (measured once it has counted them).
    let feed = Feed::new(&api, &admin_token, &customer).await?;
    let (signed, reference) = feed.publish(COST_SAMPLE).await?;
    let mut per_event = Vec::new();
    for _ in 0..2 {
        let before = meter.write_units().await?;
        for body in &signed {
            deliver(&client, &feed.webhook_url, body.clone()).await?;
        }
        feed.counted(&reference).await?;
        per_event.push((meter.write_units().await? - before) / COST_SAMPLE as f64);
    }
    println!(
        "load: {:.2} DynamoDB write units per stored single-recipient event, every write included (before this design: {BEFORE_PER_EVENT}); {:.2} per redelivered copy (before: {BEFORE_PER_COPY}). The emulator's meter, AWS's billing rules; {COST_SAMPLE} events of {} types, a third of them suppressions, each delivered alone",
        per_event[0],
        per_event[1],
        TYPES.len(),
    );

    // The load: every notification `copies` times, shuffled, `senders` at a time.
    let feed = Feed::new(&api, &admin_token, &customer).await?;
    let (signed, reference) = feed.publish(notifications).await?;
    let mut deliveries: Vec<Bytes> = (0..copies).flat_map(|_| signed.iter().cloned()).collect();
    fastrand::shuffle(&mut deliveries);
    let started = Instant::now();
    let mut latencies: Vec<Duration> = futures_util::stream::iter(deliveries)
        .map(|body| deliver(&client, &feed.webhook_url, body))
        .buffer_unordered(senders)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let elapsed = started.elapsed();
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "load: {} deliveries ({notifications} notifications × {copies}, shuffled) by {senders} senders in {:.1} s: {:.0} deliveries/s; webhook latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(0.5).as_secs_f64() * 1e3,
        percentile(0.99).as_secs_f64() * 1e3,
        percentile(1.0).as_secs_f64() * 1e3,
    );

    let counted = feed.counted(&reference).await;
    let stored = feed.stored_events().await?;
    let totals = feed.stats_totals().await?;
    println!(
        "load: events stored by type {stored:?}; /stats totals {totals:?}; reference {reference:?}"
    );
    if stored != reference {
        return Err("the events differ from the once-each reference".into());
    }
    let lag = counted?;
    println!(
        "load: events and /stats totals equal the once-each reference; counters caught up {:.1} s after the last delivery",
        lag.as_secs_f64()
    );
    let outbound = Outbound {
        aws: &aws,
        queue_url: &queues.deliveries.url,
        api: &api,
        admin_token: &admin_token,
        customer: &customer,
        client: &client,
    };
    outbound.measure(notifications, senders).await
}

/// What the outbound phase works with.
struct Outbound<'a> {
    aws: &'a aws_types::SdkConfig,
    queue_url: &'a str,
    api: &'a ApiClient,
    admin_token: &'a str,
    customer: &'a CustomerAccount,
    client: &'a reqwest::Client,
}

/// Forwarding on the same stack: the load again (each notification once) into a project with
/// an endpoint, how soon the endpoint has every event and what ingest's latency is meanwhile; a
/// replay of them all, as fast as the endpoint takes them; and an alert, from the bounce that
/// crosses its rule to its delivery.
impl Outbound<'_> {
    async fn measure(&self, notifications: usize, senders: usize) -> Result<(), Error> {
        let Outbound {
            aws,
            queue_url,
            api,
            admin_token,
            customer,
            client,
        } = *self;
        let receiver = Counter::start().await?;
        let feed = Feed::new(api, admin_token, customer).await?;
        let base = format!("/v1/projects/{}", feed.pid);
        let endpoint = json!({"url": receiver.url});
        let (status, created) = api
            .call(
                Method::POST,
                &format!("{base}/endpoints"),
                &feed.key,
                Some(endpoint),
            )
            .await?;
        if status != 201 {
            return Err(format!("the endpoint was refused: {created}").into());
        }
        let eid = created["endpoint"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (signed, _) = feed.publish(notifications).await?;
        let started = Instant::now();
        let mut latencies: Vec<Duration> = futures_util::stream::iter(signed)
            .map(|body| deliver(client, &feed.webhook_url, body))
            .buffer_unordered(senders)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let stored = started.elapsed();
        latencies.sort();
        let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
        let lag = receiver.wait(notifications).await?;
        println!(
            "forward: {notifications} events stored in {:.1} s with an endpoint on the project (webhook latency p50 {:.0} ms, p99 {:.0} ms); the endpoint had each {:.1} s after the last was stored",
            stored.as_secs_f64(),
            percentile(0.5).as_secs_f64() * 1e3,
            percentile(0.99).as_secs_f64() * 1e3,
            lag.as_secs_f64(),
        );

        // A replay: every event again, the endpoint's deliveries alone.
        receiver.reset();
        let from = chrono::Utc::now() - chrono::TimeDelta::minutes(10);
        let replayed = Instant::now();
        let (status, answer) = api
            .call(
                Method::POST,
                &format!("{base}/endpoints/{eid}/replay"),
                &feed.key,
                Some(json!({"from": from})),
            )
            .await?;
        if status != 202 {
            return Err(format!("the replay was refused: {answer}").into());
        }
        receiver.wait(notifications).await?;
        let took = replayed.elapsed();
        println!(
            "forward: a replay of {notifications} events reached the endpoint in {:.1} s: {:.0} events/s to one endpoint",
            took.as_secs_f64(),
            notifications as f64 / took.as_secs_f64(),
        );

        // The deliverer alone: jobs of 25 events put straight on the queue, as `forward` puts them,
        // and how fast one endpoint gets them.
        receiver.reset();
        let queue = forwarding::JobQueue::new(aws_sdk_sqs::Client::new(aws), queue_url);
        let events = stored_events_of(api, &feed).await?;
        let jobs = forwarding::Job::deliveries(
            &feed.pid,
            &eid,
            chrono::Utc::now(),
            events.iter().cloned(),
        );
        let queued = Instant::now();
        let taken = queue.send(&jobs).await;
        if taken.iter().any(|ok| !ok) {
            return Err("the jobs were not all queued".into());
        }
        receiver.wait(events.len()).await?;
        let took = queued.elapsed();
        println!(
            "forward: {} events queued as {} jobs reached one endpoint in {:.1} s: {:.0} events/s (deliver's side alone)",
            events.len(),
            jobs.len(),
            took.as_secs_f64(),
            events.len() as f64 / took.as_secs_f64(),
        );

        // An alert: a rule one permanent bounce crosses, told to the same receiver.
        let channel = json!({"type": "webhook", "url": receiver.url});
        let (_, created) = api
            .call(
                Method::POST,
                &format!("{base}/alert-channels"),
                &feed.key,
                Some(channel),
            )
            .await?;
        let rule = json!({
            "name": "Any hard bounce",
            "condition": {"kind": "burst", "of": "bounces", "count": 1, "minutes": 5},
            "channel_ids": [created["channel"]["id"]],
        });
        api.call(
            Method::POST,
            &format!("{base}/alert-rules"),
            &feed.key,
            Some(rule),
        )
        .await?;
        // aggregate reads a project's rules again at most this long after it last did.
        tokio::time::sleep(Duration::from_secs(31)).await;
        receiver.reset();
        let recipient = format!("crossing-{}@example.com", ids::random_hex(4));
        let mail = Mail::new(vec![recipient.clone()], "Load", "load");
        let document = event_json(EventType::Bounce, &mail, &[recipient], chrono::Utc::now());
        customer.publish_ses_event(&feed.topic, &document).await?;
        let body = feed
            .capture
            .notifications(notifications + 1)
            .await?
            .pop()
            .ok_or("no bounce")?;
        let crossing = Instant::now();
        deliver(client, &feed.webhook_url, body).await?;
        let latency = receiver.alert().await?;
        println!(
            "alert: the bounce that crossed the rule was stored, and its alert.opened reached the channel {:.1} s later (local windows of 2 s; deployed, CounterWindowSeconds 10 adds 8 s at most); the sweep, every minute, only resolves",
            (latency - crossing).as_secs_f64(),
        );
        Ok(())
    }
}

/// Every event of the feed's project, as the API shows it.
async fn stored_events_of(
    api: &ApiClient,
    feed: &Feed<'_>,
) -> Result<Vec<model::StoredEvent>, Error> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/projects/{}/events?limit=200", feed.pid);
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let (_, page) = api.call(Method::GET, &path, &feed.key, None).await?;
        for event in page["items"].as_array().ok_or("no items")? {
            events.push(serde_json::from_value(event.clone())?);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(events),
        }
    }
}

/// An endpoint that takes everything and counts it: when it had how many event ids, and when
/// an alert opened.
#[derive(Clone, Default)]
struct Counter {
    url: String,
    seen: Arc<Mutex<(std::collections::HashSet<String>, Option<Instant>)>>,
}

impl Counter {
    async fn start() -> Result<Counter, Error> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let counter = Counter {
            url: format!("http://{}/hook", listener.local_addr()?),
            ..Counter::default()
        };
        let seen = counter.seen.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(move |headers: axum::http::HeaderMap, body: Bytes| {
                let seen = seen.clone();
                async move {
                    let id = headers
                        .get("webhook-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    if body.starts_with(br#"{"type":"alert.opened""#) {
                        seen.1.get_or_insert_with(Instant::now);
                    } else {
                        seen.0.insert(id.to_owned());
                    }
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(counter)
    }

    fn reset(&self) {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
    }

    /// Waits (up to two minutes) until `count` distinct events arrived; how long since the
    /// call.
    async fn wait(&self, count: usize) -> Result<Duration, Error> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if self.seen.lock().unwrap_or_else(|e| e.into_inner()).0.len() >= count {
                return Ok(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!(
            "the endpoint had {} of {count} events after two minutes",
            self.seen.lock().unwrap_or_else(|e| e.into_inner()).0.len()
        )
        .into())
    }

    /// When the first alert opened (waiting up to a minute).
    async fn alert(&self) -> Result<Instant, Error> {
        for _ in 0..3000 {
            if let Some(at) = self.seen.lock().unwrap_or_else(|e| e.into_inner()).1 {
                return Ok(at);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("no alert within a minute".into())
    }
}

/// What the same command measured on the design before this one (a transaction of marker,
/// message, event, recipient state and four counters per notification), at commit 96b606a.
const BEFORE_PER_EVENT: f64 = 22.67;
const BEFORE_PER_COPY: f64 = 16.67;

/// Counters follow the events a window behind; past this, they are wrong, not late.
const COUNTER_LAG: Duration = Duration::from_secs(5);

/// How many events the cost of one is measured over.
const COST_SAMPLE: usize = 60;

/// The emulator's DynamoDB capacity meter, which bills by AWS's documented rules.
struct Meter {
    client: reqwest::Client,
    table: String,
}

impl Meter {
    /// What the table (and its indexes) would have been billed in write units so far.
    async fn write_units(&self) -> Result<f64, Error> {
        let endpoint = std::env::var("AWS_ENDPOINT_URL")?;
        let meter: Value = self
            .client
            .get(format!("{endpoint}/_trackses/dynamodb/capacity"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(meter["tables"][&self.table]["write_units"]
            .as_f64()
            .unwrap_or_default())
    }
}

fn region(aws: &aws_types::SdkConfig) -> String {
    aws.region().map(|r| r.to_string()).unwrap_or_default()
}

/// A project with one manual connection whose webhook this test feeds itself, and a capture of
/// what SNS signs for its topic.
struct Feed<'a> {
    api: &'a ApiClient,
    customer: &'a CustomerAccount,
    pid: String,
    key: String,
    topic: String,
    webhook_url: String,
    capture: Capture,
}

impl<'a> Feed<'a> {
    async fn new(
        api: &'a ApiClient,
        admin_token: &str,
        customer: &'a CustomerAccount,
    ) -> Result<Feed<'a>, Error> {
        let (_, created) = api
            .call(
                Method::POST,
                "/v1/projects",
                admin_token,
                Some(json!({"name": "load"})),
            )
            .await?;
        let field = |v: &Value| {
            v.as_str()
                .map(str::to_owned)
                .ok_or("no project in the answer")
        };
        let (pid, key) = (
            field(&created["project"]["id"])?,
            field(&created["api_key"])?,
        );
        let topic = customer
            .create_topic(&format!("trackses-load-{}", ids::random_hex(4)), "1")
            .await?;
        let webhook_url = proven_connection(api, &pid, &key, customer, &topic).await?;
        let capture = Capture::subscribe(customer, &topic).await?;
        Ok(Feed {
            api,
            customer,
            pid,
            key,
            topic,
            webhook_url,
            capture,
        })
    }

    /// `count` single-recipient SES events published to the topic, as SNS signed them, and how
    /// many of each type.
    async fn publish(
        &self,
        count: usize,
    ) -> Result<(Vec<Bytes>, BTreeMap<&'static str, u64>), Error> {
        let mut reference = BTreeMap::new();
        for i in 0..count {
            let event_type = TYPES[i % TYPES.len()];
            let recipient = format!("load{i}@example.com");
            let mail = Mail::new(vec![recipient.clone()], "Load", "load");
            let document = event_json(event_type, &mail, &[recipient], chrono::Utc::now());
            self.customer
                .publish_ses_event(&self.topic, &document)
                .await?;
            *reference.entry(event_type.as_str()).or_default() += 1;
        }
        Ok((self.capture.notifications(count).await?, reference))
    }

    async fn stored_events(&self) -> Result<BTreeMap<&'static str, u64>, Error> {
        let mut counts = BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/projects/{}/events?limit=200", self.pid);
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let (_, page) = self.api.call(Method::GET, &path, &self.key, None).await?;
            for event in page["items"].as_array().ok_or("no items")? {
                let name = event["type"].as_str().unwrap_or_default();
                let known = TYPES
                    .iter()
                    .find(|t| t.as_str() == name)
                    .ok_or("unexpected type")?;
                *counts.entry(known.as_str()).or_default() += 1;
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(counts),
            }
        }
    }

    /// Waits until `/stats` counts `reference` exactly, at most `COUNTER_LAG`; how long it took.
    async fn counted(&self, reference: &BTreeMap<&'static str, u64>) -> Result<Duration, Error> {
        let started = Instant::now();
        loop {
            let totals = self.stats_totals().await?;
            let exact = TYPES.iter().all(|t| {
                totals.get(t.as_str()).copied().unwrap_or_default()
                    == reference.get(t.as_str()).copied().unwrap_or_default()
            });
            if exact {
                return Ok(started.elapsed());
            }
            if started.elapsed() > COUNTER_LAG {
                return Err(format!("/stats totals {totals:?} are not {reference:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stats_totals(&self) -> Result<BTreeMap<String, u64>, Error> {
        let path = format!("/v1/projects/{}/stats", self.pid);
        let (_, stats) = self.api.call(Method::GET, &path, &self.key, None).await?;
        Ok(stats["totals"]
            .as_object()
            .ok_or("no totals")?
            .iter()
            .filter_map(|(name, n)| Some((name.clone(), n.as_u64()?)))
            .collect())
    }
}

/// A manual connection whose webhook subscription is confirmed (which proves the topic) but
/// filters every SES event out: the load test delivers them itself.
async fn proven_connection(
    api: &ApiClient,
    pid: &str,
    key: &str,
    customer: &CustomerAccount,
    topic: &str,
) -> Result<String, Error> {
    let (cid, webhook_url) = api.connect_manual(pid, key, topic).await?;
    customer
        .sns
        .subscribe()
        .topic_arn(topic)
        .protocol("http")
        .endpoint(&webhook_url)
        .attributes("FilterPolicy", r#"{"trackses-origin": ["nothing"]}"#)
        .send()
        .await?;
    wait_until_active(api, &format!("/v1/projects/{pid}/connections/{cid}"), key).await?;
    Ok(webhook_url)
}

async fn deliver(client: &reqwest::Client, url: &str, body: Bytes) -> Result<Duration, Error> {
    let started = Instant::now();
    let response = client
        .post(url)
        .header("content-type", "text/plain; charset=UTF-8")
        .body(body)
        .send()
        .await?;
    let took = started.elapsed();
    match response.status().as_u16() {
        200 => Ok(took),
        status => Err(format!("the webhook answered {status}: {}", response.text().await?).into()),
    }
}

/// A subscriber that keeps every signed notification SNS posts.
struct Capture {
    bodies: Arc<Mutex<Vec<Bytes>>>,
}

impl Capture {
    /// Subscribed and confirmed: every notification published from now on reaches it.
    async fn subscribe(customer: &CustomerAccount, topic: &str) -> Result<Capture, Error> {
        let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
        let (confirm, mut confirmation) = tokio::sync::mpsc::channel::<String>(1);
        let kept = bodies.clone();
        let app = axum::Router::new().route(
            "/",
            post(move |body: Bytes| async move {
                let message: Value = serde_json::from_slice(&body).unwrap_or_default();
                match message["SubscribeURL"].as_str() {
                    Some(url) if message["Type"] == "SubscriptionConfirmation" => {
                        let _ = confirm.send(url.to_owned()).await;
                    }
                    _ => kept.lock().unwrap_or_else(|e| e.into_inner()).push(body),
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        customer.subscribe_https(topic, &url).await?;
        let subscribe_url = tokio::time::timeout(Duration::from_secs(10), confirmation.recv())
            .await?
            .ok_or("no subscription confirmation")?;
        reqwest::get(subscribe_url).await?.error_for_status()?;
        Ok(Capture { bodies })
    }

    async fn notifications(&self, count: usize) -> Result<Vec<Bytes>, Error> {
        for _ in 0..600 {
            let bodies = self
                .bodies
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if bodies.len() >= count {
                return Ok(bodies);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("SNS did not deliver every notification to the capture".into())
    }
}
