//! What template.yaml runs outbound, in the emulator: the deliveries and mail queues, `forward`
//! on the table's stream, `deliver` and `mail` on their queues, each fed as its event source
//! mapping feeds it.

use std::sync::Arc;

use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_types::SdkConfig;
use runtime::Config;

use crate::queue::{OutboundQueues, POLLERS, QueueSource, deploy_outbound_queues};
use crate::stream::{StreamSettings, StreamSource};

/// Deploys the outbound queues as stack `stack`, then runs `forward` on the table's stream
/// (from `start`), `deliver` and `mail` on their queues for as long as the runtime lasts.
/// `config` gets the queues and may reach loopback receivers, as the API it is also used for
/// must know. Returns once the stream is positioned: nothing stored after is missed.
pub async fn start_forwarding(
    config: &mut Config,
    aws: &SdkConfig,
    stack: &str,
    start: ShardIteratorType,
) -> Result<OutboundQueues, String> {
    let queues = deploy_outbound_queues(aws, stack).await?;
    config.deliveries_queue_url = Some(queues.deliveries.url.clone());
    config.mail_queue_url = Some(queues.mail.url.clone());
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
    tokio::spawn(QueueSource::new(aws, queues.deliveries.clone()).run(deliver, POLLERS));
    let mail = Arc::new(mail::App::from_config(config, aws).map_err(|e| e.to_string())?);
    tokio::spawn(QueueSource::new(aws, queues.mail.clone()).run(mail, POLLERS));
    Ok(queues)
}
