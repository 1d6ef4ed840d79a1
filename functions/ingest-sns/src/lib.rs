//! `ingest-sns`: direct SNS → Lambda subscriptions. Every record is verified like a webhook
//! call. Holds no customer credentials: it links neither KMS, STS nor SES.

use aws_types::SdkConfig;
use ingest::Ingestor;
use ingest::direct::{self, RecordReport, SnsLambdaEvent};
use lambda_runtime::Diagnostic;
use runtime::Config;
use store::Store;

/// The function, built once per cold start.
pub struct App {
    ingestor: Ingestor<Store>,
}

impl App {
    pub fn from_config(config: &Config, aws: &SdkConfig) -> App {
        App::new(Ingestor::from_config(config, Store::connect(config, aws)))
    }

    /// The function around an ingestor built otherwise (a test's clock).
    pub fn new(ingestor: Ingestor<Store>) -> App {
        App { ingestor }
    }

    /// One invocation: each record's fate, or an error (Lambda retries the whole event, then
    /// dead-letters it) when a record accepted could not be stored.
    pub async fn handle(&self, event: &SnsLambdaEvent) -> Result<Vec<RecordReport>, Diagnostic> {
        match direct::handle_records(&self.ingestor, event).await {
            Ok(results) => Ok(results.iter().map(RecordReport::from).collect()),
            Err(failure) => Err(Diagnostic {
                error_type: "RecordsNotStored".into(),
                error_message: failure.to_string(),
            }),
        }
    }
}
