//! The deliveries queue's consumer: each job's POST, signed with its endpoint's secrets; a
//! failure waits in the queue for its next attempt (the message's visibility set to the back-off)
//! until the retry policy gives up and a dead letter keeps it for the dashboard. Replay jobs
//! page through the project's stored events and enqueue what the endpoint wants.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::future::join_all;
use reqwest::header::{HeaderMap, HeaderValue};

use model::{DeadLetter, Endpoint, StoredEvent};
use outbound::signature::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use outbound::{DeliveryFailure, Poster, SigningSecret, sign};
use store::endpoints::StoredSecrets;
use store::events::{EventFilter, PageFrom};
use store::{Store, StoreError};

use crate::job::Job;
use crate::payload;
use crate::queue::JobQueue;
use crate::retry::RetryPolicy;

/// Jobs of one batch in flight at once: a slow receiver holds one slot, not the batch.
const CONCURRENT_JOBS: usize = 32;
/// Events one replay job reads before it hands the rest to the next.
const REPLAY_PAGE: usize = 100;
/// SQS's longest visibility: the longest a message may wait for its next attempt.
const MAX_VISIBILITY_SECONDS: i32 = 12 * 3600;

pub struct Deliverer {
    store: Store,
    poster: Poster,
    queue: JobQueue,
    retry: RetryPolicy,
}

/// What became of one job.
#[derive(Debug, PartialEq)]
enum Outcome {
    Delivered,
    /// Nothing to do: the endpoint is gone, paused (resuming replays), or no longer wants it.
    Skipped(&'static str),
    /// Failed; tried again after the wait its message now has.
    Retry(DeliveryFailure),
    DeadLettered(DeliveryFailure),
    Replayed {
        queued: usize,
        more: bool,
    },
    /// trackses' own failure: the message comes back after the queue's visibility timeout.
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0} jobs could not be enqueued")]
    NotEnqueued(usize),
    #[error("the endpoint's stored secret is unreadable")]
    BadSecret,
}

/// An endpoint as deliveries to it need it.
struct Target {
    endpoint: Endpoint,
    secrets: Vec<SigningSecret>,
}

impl Deliverer {
    pub fn new(store: Store, poster: Poster, queue: JobQueue, retry: RetryPolicy) -> Deliverer {
        Deliverer {
            store,
            poster,
            queue,
            retry,
        }
    }

