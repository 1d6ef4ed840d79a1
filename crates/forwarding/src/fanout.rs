//! The table stream's second consumer: each new event becomes one delivery job per endpoint of
//! its project that wants it. It reads endpoints without their secrets and writes nothing but
//! the queue.

use std::collections::HashMap;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use chrono::Utc;
use futures_util::future::join_all;

use model::{Endpoint, StoredEvent};
use store::attrs::Item;
use store::{Store, event_item};

use crate::job::Job;
use crate::queue::JobQueue;

pub struct Fanout {
    store: Store,
    queue: JobQueue,
}

/// A new event of the batch, and where it sits in the stream.
struct NewEvent {
    sequence_number: String,
    project_id: String,
    event: StoredEvent,
}

impl Fanout {
    pub fn new(store: Store, queue: JobQueue) -> Fanout {
        Fanout { store, queue }
    }

    /// One batch of stream records. What could not be enqueued is reported from its first
    /// record on, which Lambda hands back (with what followed it) until it is taken; a record
    /// enqueued twice that way is the same job, and the event id lets its receiver see it.
    pub async fn handle(&self, records: Vec<EventRecord>) -> DynamoDbEventResponse {
        let events: Vec<NewEvent> = records.into_iter().filter_map(new_event).collect();
        let mut projects: Vec<&str> = events.iter().map(|e| e.project_id.as_str()).collect();
        projects.sort_unstable();
        projects.dedup();
        let reads = join_all(projects.iter().map(|pid| self.store.endpoints(pid))).await;
        let mut endpoints: HashMap<&str, Vec<Endpoint>> = HashMap::new();
        let mut unread = Vec::new();
        for (pid, read) in projects.into_iter().zip(reads) {
            match read {
                Ok(list) => {
                    endpoints.insert(pid, list);
                }
                Err(e) => {
                    tracing::error!(project_id = pid, error = %e, "endpoints unreadable; their events are retried");
                    runtime::metrics::failure("endpoints-unreadable");
                    unread.push(pid);
                }
            }
        }
        let now = Utc::now();
        let mut jobs = Vec::new();
        let mut owners = Vec::new();
        for (index, new) in events.iter().enumerate() {
            let wanted = endpoints
                .get(new.project_id.as_str())
                .into_iter()
                .flatten()
                .filter(|e| e.paused_at.is_none() && e.wants(&new.event));
            for endpoint in wanted {
                owners.push(index);
                jobs.push(Job::Deliver {
                    project_id: new.project_id.clone(),
                    endpoint_id: endpoint.id.clone(),
                    enqueued_at: now,
                    event: Box::new(new.event.clone()),
                });
            }
        }
        let taken = self.queue.send(&jobs).await;
        let first_failed = events
            .iter()
            .enumerate()
            .find(|(index, new)| {
                unread.contains(&new.project_id.as_str())
                    || owners
                        .iter()
                        .zip(&taken)
                        .any(|(owner, ok)| owner == index && !ok)
            })
            .map(|(_, new)| new.sequence_number.clone());
        let mut response = DynamoDbEventResponse::default();
        if let Some(sequence_number) = first_failed {
            runtime::metrics::failure("jobs-not-enqueued");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(sequence_number);
            response.batch_item_failures.push(failure);
        }
        let queued = taken.iter().filter(|ok| **ok).count();
        tracing::info!(events = events.len(), queued, "events fanned out");
        response
    }
}

/// The new event a record reports; `None` for anything else (the event source's filter lets
/// little else through) or an unreadable image, which is logged and counted, not retried.
fn new_event(record: EventRecord) -> Option<NewEvent> {
    if record.event_name != "INSERT" {
        return None;
    }
    let sequence_number = record.change.sequence_number?;
    let item: Item = record.change.new_image.into();
    if !event_item::is_event(&item) {
        return None;
    }
    let read = event_item::project_id(&item)
        .and_then(|pid| event_item::event(&item).map(|event| (pid.to_owned(), event)));
    match read {
        Ok((project_id, event)) => Some(NewEvent {
            sequence_number,
            project_id,
            event,
        }),
        Err(e) => {
            tracing::error!(error = %e, "a stream record's event is unreadable: not forwarded");
            runtime::metrics::refused("unreadable-record");
            None
        }
    }
}
