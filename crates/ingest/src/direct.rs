//! Direct SNS → Lambda subscription: every record of the event goes through the same pipeline.

use serde::{Deserialize, Serialize};

use crate::sns::Envelope;
use crate::{Disposition, IngestError, IngestStore, Ingestor, Outcome, Target};

/// The Lambda event SNS sends. Each record's `Sns` object is kept as SNS wrote it, not as
/// `aws_lambda_events`' `SnsMessage`, which turns `Timestamp` into a date: the signature covers
/// the exact string, and re-serialising a date can change it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnsLambdaEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SnsLambdaRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SnsLambdaRecord {
    #[serde(rename = "Sns")]
    pub sns: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{failed} of {total} SNS records could not be stored; the invocation fails so Lambda retries it, then the dead-letter queue keeps it"
)]
pub struct RetryableFailure {
    pub failed: usize,
    pub total: usize,
}

/// One record's fate, as the function answers it: an outcome, or the reason it was refused.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum RecordReport {
    Accepted(Outcome),
    Refused {
        status: &'static str,
        reason: String,
    },
}

impl From<&Result<Outcome, IngestError>> for RecordReport {
    fn from(result: &Result<Outcome, IngestError>) -> RecordReport {
        match result {
            Ok(outcome) => RecordReport::Accepted(*outcome),
            Err(e) => RecordReport::Refused {
                status: "refused",
                reason: e.to_string(),
            },
        }
    }
}

/// Refused records (bad signature, unproven topic, replays, not SES) are logged, counted as a
/// metric and dropped: a retry cannot fix them. A record that failed after acceptance fails the
/// whole invocation; the records that did land are idempotent, so the retry only adds what is
/// missing.
pub async fn handle_records<S: IngestStore>(
    ingestor: &Ingestor<S>,
    event: &SnsLambdaEvent,
) -> Result<Vec<Result<Outcome, IngestError>>, RetryableFailure> {
    let mut results = Vec::with_capacity(event.records.len());
    for record in &event.records {
        let message_id = record.sns["MessageId"].as_str().unwrap_or_default();
        let result = match Envelope::from_lambda_record(&record.sns) {
            Ok(envelope) => ingestor.handle(&envelope, Target::Topic).await,
            Err(e) => Err(e.into()),
        };
        match &result {
            Ok(outcome) => {
                tracing::info!(message_id, ?outcome, "SNS record ingested")
            }
            Err(e) if e.disposition() == Disposition::Retry => {
                tracing::error!(message_id, error = %e, "SNS record failed after acceptance");
                runtime::metrics::failure(e.reason());
            }
            Err(e) => {
                let topic_arn = record.sns["TopicArn"].as_str().unwrap_or_default();
                tracing::warn!(message_id, topic_arn, reason = %e, "SNS record refused");
                runtime::metrics::refused(e.reason());
            }
        }
        results.push(result);
    }
    let failed = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.disposition() == Disposition::Retry))
        .count();
    if failed > 0 {
        return Err(RetryableFailure {
            failed,
            total: results.len(),
        });
    }
    Ok(results)
}
