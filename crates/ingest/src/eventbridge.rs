//! EventBridge deliveries: SES events a customer account's rules forwarded to trackses' bus,
//! queued, and read in batches. No signature to check: AWS writes each event's `account` and
//! `region`, and only AWS can put an `aws.ses` event on a bus. So an event is stored only for a
//! connection whose role proved that very account and region (a route), and a mail event only
//! for the connection of its own configuration set.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::value::RawValue;

use model::connection::EventBridgeRoute;
use model::signals::{AdvisorSignal, AdvisorStatus, SendingSignal, Signal};
use model::{ConnectionMode, SesNotification};

use crate::pipeline::{counted_write, ingest_write};
use crate::port::{IngestWrite, PortError, StoreFailure, WriteOutcome};
use crate::ses::{self, SesError};

#[cfg(test)]
#[path = "eventbridge_tests.rs"]
mod tests;

/// EventBridge's limit for one event (PutEvents entry); a queued message is never larger in
/// earnest.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;

/// Records of one batch stored at once: a batch's puts overlap instead of queueing behind each
/// other (Lambda hands over up to 100).
const CONCURRENT_RECORDS: usize = 16;

/// How much of an unknown detail-type a log line repeats.
const MAX_SHOWN_DETAIL_TYPE: usize = 64;

/// The tag SES adds to every event published through a configuration set.
const CONFIGURATION_SET_TAG: &str = "ses:configuration-set";

/// What the ingest-eventbridge function needs of storage.
pub trait EventBridgeStore: Send + Sync + 'static {
    type Error: StoreFailure;

    /// The routes of the account in the region (one per connected configuration set).
    fn eventbridge_routes(
        &self,
        account_id: &str,
        region: &str,
    ) -> impl Future<Output = Result<Vec<EventBridgeRoute>, Self::Error>> + Send;

    /// Keeps the signal on the connection unless a later one of its kind is there.
    fn record_signal(
        &self,
        cid: &str,
        signal: &Signal,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Stores the notification's events once, however often it arrives.
    fn write_ingest(
        &self,
        write: &IngestWrite<'_>,
    ) -> impl Future<Output = Result<WriteOutcome, Self::Error>> + Send;
}

/// The EventBridge event as the rule queued it. `detail` stays raw: the SES parser reads it.
#[derive(Debug, Deserialize)]
struct EventEnvelope<'a> {
    #[serde(borrow)]
    id: &'a str,
    #[serde(rename = "detail-type", borrow)]
    detail_type: &'a str,
    #[serde(borrow)]
    source: &'a str,
    #[serde(borrow)]
    account: &'a str,
    #[serde(borrow)]
    region: &'a str,
    time: DateTime<Utc>,
    /// What the event concerns: for an advisor recommendation, the identity.
    #[serde(default)]
    resources: Vec<String>,
    #[serde(borrow)]
    detail: &'a RawValue,
}

/// What an event is, by its `detail-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mail,
    Sending { enabled: bool },
    Advisor(AdvisorStatus),
}

fn kind(detail_type: &str) -> Option<Kind> {
    Some(match detail_type {
        "Email Sent"
        | "Email Delivered"
        | "Email Bounced"
        | "Email Complaint Received"
        | "Email Rejected"
        | "Email Opened"
        | "Email Clicked"
        | "Email Rendering Failed"
        | "Email Delivery Delayed"
        | "Email Subscribed" => Kind::Mail,
        "Sending Status Enabled" => Kind::Sending { enabled: true },
        "Sending Status Disabled" => Kind::Sending { enabled: false },
        "Advisor Recommendation Status Open" => Kind::Advisor(AdvisorStatus::Open),
        "Advisor Recommendation Status Resolved" => Kind::Advisor(AdvisorStatus::Resolved),
        _ => return None,
    })
}

