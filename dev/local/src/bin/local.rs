//! `make dev`: every function's handler on 127.0.0.1:$TRACKSES_PORT against the emulated AWS,
//! and (unless TRACKSES_DEMO=0) a demo project with live traffic.

use std::sync::Arc;
use std::time::Duration;

use local::demo::{ApiClient, set_up, traffic};
use local::eventbridge::{INGEST_BUS, INGEST_STACK, deploy_ingest_bus};
use local::forwarding::start_forwarding;
use local::queue::{DELIVERIES_STACK, POLLERS, QueueSource};
use local::receiver::Receiver;
use local::role_stack::deploy_callback_topic;
use local::stream::{StreamSettings, StreamSource};
use model::ids;
use runtime::{Config, init_tracing, sdk_config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    init_tracing();
    let mut config = Config::from_env()?;
    let port: u16 = std::env::var("TRACKSES_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let base = format!("http://127.0.0.1:{port}");
    let admin_token = config
        .admin_token
        .get_or_insert_with(|| ids::random_hex(24))
        .clone();
    config.public_url.get_or_insert(base.parse()?);
    let aws = sdk_config();
    // What template.yaml deploys beside the functions: the bus role-mode stacks forward to, and
    // the queue ingest-eventbridge reads.
    let bus = deploy_ingest_bus(&aws, INGEST_STACK, INGEST_BUS).await?;
    config.event_bus_arn = Some(bus.bus_arn.clone());
    // Forwarding: the deliveries queue, `forward` on the stream (from now: what earlier runs
    // stored was forwarded then) and `deliver` on the queue.
    let shard_start = aws_sdk_dynamodbstreams::types::ShardIteratorType::Latest;
    start_forwarding(&mut config, &aws, DELIVERIES_STACK, shard_start).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let server =
        axum::serve(listener, local::app(&config, &aws).await?).with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        });
    println!("trackses API: {base}\ndashboard: {base}/\nadmin token: {admin_token}");
    // What the table stream's event source mapping runs in a deployment: counters and
    // suppressions, a window behind the events.
    let source = StreamSource::connect(&aws, &config.table_name, StreamSettings::local()).await?;
    let aggregate = Arc::new(aggregate::App::from_config(&config, &aws));
    tokio::spawn(async move {
        if let Err(e) = source.run(aggregate).await {
            eprintln!("the stream consumer stopped: counters no longer move: {e}");
        }
    });
    // The alerts' schedules: a sweep a minute, health every fifth (deployed: every 15 minutes).
    let lambda = local::local_lambda(&aws, &base.parse()?);
    let sweep = sweep::App::from_config(&config, &aws, lambda)?;
    tokio::spawn(local::run_sweeps(sweep, Duration::from_secs(60), 5));
    let ingest_eventbridge = Arc::new(ingest_eventbridge::App::from_config(&config, &aws));
    tokio::spawn(QueueSource::new(&aws, bus.queue).run(ingest_eventbridge, POLLERS));
    let demo = std::env::var("TRACKSES_DEMO").as_deref() != Ok("0");
    let callback_topic = config.callback_topic.clone();
    tokio::spawn(async move {
        // What template.yaml deploys in its region: customer stacks report to this topic.
        let callback_url = format!("{base}/v1/hooks/cloudformation");
        let region = aws.region().map(|r| r.to_string()).unwrap_or_default();
        match deploy_callback_topic(&aws, &region, &callback_topic, &callback_url).await {
            Ok(arn) => println!("role-mode callback topic: {arn}"),
            Err(e) => eprintln!("the callback topic could not be deployed: {e}"),
        }
        if demo {
            // A customer's own endpoint, where the demo's forwarded events and alerts arrive.
            let (receiver, receiver_url) = match Receiver::start(0).await {
                Ok(started) => started,
                Err(e) => {
                    eprintln!("the demo's receiver could not listen: {e}");
                    return;
                }
            };
            println!("demo receiver (prints what it is sent): {receiver_url}");
            match set_up(
                &ApiClient::new(&base),
                &admin_token,
                &aws,
                &receiver,
                &receiver_url,
            )
            .await
            {
                Ok(demo) => {
                    println!(
                        "demo project: {}\ndemo API key: {}\ntry: curl -H 'Authorization: Bearer {}' {base}/v1/projects/{}/events",
                        demo.project_id, demo.api_key, demo.api_key, demo.project_id
                    );
                    let rule = "=".repeat(72);
                    println!(
                        "\n{rule}\n  dashboard: {base}/\n  sign in with the API key {}\n  (project {})\n{rule}\n",
                        demo.api_key, demo.project_id
                    );
                    let emulator = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
                    if let Err(e) = traffic(&aws, &emulator, Duration::from_secs(2), None).await {
                        eprintln!("demo traffic stopped: {e}");
                    }
                }
                Err(e) => eprintln!("demo set-up failed: {e}"),
            }
        }
    });
    server.await?;
    Ok(())
}
