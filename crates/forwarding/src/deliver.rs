//! The deliveries queue's consumer: each job's POST, signed with its endpoint's (or alert
//! channel's) secrets; a failure waits in the queue for its next attempt (the message's
//! visibility set to the back-off) until the retry policy gives up, and a forwarded event then
//! becomes a dead letter the dashboard shows. Replay jobs page through the project's stored
//! events and enqueue what the endpoint wants. Alert notifications go to webhook and Slack
//! channels here; e-mail is the mail function's.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt;
use futures_util::future::join_all;
use reqwest::header::{HeaderMap, HeaderValue};

use alerts::message;
use model::alert::Transition;
use model::{Alert, ChannelKind, DeadLetter, Endpoint, StoredEvent};
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
const CONCURRENT_JOBS: usize = 10;
/// Events one replay job reads before it hands the rest to the next: its 16 index queries
/// (one per shard of the project's stream) serve 500 events, and its jobs go out in three
/// SendMessageBatch requests.
const REPLAY_PAGE: usize = 500;
/// SQS's longest visibility: the longest a message may wait for its next attempt.
const MAX_VISIBILITY_SECONDS: i32 = 12 * 3600;
/// POSTs of one job in flight at once (a batch runs `CONCURRENT_JOBS` jobs side by side).
const POSTS_PER_JOB: usize = 10;
/// SQS's longest delay of a new message.
const MAX_DELAY: Duration = Duration::from_secs(900);
/// How long a paused endpoint's job waits before it looks again: a day of them is 48 receives,
/// under the queue's 60 (cloudformation/deliveries-queue.yaml).
const PAUSED_RECHECK_SECONDS: u64 = 30 * 60;

pub struct Deliverer {
    store: Store,
    poster: Poster,
    queue: JobQueue,
    retry: RetryPolicy,
}

/// What became of one job.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// This many events delivered, none failed.
    Delivered(usize),
    /// Some failed, and went back to the queue as the job's next attempt.
    Requeued {
        delivered: usize,
        retried: usize,
        first: String,
    },
    /// Nothing to do: the endpoint is gone or no longer wants it.
    Skipped(&'static str),
    /// Not done now (a failed attempt, or a paused endpoint): tried again after the wait its
    /// message now has.
    Later(String),
    /// This many events kept as dead letters.
    DeadLettered(usize),
    /// A notification that failed for the retry policy's time.
    Dropped(String),
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
    #[error("a stored signing secret is unreadable")]
    BadSecret,
}

