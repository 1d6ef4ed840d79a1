//! The table stream's second consumer: each new event becomes one delivery job per endpoint of
//! its project that wants it, and each alert opened or resolved one notification job per
//! channel of its rule (e-mail ones on the mail queue). It reads endpoints and channels without
//! their secrets and writes nothing but the queues.

use std::collections::{BTreeMap, HashMap};

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::Utc;
use futures_util::future::join_all;

use model::alert::Transition;
use model::{Alert, Channel, ChannelKind, ChannelStatus, Endpoint, StoredEvent};
use store::attrs::Item;
use store::{Store, StoreError, alerts, event_item};

use crate::job::Job;
use crate::queue::JobQueue;

pub struct Fanout {
    store: Store,
    deliveries: JobQueue,
    /// Where e-mail notifications go; `None` where the deployment sends no e-mail.
    mail: Option<JobQueue>,
}

/// What a stream record brought.
enum Change {
    Event {
        project_id: String,
        event: StoredEvent,
    },
    Alert {
        transition: Transition,
        alert: Alert,
    },
}

impl Change {
    fn project_id(&self) -> &str {
        match self {
            Change::Event { project_id, .. } => project_id,
            Change::Alert { alert, .. } => &alert.project_id,
        }
    }
}

/// A project's endpoints and channels, as this batch read them.
#[derive(Default)]
struct Listeners {
    endpoints: Vec<Endpoint>,
    channels: Vec<Channel>,
}

impl Fanout {
    pub fn new(store: Store, deliveries: JobQueue, mail: Option<JobQueue>) -> Fanout {
        Fanout {
            store,
            deliveries,
            mail,
        }
    }

    /// One batch of stream records. What could not be enqueued is reported from its first
    /// record on, which Lambda hands back (with what followed it) until it is taken; a record
    /// enqueued twice that way is the same job, whose id lets its receiver see it.
    pub async fn handle(&self, records: Vec<EventRecord>) -> DynamoDbEventResponse {
        let changes: Vec<(String, Change)> = records.into_iter().filter_map(change).collect();
        let mut projects: Vec<&str> = changes.iter().map(|(_, c)| c.project_id()).collect();
        projects.sort_unstable();
        projects.dedup();
        let reads = join_all(projects.iter().map(|pid| self.listeners(pid))).await;
        let mut listeners: HashMap<&str, Listeners> = HashMap::new();
        let mut unread = Vec::new();
        for (pid, read) in projects.into_iter().zip(reads) {
            match read {
                Ok(found) => {
                    listeners.insert(pid, found);
                }
                Err(e) => {
                    tracing::error!(project_id = pid, error = %e, "endpoints or channels unreadable; their records are retried");
                    runtime::metrics::failure("listeners-unreadable");
                    unread.push(pid);
                }
            }
        }
        // Each job with the records it holds: a job not taken fails them all.
        let (mut deliveries, mut mail) = (Vec::new(), Vec::new());
        let mut by_endpoint: BTreeMap<(&str, &str), Vec<(usize, &StoredEvent)>> = BTreeMap::new();
        for (index, (_, change)) in changes.iter().enumerate() {
            let Some(found) = listeners.get(change.project_id()) else {
                continue;
            };
            match change {
                Change::Event { project_id, event } => {
                    // An endpoint paused after the event arrived still gets it (its job waits
                    // for the resume); what arrived while it was paused, resuming replays.
                    let wanting = found.endpoints.iter().filter(|e| {
                        e.paused_at.is_none_or(|paused| event.received_at < paused)
                            && e.wants(event)
                    });
                    for endpoint in wanting {
                        by_endpoint
                            .entry((project_id, &endpoint.id))
                            .or_default()
                            .push((index, event));
                    }
                }
                Change::Alert { transition, alert } => {
                    for (to_mail, job) in notifications(*transition, alert, found) {
                        match (to_mail, &self.mail) {
                            (true, Some(_)) => mail.push((vec![index], job)),
                            (true, None) => {
                                tracing::warn!("an e-mail channel, but no mail queue: not sent")
                            }
                            (false, _) => deliveries.push((vec![index], job)),
                        }
                    }
                }
            }
        }
        let now = Utc::now();
        for ((project_id, endpoint_id), events) in by_endpoint {
            let (owners, events): (Vec<usize>, Vec<StoredEvent>) = events
                .into_iter()
                .map(|(index, event)| (index, event.clone()))
                .unzip();
            let mut owners = owners.into_iter();
            for job in Job::deliveries(project_id, endpoint_id, now, events) {
                let held = match &job {
                    Job::Deliver { events, .. } => events.len(),
                    _ => 0,
                };
                deliveries.push((owners.by_ref().take(held).collect(), job));
            }
        }
        let mut failed: Vec<usize> = changes
            .iter()
            .enumerate()
            .filter(|(_, (_, c))| unread.contains(&c.project_id()))
            .map(|(index, _)| index)
            .collect();
        for (queue, jobs) in [
            (Some(&self.deliveries), deliveries),
            (self.mail.as_ref(), mail),
        ] {
            let Some(queue) = queue else { continue };
            let (owners, jobs): (Vec<Vec<usize>>, Vec<Job>) = jobs.into_iter().unzip();
            let taken = queue.send(&jobs).await;
            failed.extend(
                owners
                    .into_iter()
                    .zip(taken)
                    .filter(|(_, ok)| !ok)
                    .flat_map(|(held, _)| held),
            );
        }
        let mut response = DynamoDbEventResponse::default();
        if let Some(first) = failed.into_iter().min() {
            runtime::metrics::failure("jobs-not-enqueued");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(changes[first].0.clone());
            response.batch_item_failures.push(failure);
        }
        tracing::info!(records = changes.len(), "records fanned out");
        response
    }

