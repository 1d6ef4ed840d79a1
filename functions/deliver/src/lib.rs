//! `deliver`: the deliveries queue's consumer. It reaches addresses customers chose, so it holds
//! the least: the table (endpoints with their signing secrets, events for replays, dead
//! letters) and the queue. No KMS, no customer credentials; its HTTP client connects only to
//! public addresses (`outbound`).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use aws_types::SdkConfig;
use forwarding::{Deliverer, JobQueue, RetryPolicy};
use outbound::{Poster, Reach};
use runtime::{Config, ConfigError};
use store::Store;

/// The function, built once per cold start.
pub struct App {
    deliverer: Deliverer,
}

impl App {
    pub fn from_config(config: &Config, aws: &SdkConfig) -> Result<App, ConfigError> {
        let url = config
            .deliveries_queue_url
            .clone()
            .ok_or(ConfigError::Missing("TRACKSES_DELIVERIES_QUEUE_URL"))?;
        let reach = Reach::with_loopback(config.endpoints_on_loopback);
        let retry = RetryPolicy {
            first: config.forward_first_retry,
            give_up_after: config.forward_give_up_after,
        };
        Ok(App {
            deliverer: Deliverer::new(
                Store::connect(config, aws),
                Poster::new(reach),
                JobQueue::new(aws_sdk_sqs::Client::new(aws), url),
                retry,
            ),
        })
    }

    pub async fn handle(&self, event: &SqsEvent) -> SqsBatchResponse {
        self.deliverer.handle(event).await
    }
}
