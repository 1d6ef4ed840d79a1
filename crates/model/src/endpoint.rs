//! Where a project forwards its events: an endpoint it registered, and what could not be
//! delivered there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::EventType;
use super::stored_event::Event;

/// Endpoints one project may register: each stored event is one queue message per endpoint.
pub const MAX_ENDPOINTS_PER_PROJECT: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub id: String,
    pub project_id: String,
    /// https, to a public address (checked again on every delivery).
    pub url: String,
    /// The types it receives; empty for every type.
    pub event_types: Vec<EventType>,
    /// Only this connection's events, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Set while paused: nothing is delivered, and resuming replays from here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Endpoint {
    /// Whether `event` is one this endpoint asked for (paused or not).
    pub fn wants(&self, event: &Event<'_>) -> bool {
        (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
            && self
                .connection_id
                .as_deref()
                .is_none_or(|cid| cid == event.connection_id)
    }
}

/// An event an endpoint did not accept before retries ran out: kept for its owner to see (and
/// to replay from), not retried again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeadLetter {
    pub endpoint_id: String,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub ses_message_id: String,
    pub attempts: u32,
    /// The last attempt's failure, as its owner may see it (a status and a line of the answer).
    pub last_error: String,
    pub first_attempt_at: DateTime<Utc>,
    pub failed_at: DateTime<Utc>,
}
