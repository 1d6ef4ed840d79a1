//! `forward`: the table stream's second consumer (beside `aggregate`), run on every new event
//! and alert change as it lands, not in windows. It reads endpoints and channels (without their
//! secrets) and writes only the deliveries and mail queues: it holds no signing secret and
//! makes no outbound call.

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
        let sqs = aws_sdk_sqs::Client::new(aws);
        let mail = config
            .mail_queue_url
            .as_ref()
            .map(|url| JobQueue::new(sqs.clone(), url));
        let deliveries = JobQueue::new(sqs, url);
        Ok(App {
            fanout: Fanout::new(Store::connect(config, aws), deliveries, mail),
        })
    }

    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        self.fanout.handle(event.records).await
    }
}