/// What happened to an accepted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventBridgeOutcome {
    Stored {
        events: usize,
    },
    Duplicate,
    /// An account signal, kept on this many of the account's connections (fewer than it has
    /// when a later signal was there already).
    Signal {
        connections: usize,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum EventBridgeError {
    #[error("the event is {bytes} bytes, more than EventBridge allows ({MAX_EVENT_BYTES})")]
    TooLarge { bytes: usize },
    #[error("the message is not an EventBridge event: {0}")]
    NotAnEvent(String),
    #[error("the event's source is not aws.ses")]
    NotSes,
    #[error("the event's account or region is not an AWS account id and region")]
    BadOrigin,
    #[error("SES detail-type {0:?} is not one trackses stores")]
    UnknownDetailType(String),
    #[error("the account's routes could not be read")]
    RoutesUnavailable,
    #[error("the sending status is an SES tenant's, not the account's")]
    NotTheAccounts,
    #[error("no connection of this account and region receives EventBridge deliveries")]
    UnregisteredAccount,
    #[error("the event's configuration set is not connected to trackses for this account")]
    UnroutedConfigurationSet,
    #[error("the SES event was sent by another account than the event's")]
    ForeignSendingAccount,
    #[error("the detail is not an SES event: {0}")]
    NotSesDetail(#[from] SesError),
    #[error(transparent)]
    Store(PortError),
}

impl EventBridgeError {
    /// A short, fixed name for metrics and log queries.
    pub fn reason(&self) -> &'static str {
        match self {
            EventBridgeError::TooLarge { .. } => "too_large",
            EventBridgeError::NotAnEvent(_) => "not_an_event",
            EventBridgeError::NotSes => "not_ses_source",
            EventBridgeError::BadOrigin => "bad_origin",
            EventBridgeError::UnknownDetailType(_) => "unknown_detail_type",
            EventBridgeError::NotTheAccounts => "tenant_status",
            EventBridgeError::UnregisteredAccount => "unregistered_account",
            EventBridgeError::UnroutedConfigurationSet => "unrouted_configuration_set",
            EventBridgeError::ForeignSendingAccount => "foreign_sending_account",
            EventBridgeError::NotSesDetail(_) => "not_ses",
            EventBridgeError::RoutesUnavailable | EventBridgeError::Store(_) => "store",
        }
    }

    /// Only a store failure is worth another delivery; everything else would be refused again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            EventBridgeError::RoutesUnavailable | EventBridgeError::Store(_)
        )
    }
}

fn store_failed(error: impl StoreFailure) -> EventBridgeError {
    EventBridgeError::Store(Box::new(error))
}

pub struct EventBridgeIngestor<S> {
    store: S,
    retention: Duration,
}

/// An event checked for everything that costs no read: small enough, EventBridge's shape, from
/// SES, an AWS account and region, of a kind trackses keeps.
struct Accepted<'a> {
    event: EventEnvelope<'a>,
    kind: Kind,
}

fn accept(body: &str) -> Result<Accepted<'_>, EventBridgeError> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(EventBridgeError::TooLarge { bytes: body.len() });
    }
    let event: EventEnvelope<'_> =
        serde_json::from_str(body).map_err(|e| EventBridgeError::NotAnEvent(e.to_string()))?;
    if event.source != "aws.ses" {
        return Err(EventBridgeError::NotSes);
    }
    if !model::ids::is_account_id(event.account) || !model::region::is_ses_region(event.region) {
        return Err(EventBridgeError::BadOrigin);
    }
    let kind = kind(event.detail_type).ok_or_else(|| {
        EventBridgeError::UnknownDetailType(
            event
                .detail_type
                .chars()
                .take(MAX_SHOWN_DETAIL_TYPE)
                .collect(),
        )
    })?;
    Ok(Accepted { event, kind })
}

/// The routes of the (account, region) pairs of one batch, each read once; `None` where the read
/// failed (its records are delivered again).
type Routes<'a> = HashMap<(&'a str, &'a str), Option<Vec<EventBridgeRoute>>>;

impl<S: EventBridgeStore> EventBridgeIngestor<S> {
    pub fn new(store: S, retention_days: u32) -> EventBridgeIngestor<S> {
        EventBridgeIngestor {
            store,
            retention: Duration::days(i64::from(retention_days)),
        }
    }

    /// One queued message per entry: each one's fate, in order. The batch's accounts' routes are
    /// read once each, then its records stored side by side.
    pub async fn handle_batch(
        &self,
        bodies: &[&str],
    ) -> Vec<Result<EventBridgeOutcome, EventBridgeError>> {
        let accepted: Vec<_> = bodies.iter().map(|body| accept(body)).collect();
        let routes = self.routes_of(&accepted).await;
        // The futures made first, then run: a closure inside the stream would have to name the
        // events' lifetime for every caller.
        let handled: Vec<_> = accepted
            .into_iter()
            .map(|event| self.handle(event, &routes))
            .collect();
        futures_util::stream::iter(handled)
            .buffered(CONCURRENT_RECORDS)
            .collect()
            .await
    }

