//! Direct SNS → Lambda subscription: every record of the event goes through the same pipeline.

use aws_lambda_events::sns::SnsEvent;

use super::{Disposition, IngestError, Ingestor, Outcome, Target};
use crate::sns::Envelope;

#[derive(Debug, thiserror::Error)]
#[error(
    "{failed} of {total} SNS records could not be stored; the invocation fails so Lambda retries it, then the dead-letter queue keeps it"
)]
pub struct RetryableFailure {
    pub failed: usize,
    pub total: usize,
}

/// Refused records (bad signature, foreign topic, not SES) are logged and dropped: a retry
/// cannot fix them. A record that failed after acceptance fails the whole invocation; the
/// records that did land are idempotent, so the retry only adds what is missing.
pub async fn handle_records(
    ingestor: &Ingestor,
    event: &SnsEvent,
) -> Result<Vec<Result<Outcome, IngestError>>, RetryableFailure> {
    let mut results = Vec::with_capacity(event.records.len());
    for record in &event.records {
        let result = match Envelope::from_lambda(&record.sns) {
            Ok(envelope) => ingestor.handle(&envelope, Target::Topic).await,
            Err(e) => Err(e.into()),
        };
        match &result {
            Ok(outcome) => {
                tracing::info!(message_id = %record.sns.message_id, ?outcome, "SNS record ingested")
            }
            Err(e) if e.disposition() == Disposition::Retry => {
                tracing::error!(message_id = %record.sns.message_id, error = %e, "SNS record failed after acceptance");
            }
            Err(e) => {
                tracing::warn!(message_id = %record.sns.message_id, topic_arn = %record.sns.topic_arn, reason = %e, "SNS record refused")
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
