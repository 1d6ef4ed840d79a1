//! The body an endpoint receives: the Standard Webhooks envelope around the event exactly as
//! the API shows it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use model::StoredEvent;

#[derive(Serialize)]
struct Envelope<'a> {
    /// `ses.<type>`: `ses.bounce`, `ses.delivery_delay`…
    #[serde(rename = "type")]
    kind: String,
    timestamp: DateTime<Utc>,
    data: &'a StoredEvent,
}

pub fn body(event: &StoredEvent) -> Vec<u8> {
    let envelope = Envelope {
        kind: ["ses.", event.event_type.as_str()].concat(),
        timestamp: event.occurred_at,
        data: event,
    };
    // A StoredEvent is plain data (strings, times, JSON maps): it always serialises.
    serde_json::to_vec(&envelope).unwrap_or_default()
}