    async fn listeners(&self, pid: &str) -> Result<Listeners, StoreError> {
        let (endpoints, channels) =
            futures_util::try_join!(self.store.endpoints(pid), self.store.channels(pid))?;
        Ok(Listeners {
            endpoints,
            channels,
        })
    }
}

/// An alert transition's jobs, one per active channel of its rule, each with whether it goes
/// to the mail queue.
fn notifications(transition: Transition, alert: &Alert, listeners: &Listeners) -> Vec<(bool, Job)> {
    listeners
        .channels
        .iter()
        .filter(|c| c.status == ChannelStatus::Active && alert.channel_ids.contains(&c.id))
        .map(|channel| {
            let job = Job::Notify {
                project_id: alert.project_id.clone(),
                channel_id: channel.id.clone(),
                transition,
                alert: Box::new(alert.clone()),
            };
            (matches!(channel.kind, ChannelKind::Email { .. }), job)
        })
        .collect()
}

/// What a record brought, with its sequence number; `None` for anything else (the event
/// source's filter lets little else through) or an unreadable image, which is logged and
/// counted, not retried.
fn change(record: EventRecord) -> Option<(String, Change)> {
    let sequence_number = record.change.sequence_number?;
    let item: Item = record.change.new_image.into();
    let read = match record.event_name.as_str() {
        "INSERT" if event_item::is_event(&item) => event_item::project_id(&item).and_then(|pid| {
            event_item::event(&item).map(|event| Change::Event {
                project_id: pid.to_owned(),
                event,
            })
        }),
        "INSERT" | "MODIFY" if alerts::is_alert(&item) => alerts::alert_of(&item).map(|alert| {
            let transition = match alert.resolved_at {
                Some(_) => Transition::Resolved,
                None => Transition::Opened,
            };
            Change::Alert { transition, alert }
        }),
        _ => return None,
    };
    match read {
        Ok(change) => Some((sequence_number, change)),
        Err(e) => {
            tracing::error!(error = %e, "a stream record is unreadable: not forwarded");
            runtime::metrics::refused("unreadable-record");
            None
        }
    }
}
