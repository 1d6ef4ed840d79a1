//! Forwarding as template.yaml deploys it, in the emulator: the deliveries queue, `forward` on
//! the table's stream and `deliver` on the queue, each fed as its event source mapping feeds it.

use std::sync::Arc;

use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_types::SdkConfig;
use runtime::Config;

use crate::queue::{POLLERS, Queue, QueueSource, deploy_deliveries_queue};
use crate::stream::{StreamSettings, StreamSource};

/// Deploys the deliveries queue as stack `stack`, then runs `forward` on the table's stream
/// (from `start`) and `deliver` on the queue for as long as the runtime lasts. `config` gets
/// the queue and may reach loopback receivers, as the API it is also used for must know.
/// Returns once the stream is positioned: nothing stored after is missed.
pub async fn start_forwarding(
    config: &mut Config,
    aws: &SdkConfig,
    stack: &str,
    start: ShardIteratorType,
) -> Result<Queue, String> {
    let queue = deploy_deliveries_queue(aws, stack).await?;
    config.deliveries_queue_url = Some(queue.url.clone());
    config.endpoints_on_loopback = true;
    let settings = StreamSettings {
        start,
        ..StreamSettings::local()
    };
    let source = StreamSource::connect(aws, &config.table_name, settings)
        .await
        .map_err(|e| e.to_string())?;
    let forward = Arc::new(forward::App::from_config(config, aws).map_err(|e| e.to_string())?);
    tokio::spawn(async move {
        if let Err(e) = source.run(forward).await {
            eprintln!("the forward consumer stopped: events are no longer forwarded: {e}");
        }
    });
    let deliver = Arc::new(deliver::App::from_config(config, aws).map_err(|e| e.to_string())?);
    tokio::spawn(QueueSource::new(aws, queue.clone()).run(deliver, POLLERS));
    Ok(queue)
}