    async fn routes_of<'a>(
        &self,
        accepted: &[Result<Accepted<'a>, EventBridgeError>],
    ) -> Routes<'a> {
        let mut routes = Routes::new();
        for Accepted { event, .. } in accepted.iter().flatten() {
            let key = (event.account, event.region);
            if routes.contains_key(&key) {
                continue;
            }
            let found = match self.store.eventbridge_routes(key.0, key.1).await {
                Ok(found) => Some(found),
                Err(error) => {
                    tracing::error!(account = key.0, region = key.1, error = %error, "EventBridge routes not read");
                    None
                }
            };
            routes.insert(key, found);
        }
        routes
    }

    async fn handle(
        &self,
        accepted: Result<Accepted<'_>, EventBridgeError>,
        routes: &Routes<'_>,
    ) -> Result<EventBridgeOutcome, EventBridgeError> {
        let Accepted { event, kind } = accepted?;
        let account_routes = routes
            .get(&(event.account, event.region))
            .and_then(Option::as_deref)
            .ok_or(EventBridgeError::RoutesUnavailable)?;
        if account_routes.is_empty() {
            return Err(EventBridgeError::UnregisteredAccount);
        }
        match kind {
            Kind::Mail => self.store_mail(&event, account_routes).await,
            // A status naming a resource is a tenant's (SES tenants), not the account's.
            Kind::Sending { .. } if !event.resources.is_empty() => {
                Err(EventBridgeError::NotTheAccounts)
            }
            Kind::Sending { enabled } => {
                let signal = Signal::Sending(SendingSignal {
                    enabled,
                    at: status_changed_at(event.detail).unwrap_or(event.time),
                });
                self.record(&signal, account_routes).await
            }
            Kind::Advisor(status) => {
                let signal =
                    Signal::Advisor(advice(status, event.detail, &event.resources, event.time));
                self.record(&signal, account_routes).await
            }
        }
    }

    async fn store_mail(
        &self,
        event: &EventEnvelope<'_>,
        routes: &[EventBridgeRoute],
    ) -> Result<EventBridgeOutcome, EventBridgeError> {
        let notification = ses::parse(event.detail.get())?;
        if notification
            .mail
            .sending_account_id
            .as_deref()
            .is_some_and(|sender| sender != event.account)
        {
            return Err(EventBridgeError::ForeignSendingAccount);
        }
        // SES tags every event it publishes through a configuration set with the set's name, and
        // a stack's rule forwards only its own set's: an event naming no set, or another, is not
        // the route's.
        let route = configuration_set(&notification)
            .and_then(|set| routes.iter().find(|r| r.configuration_set == set))
            .ok_or(EventBridgeError::UnroutedConfigurationSet)?;
        let write = ingest_write(
            route.into(),
            event.id,
            &notification,
            Utc::now(),
            self.retention,
        );
        // Routes exist only for connections the quick-create stack made: role mode.
        let outcome = counted_write(
            ConnectionMode::Role,
            &write,
            self.store.write_ingest(&write),
        )
        .await
        .map_err(store_failed)?;
        Ok(match outcome {
            WriteOutcome::Stored { events } => EventBridgeOutcome::Stored { events },
            WriteOutcome::Duplicate => EventBridgeOutcome::Duplicate,
        })
    }

    async fn record(
        &self,
        signal: &Signal,
        routes: &[EventBridgeRoute],
    ) -> Result<EventBridgeOutcome, EventBridgeError> {
        let mut connections = 0;
        for route in routes {
            let kept = self
                .store
                .record_signal(&route.connection_id, signal)
                .await
                .map_err(store_failed)?;
            connections += usize::from(kept);
        }
        Ok(EventBridgeOutcome::Signal { connections })
    }
}

/// When SES changed the status (`data.record.lastUpdatedTimestamp`, a `[year, month, day, hour,
/// minute, second, nanosecond]` array), kept to the millisecond as every stored time: an event's
/// `time` has whole seconds, and a pause and a resume can share one.
fn status_changed_at(detail: &RawValue) -> Option<DateTime<Utc>> {
    #[derive(Deserialize)]
    struct Status {
        data: Data,
    }
    #[derive(Deserialize)]
    struct Data {
        record: Record,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Record {
        last_updated_timestamp: [u32; 7],
    }
    let status: Status = serde_json::from_str(detail.get()).ok()?;
    let [year, month, day, hour, minute, second, nanos] = status.data.record.last_updated_timestamp;
    chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)
        .map(|t| t.and_utc())
}

/// The configuration set SES published the event through (its own tag on every such event).
fn configuration_set(notification: &SesNotification) -> Option<&str> {
    notification
        .mail
        .tags
        .get(CONFIGURATION_SET_TAG)
        .and_then(|values| values.first())
        .map(String::as_str)
}

/// How long the advisor's words may be on a connection.
const MAX_RECOMMENDATION: usize = 300;

/// How long a resource or an identity's name may be on a connection (an ARN is at most 2,048).
const MAX_RESOURCE: usize = 2048;

/// The advisor's finding (`{"data": <text>, "metadata": {"type", "impact"}}`), and the resource it
/// concerns (the event's first): one recommendation, its words bounded.
fn advice(
    status: AdvisorStatus,
    detail: &RawValue,
    resources: &[String],
    at: DateTime<Utc>,
) -> AdvisorSignal {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Finding {
        data: Option<serde_json::Value>,
        metadata: Metadata,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Metadata {
        #[serde(rename = "type")]
        kind: Option<String>,
        impact: Option<String>,
    }
    let finding: Finding = serde_json::from_str(detail.get()).unwrap_or_default();
    let text = match finding.data {
        Some(serde_json::Value::String(text)) => Some(text),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let impact = finding.metadata.impact.map(|i| format!("{i} impact"));
    let words = [impact, text]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    AdvisorSignal {
        status,
        kind: bounded(
            finding.metadata.kind.unwrap_or_default(),
            MAX_RECOMMENDATION,
        ),
        resource: resources.first().map(|r| bounded(r.clone(), MAX_RESOURCE)),
        recommendation: bounded(words, MAX_RECOMMENDATION),
        at,
    }
}

fn bounded(text: String, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}
