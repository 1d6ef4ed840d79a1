//! The deliveries queue: jobs sent in batches of ten (one request each).

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures_util::future::join_all;

use crate::job::Job;

/// SendMessageBatch's limits: ten messages, 256 KiB in all.
const BATCH_MESSAGES: usize = 10;
const BATCH_BYTES: usize = 256 * 1024;

/// A job as a message body. SQS refuses a message holding U+FFFE or U+FFFF, which serde_json
/// writes as they are and which a stored event, or a rule's name, may hold (a forged
/// notification, a user's input): a refused message would stall its stream shard. Inside JSON
/// strings, where alone they can be, they are written as escapes instead: the same JSON value.
fn body(job: &Job) -> String {
    // A job is plain data: it always serialises.
    let json = serde_json::to_string(job).unwrap_or_default();
    if json.contains(['\u{fffe}', '\u{ffff}']) {
        json.replace('\u{fffe}', "\\ufffe")
            .replace('\u{ffff}', "\\uffff")
    } else {
        json
    }
}

#[derive(Clone)]
pub struct JobQueue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl JobQueue {
    pub fn new(sqs: aws_sdk_sqs::Client, url: impl Into<String>) -> JobQueue {
        JobQueue {
            sqs,
            url: url.into(),
        }
    }

    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        &self.sqs
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Enqueues `jobs`; for each, whether it was taken. Batches go out side by side.
    pub async fn send(&self, jobs: &[Job]) -> Vec<bool> {
        let bodies: Vec<String> = jobs.iter().map(body).collect();
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut bytes = 0;
        for (index, body) in bodies.iter().enumerate() {
            match batches.last_mut() {
                Some(batch)
                    if batch.len() < BATCH_MESSAGES && bytes + body.len() <= BATCH_BYTES =>
                {
                    batch.push(index);
                    bytes += body.len();
                }
                _ => {
                    batches.push(vec![index]);
                    bytes = body.len();
                }
            }
        }
        let mut taken = vec![false; jobs.len()];
        let sent = join_all(batches.iter().map(|batch| self.send_batch(batch, &bodies))).await;
        for (batch, result) in batches.iter().zip(sent) {
            for (index, ok) in batch.iter().zip(result) {
                taken[*index] = ok;
            }
        }
        taken
    }

    /// Enqueues one job, handed out no earlier than `delay` (SQS's at most 15 minutes) from
    /// now; whether it was taken.
    pub async fn send_delayed(&self, job: &Job, delay: std::time::Duration) -> bool {
        let body = body(job);
        let sent = self
            .sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(i32::try_from(delay.as_secs()).unwrap_or(900).min(900))
            .send()
            .await;
        if let Err(e) = &sent {
            tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "a retry could not be enqueued");
        }
        sent.is_ok()
    }

    async fn send_batch(&self, batch: &[usize], bodies: &[String]) -> Vec<bool> {
        let entries = batch
            .iter()
            .map(|index| {
                SendMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .message_body(&bodies[*index])
                    .build()
            })
            .collect::<Result<Vec<_>, _>>();
        let sent = match entries {
            Ok(entries) => {
                self.sqs
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries))
                    .send()
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "a job batch could not be built");
                return vec![false; batch.len()];
            }
        };
        match sent {
            Ok(output) => batch
                .iter()
                .map(|index| {
                    let id = index.to_string();
                    output.successful().iter().any(|s| s.id() == id)
                })
                .collect(),
            Err(e) => {
                tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "jobs could not be enqueued");
                vec![false; batch.len()]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_sqs_refuses_is_escaped_and_reads_back_the_same() {
        let job = Job::Confirm {
            project_id: "prj_\u{ffff}".into(),
            channel_id: "ch_\u{fffe}x".into(),
        };
        let written = body(&job);
        assert!(!written.contains(['\u{fffe}', '\u{ffff}']), "{written}");
        assert_eq!(serde_json::from_str::<Job>(&written).unwrap(), job);
    }
}