/// A delivery job, as `forward` takes it.
struct Batch<'j> {
    enqueued_at: DateTime<Utc>,
    attempt: u32,
    not_before: Option<DateTime<Utc>>,
    events: &'j [StoredEvent],
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
            .filter_map(|(_, job)| job.as_ref().filter(|j| j.endpoint_id().is_some()))
            .map(Job::project_id)
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
        let outcome = match job {
            None => Outcome::Skipped("unreadable-job"),
            Some(Job::Deliver {
                project_id,
                endpoint_id,
                enqueued_at,
                attempt,
                not_before,
                events,
            }) => match target(targets, project_id, endpoint_id) {
                Err(outcome) => outcome,
                Ok(target) => {
                    let job = Batch {
                        enqueued_at: *enqueued_at,
                        attempt: *attempt,
                        not_before: *not_before,
                        events,
                    };
                    self.forward(message, target, job, now).await
                }
            },
            Some(Job::Replay {
                project_id,
                endpoint_id,
                after,
                until,
            }) => match target(targets, project_id, endpoint_id) {
                Err(outcome) => outcome,
                // Replayed once it is resumed.
                Ok(target) if target.endpoint.paused_at.is_some() => {
                    self.hide(
                        message,
                        PAUSED_RECHECK_SECONDS,
                        "the endpoint is paused".into(),
                    )
                    .await
                }
                Ok(target) => match self.replay_page(target, after, until).await {
                    Ok((queued, more)) => Outcome::Replayed { queued, more },
                    Err(e) => Outcome::Failed(e.to_string()),
                },
            },
            Some(Job::Notify {
                project_id,
                channel_id,
                transition,
                alert,
            }) => {
                self.notify(message, project_id, channel_id, *transition, alert, now)
                    .await
            }
            Some(Job::Confirm { .. }) => Outcome::Skipped("mail-job"),
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
                    .map(|s| parse_secret(&s))
                    .collect::<Result<_, _>>()?;
                Ok(Target { endpoint, secrets })
            })
            .collect()
    }

    /// One job's events to one endpoint, each its own POST, side by side. The ones that fail
    /// go back to the queue together as the job's next attempt (this message is then done), or
    /// after the retry policy's day become dead letters, to be seen and replayed. A paused
    /// endpoint's job waits for it to resume (what arrives while it is paused is not queued for
    /// it: resuming replays that).
    async fn forward(
        &self,
        message: &SqsMessage,
        target: &Target,
        job: Batch<'_>,
        now: DateTime<Utc>,
    ) -> Outcome {
        if let Some(due) = job.not_before.filter(|due| *due > now) {
            let wait = (due - now).num_seconds().max(1) as u64;
            return self.hide(message, wait, "not due yet".into()).await;
        }
        let wanted: Vec<&StoredEvent> = job
            .events
            .iter()
            .filter(|e| target.endpoint.wants(e))
            .collect();
        if wanted.is_empty() {
            return Outcome::Skipped("not-wanted");
        }
        let failed: Vec<(&StoredEvent, String)> = if target.endpoint.paused_at.is_some() {
            if !self.retry.exhausted(job.enqueued_at, now) {
                let why = "the endpoint is paused".to_owned();
                return self.hide(message, PAUSED_RECHECK_SECONDS, why).await;
            }
            wanted
                .iter()
                .map(|e| (*e, "the endpoint was paused".to_owned()))
                .collect()
        } else {
            let posts: Vec<_> = wanted
                .iter()
                .map(|event| self.post(target, event, now))
                .collect();
            futures_util::stream::iter(posts)
                .buffer_unordered(POSTS_PER_JOB)
                .filter_map(|(event, result)| async move {
                    result.err().map(|f| (event, f.to_string()))
                })
                .collect()
                .await
        };
        let delivered = wanted.len() - failed.len();
        if failed.is_empty() {
            return Outcome::Delivered(delivered);
        }
        if self.retry.exhausted(job.enqueued_at, now) {
            return self.dead_letters(target, &job, failed, now).await;
        }
        let wait = self.retry.delay(job.attempt);
        let first = failed[0].1.clone();
        let retry = Job::Deliver {
            project_id: target.endpoint.project_id.clone(),
            endpoint_id: target.endpoint.id.clone(),
            enqueued_at: job.enqueued_at,
            attempt: job.attempt + 1,
            // SQS delays a message 15 minutes at most; a later retry waits out the rest hidden.
            not_before: (wait > MAX_DELAY)
                .then(|| now + TimeDelta::from_std(wait).unwrap_or_default()),
            events: failed.iter().map(|(event, _)| (*event).clone()).collect(),
        };
        let retried = failed.len();
        if self.queue.send_delayed(&retry, wait.min(MAX_DELAY)).await {
            Outcome::Requeued {
                delivered,
                retried,
                first,
            }
        } else {
            // The whole job comes back after the visibility timeout: its delivered events again.
            Outcome::Failed(format!(
                "{retried} events failed ({first}), and their retry could not be queued"
            ))
        }
    }

    async fn post<'e>(
        &self,
        target: &Target,
        event: &'e StoredEvent,
        now: DateTime<Utc>,
    ) -> (&'e StoredEvent, Result<(), DeliveryFailure>) {
        let body = payload::body(event);
        let headers = signed_headers(&event.id, &target.secrets, now, &body);
        let posted = self
            .poster
            .post_json(&target.endpoint.url, headers, body)
            .await;
        (event, posted.map(|_| ()))
    }

    /// What failed for the retry policy's whole time, kept for the dashboard.
    async fn dead_letters(
        &self,
        target: &Target,
        job: &Batch<'_>,
        failed: Vec<(&StoredEvent, String)>,
        now: DateTime<Utc>,
    ) -> Outcome {
        let letters = failed.iter().map(|(event, failure)| DeadLetter {
            endpoint_id: target.endpoint.id.clone(),
            event_id: event.id.to_string(),
            event_type: event.event_type,
            ses_message_id: event.ses_message_id.to_string(),
            attempts: job.attempt,
            last_error: failure.clone(),
            first_attempt_at: job.enqueued_at,
            failed_at: now,
        });
        let kept = letters.map(|letter| async move {
            self.store
                .put_dead_letter(&target.endpoint.project_id, &letter)
                .await
        });
        match futures_util::future::try_join_all(kept).await {
            Ok(kept) => Outcome::DeadLettered(kept.len()),
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }

    /// An alert's transition to a webhook channel (signed like forwarded events) or a Slack
    /// channel (the line Slack shows). Retried like forwarded events; after the retry policy's
    /// time it is dropped (the alert itself stays in the project's history).
    async fn notify(
        &self,
        message: &SqsMessage,
        project_id: &str,
        channel_id: &str,
        transition: Transition,
        alert: &Alert,
        now: DateTime<Utc>,
    ) -> Outcome {
        let (channel, secret) = match self.store.delivery_channel(project_id, channel_id).await {
            Ok(Some(found)) => found,
            Ok(None) => return Outcome::Skipped("channel-gone"),
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        let sent = match (&channel.kind, secret) {
            (ChannelKind::Webhook { url }, Some(secret)) => {
                let secret = match parse_secret(&secret) {
                    Ok(secret) => secret,
                    Err(e) => return Outcome::Failed(e.to_string()),
                };
                let body = message::webhook_body(alert, transition);
                let id = message::delivery_id(alert, transition);
                let headers = signed_headers(&id, std::slice::from_ref(&secret), now, &body);
                self.poster.post_json(url, headers, body).await
            }
            (ChannelKind::Slack { url }, _) => {
                let body = message::slack_body(alert, transition);
                self.poster.post_json(url, HeaderMap::new(), body).await
            }
            _ => return Outcome::Skipped("not-a-webhook-channel"),
        };
        let failure = match sent {
            Ok(_) => return Outcome::Delivered(1),
            Err(failure) => failure,
        };
        let since = match transition {
            Transition::Opened => alert.opened_at,
            Transition::Resolved => alert.resolved_at.unwrap_or(alert.opened_at),
        };
        if self.retry.exhausted(since, now) {
            return Outcome::Dropped(failure.to_string());
        }
        self.reschedule(message, failure.to_string()).await
    }

    /// Hides a failed job's message until its next attempt is due.
    async fn reschedule(&self, message: &SqsMessage, failure: String) -> Outcome {
        let wait = self.retry.delay(attempts(message)).as_secs();
        self.hide(message, wait, failure).await
    }

    /// Hides a job's message for `wait` seconds: it is handed out again then.
    async fn hide(&self, message: &SqsMessage, wait: u64, why: String) -> Outcome {
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
        Outcome::Later(why)
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
        let events: Vec<StoredEvent> = page
            .items
            .into_iter()
            .filter(|event| event.id.as_ref() <= until && endpoint.wants(event))
            .collect();
        let queued = events.len();
        let mut jobs = Job::deliveries(&endpoint.project_id, &endpoint.id, Utc::now(), events);
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

/// The endpoint a forwarding job is for, or the outcome when it is gone.
fn target<'t>(
    targets: &'t HashMap<&str, Result<Vec<Target>, JobError>>,
    project_id: &str,
    endpoint_id: &str,
) -> Result<&'t Target, Outcome> {
    match targets.get(project_id) {
        Some(Err(e)) => Err(Outcome::Failed(e.to_string())),
        Some(Ok(targets)) => match targets.iter().find(|t| t.endpoint.id == endpoint_id) {
            Some(target) => Ok(target),
            None => Err(Outcome::Skipped("endpoint-gone")),
        },
        None => Err(Outcome::Skipped("endpoint-gone")),
    }
}

/// The attempt a message is on (SQS counts its receives).
fn attempts(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

fn parse_secret(written: &str) -> Result<SigningSecret, JobError> {
    SigningSecret::parse(written).ok_or(JobError::BadSecret)
}

/// Standard Webhooks' three headers for `body` sent as `id` now.
fn signed_headers(
    id: &str,
    secrets: &[SigningSecret],
    now: DateTime<Utc>,
    body: &[u8],
) -> HeaderMap {
    let secrets: Vec<&SigningSecret> = secrets.iter().collect();
    let signature = sign(&secrets, id, now.timestamp(), body);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (ID_HEADER, id.to_owned()),
        (TIMESTAMP_HEADER, now.timestamp().to_string()),
        (SIGNATURE_HEADER, signature),
    ] {
        // Ids, digits and base64: always valid header values.
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers
}

/// Logs and counts one outcome; whether its message must come back.
fn report(message_id: &str, outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Delivered(n) => {
            runtime::metrics::forwarded("delivered", *n);
            false
        }
        Outcome::Requeued {
            delivered,
            retried,
            first,
        } => {
            tracing::info!(message_id, delivered, retried, failure = %first, "some failed; they are tried again");
            runtime::metrics::forwarded("delivered", *delivered);
            runtime::metrics::forwarded("retried", *retried);
            false
        }
        Outcome::Skipped(reason) => {
            tracing::info!(message_id, reason, "job skipped");
            runtime::metrics::forwarded(reason, 1);
            false
        }
        Outcome::Replayed { queued, more } => {
            tracing::info!(message_id, queued, more, "replay page enqueued");
            false
        }
        Outcome::Later(failure) => {
            tracing::info!(message_id, %failure, "not delivered now; it is tried again");
            runtime::metrics::forwarded("retried", 1);
            true
        }
        Outcome::DeadLettered(n) => {
            tracing::warn!(
                message_id,
                dead_letters = n,
                "deliveries failed for good: dead letters kept"
            );
            runtime::metrics::forwarded("dead-lettered", *n);
            false
        }
        Outcome::Dropped(failure) => {
            tracing::warn!(message_id, %failure, "notification failed for good: dropped");
            runtime::metrics::forwarded("notification-dropped", 1);
            false
        }
        Outcome::Failed(error) => {
            tracing::error!(message_id, error, "job failed; the queue delivers it again");
            runtime::metrics::failure("job-failed");
            true
        }
    }
}
