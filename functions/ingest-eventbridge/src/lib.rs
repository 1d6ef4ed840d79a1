//! `ingest-eventbridge`: SES events customer accounts forward to trackses' bus, queued by its
//! rule, read here in batches. Any AWS account can reach it through the bus, so like the
//! internet-facing functions it holds nothing of a customer's: the table is all it may write. A refused event is logged, counted and dropped (another delivery would
//! be refused again); an event that could not be stored is reported as a batch item failure, so
//! the queue delivers it again (and, after five receives, keeps it in its dead-letter queue)
//! while the rest of its batch is done.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_types::SdkConfig;
use ingest::eventbridge::EventBridgeIngestor;
use runtime::Config;
use store::Store;

/// The function, built once per cold start.
pub struct App {
    ingestor: EventBridgeIngestor<Store>,
}

impl App {
    pub fn from_config(config: &Config, aws: &SdkConfig) -> App {
        App::new(EventBridgeIngestor::new(
            Store::connect(config, aws),
            config.retention_days,
        ))
    }

    pub fn new(ingestor: EventBridgeIngestor<Store>) -> App {
        App { ingestor }
    }

    /// One batch: the messages to deliver again, by id.
    pub async fn handle(&self, event: &SqsEvent) -> SqsBatchResponse {
        let bodies: Vec<&str> = event
            .records
            .iter()
            .map(|r| r.body.as_deref().unwrap_or_default())
            .collect();
        let results = self.ingestor.handle_batch(&bodies).await;
        let mut failures = Vec::new();
        for (record, result) in event.records.iter().zip(results) {
            let message_id = record.message_id.as_deref().unwrap_or_default();
            match result {
                Ok(outcome) => tracing::info!(message_id, ?outcome, "EventBridge event ingested"),
                Err(e) if e.is_retryable() => {
                    tracing::error!(message_id, error = %e, "EventBridge event not stored; the queue delivers it again");
                    runtime::metrics::failure(e.reason());
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = message_id.to_owned();
                    failures.push(failure);
                }
                Err(e) => {
                    tracing::warn!(message_id, reason = %e, "EventBridge event refused");
                    runtime::metrics::refused(e.reason());
                }
            }
        }
        let mut response = SqsBatchResponse::default();
        response.batch_item_failures = failures;
        response
    }
}
