//! `forward`: the table stream's second consumer (beside `aggregate`), run on every new event
//! as it lands, not in windows. It reads endpoints (without their secrets) and writes only the
//! deliveries queue: it holds no signing secret and makes no outbound call.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_types::SdkConfig;
use forwarding::{Fanout, JobQueue};
use runtime::{Config, ConfigError};
use store::Store;

/// The function, built once per cold start.
pub struct App {
    fanout: Fanout,
}

impl App {
    pub fn from_config(config: &Config, aws: &SdkConfig) -> Result<App, ConfigError> {
        let url = config
            .deliveries_queue_url
            .clone()
            .ok_or(ConfigError::Missing("TRACKSES_DELIVERIES_QUEUE_URL"))?;
        let queue = JobQueue::new(aws_sdk_sqs::Client::new(aws), url);
        Ok(App {
            fanout: Fanout::new(Store::connect(config, aws), queue),
        })
    }

    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        self.fanout.handle(event.records).await
    }
}