    /// One batch: the messages to see again, by id.
    pub async fn handle(&self, event: &SqsEvent) -> SqsBatchResponse {
        let now = Utc::now();
        let jobs: Vec<(&SqsMessage, Option<Job>)> = event
            .records
            .iter()
            .map(|m| {
                (
                    m,
                    serde_json::from_str(m.body.as_deref().unwrap_or_default()).ok(),
                )
            })
            .collect();
        let mut projects: Vec<&str> = jobs
            .iter()
            .filter_map(|(_, job)| job.as_ref().map(Job::project_id))
            .collect();
        projects.sort_unstable();
        projects.dedup();
        let reads = join_all(projects.iter().map(|pid| self.targets(pid, now))).await;
        let targets: HashMap<&str, Result<Vec<Target>, JobError>> =
            projects.into_iter().zip(reads).collect();
        // Collected first: a stream holding the closure would not be `Send` for every lifetime.
        let runs: Vec<_> = jobs
            .iter()
            .map(|(message, job)| self.job(message, job.as_ref(), &targets, now))
            .collect();
        let outcomes: Vec<(&SqsMessage, Outcome)> = futures_util::stream::iter(runs)
            .buffer_unordered(CONCURRENT_JOBS)
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        for (message, outcome) in outcomes {
            let message_id = message.message_id.as_deref().unwrap_or_default();
            let again = report(message_id, &outcome);
            if again {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id.to_owned();
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    async fn job<'m>(
        &self,
        message: &'m SqsMessage,
        job: Option<&Job>,
        targets: &HashMap<&str, Result<Vec<Target>, JobError>>,
        now: DateTime<Utc>,
    ) -> (&'m SqsMessage, Outcome) {
        let Some(job) = job else {
            return (message, Outcome::Skipped("unreadable-job"));
        };
        let outcome = match &targets[job.project_id()] {
            Err(e) => Outcome::Failed(e.to_string()),
            Ok(targets) => match targets.iter().find(|t| t.endpoint.id == job.endpoint_id()) {
                None => Outcome::Skipped("endpoint-gone"),
                Some(target) => self.run(message, job, target, now).await,
            },
        };
        (message, outcome)
    }

    async fn targets(&self, pid: &str, now: DateTime<Utc>) -> Result<Vec<Target>, JobError> {
        self.store
            .delivery_endpoints(pid, now)
            .await?
            .into_iter()
            .map(|(endpoint, StoredSecrets { current, previous })| {
                let secrets = std::iter::once(current)
                    .chain(previous)
                    .map(|s| SigningSecret::parse(&s).ok_or(JobError::BadSecret))
                    .collect::<Result<_, _>>()?;
                Ok(Target { endpoint, secrets })
            })
            .collect()
    }

    async fn run(
        &self,
        message: &SqsMessage,
        job: &Job,
        target: &Target,
        now: DateTime<Utc>,
    ) -> Outcome {
        if target.endpoint.paused_at.is_some() {
            return Outcome::Skipped("endpoint-paused");
        }
        match job {
            Job::Deliver {
                enqueued_at, event, ..
            } => {
                if !target.endpoint.wants(event) {
                    return Outcome::Skipped("not-wanted");
                }
                match self.post(target, event, now).await {
                    Ok(()) => Outcome::Delivered,
                    Err(failure) => {
                        self.failed(message, target, event, *enqueued_at, failure, now)
                            .await
                    }
                }
            }
            Job::Replay { after, until, .. } => {
                match self.replay_page(target, after, until).await {
                    Ok((queued, more)) => Outcome::Replayed { queued, more },
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
        }
    }

    async fn post(
        &self,
        target: &Target,
        event: &StoredEvent,
        now: DateTime<Utc>,
    ) -> Result<(), DeliveryFailure> {
        let body = payload::body(event);
        let secrets: Vec<&SigningSecret> = target.secrets.iter().collect();
        let signature = sign(&secrets, &event.id, now.timestamp(), &body);
        let mut headers = HeaderMap::new();
        for (name, value) in [
            (ID_HEADER, event.id.to_string()),
            (TIMESTAMP_HEADER, now.timestamp().to_string()),
            (SIGNATURE_HEADER, signature),
        ] {
            // Ids, digits and base64: always valid header values.
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        self.poster
            .post_json(&target.endpoint.url, headers, body)
            .await
            .map(|_| ())
    }

    /// A failed attempt: waits for the next, or after the policy's time becomes a dead letter.
    async fn failed(
        &self,
        message: &SqsMessage,
        target: &Target,
        event: &StoredEvent,
        enqueued_at: DateTime<Utc>,
        failure: DeliveryFailure,
        now: DateTime<Utc>,
    ) -> Outcome {
        let attempts: u32 = message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        if self.retry.exhausted(enqueued_at, now) {
            let letter = DeadLetter {
                endpoint_id: target.endpoint.id.clone(),
                event_id: event.id.to_string(),
                event_type: event.event_type,
                ses_message_id: event.ses_message_id.to_string(),
                attempts,
                last_error: failure.to_string(),
                first_attempt_at: enqueued_at,
                failed_at: now,
            };
            return match self
                .store
                .put_dead_letter(&target.endpoint.project_id, &letter)
                .await
            {
                Ok(()) => Outcome::DeadLettered(failure),
                Err(e) => Outcome::Failed(e.to_string()),
            };
        }
        let wait = self.retry.delay(attempts).as_secs();
        let wait = i32::try_from(wait)
            .unwrap_or(MAX_VISIBILITY_SECONDS)
            .clamp(1, MAX_VISIBILITY_SECONDS);
        let changed = self
            .queue
            .sqs()
            .change_message_visibility()
            .queue_url(self.queue.url())
            .receipt_handle(message.receipt_handle.as_deref().unwrap_or_default())
            .visibility_timeout(wait)
            .send()
            .await;
        if let Err(e) = changed {
            // It comes back after the queue's own visibility timeout instead.
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "the retry's wait could not be set");
        }
        Outcome::Retry(failure)
    }

    /// One page of a replay: its events' jobs and, if there is more, the next page's.
    async fn replay_page(
        &self,
        target: &Target,
        after: &str,
        until: &str,
    ) -> Result<(usize, bool), JobError> {
        let endpoint = &target.endpoint;
        let filter = EventFilter {
            connection_id: endpoint.connection_id.clone(),
            ..EventFilter::default()
        };
        let page = self
            .store
            .list_events(
                &endpoint.project_id,
                &filter,
                &PageFrom::After(after.to_owned()),
                REPLAY_PAGE,
            )
            .await?;
        let enqueued_at = Utc::now();
        let mut jobs: Vec<Job> = page
            .items
            .into_iter()
            .filter(|event| event.id.as_ref() <= until && endpoint.wants(event))
            .map(|event| Job::Deliver {
                project_id: endpoint.project_id.clone(),
                endpoint_id: endpoint.id.clone(),
                enqueued_at,
                event: Box::new(event),
            })
            .collect();
        let queued = jobs.len();
        let next = page
            .next_cursor
            .filter(|next| next.as_str() != after && next.as_str() < until);
        let more = next.is_some();
        if let Some(next) = next {
            jobs.push(Job::Replay {
                project_id: endpoint.project_id.clone(),
                endpoint_id: endpoint.id.clone(),
                after: next,
                until: until.to_owned(),
            });
        }
        let missed = self
            .queue
            .send(&jobs)
            .await
            .into_iter()
            .filter(|ok| !ok)
            .count();
        if missed > 0 {
            return Err(JobError::NotEnqueued(missed));
        }
        Ok((queued, more))
    }
}

/// Logs and counts one outcome; whether its message must come back.
fn report(message_id: &str, outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Delivered => {
            runtime::metrics::forwarded("delivered");
            false
        }
        Outcome::Skipped(reason) => {
            tracing::info!(message_id, reason, "job skipped");
            runtime::metrics::forwarded(reason);
            false
        }
        Outcome::Replayed { queued, more } => {
            tracing::info!(message_id, queued, more, "replay page enqueued");
            false
        }
        Outcome::Retry(failure) => {
            tracing::info!(message_id, %failure, "delivery failed; it is tried again");
            runtime::metrics::forwarded("retried");
            true
        }
        Outcome::DeadLettered(failure) => {
            tracing::warn!(message_id, %failure, "delivery failed for good: dead letter kept");
            runtime::metrics::forwarded("dead-lettered");
            false
        }
        Outcome::Failed(error) => {
            tracing::error!(message_id, error, "job failed; the queue delivers it again");
            runtime::metrics::failure("job-failed");
            true
        }
    }
}
