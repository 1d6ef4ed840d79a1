//! An event as the API shows it: one recipient's share of one SES notification.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::{EventType, Tags};

pub type Details = serde_json::Map<String, serde_json::Value>;

/// Borrowed while it is written (every recipient of a notification shares the mail's tags, and
/// the hot path should not copy them), owned when read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event<'a> {
    pub id: Cow<'a, str>,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub ses_message_id: Cow<'a, str>,
    pub recipient: Cow<'a, str>,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub connection_id: Cow<'a, str>,
    pub source: Cow<'a, str>,
    pub subject: Option<Cow<'a, str>>,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Vec<String>>))]
    pub tags: Cow<'a, Tags>,
    /// What SES says of this event type (bounce type, diagnostic code, link clicked…), in
    /// snake_case.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Cow<'a, Details>,
}

pub type StoredEvent = Event<'static>;

impl Event<'_> {
    /// Only Permanent bounces count toward the bounce rate and suppression.
    pub fn is_permanent_bounce(&self) -> bool {
        self.event_type == EventType::Bounce
            && self.details.get("bounce_type").and_then(|v| v.as_str()) == Some("Permanent")
    }
}

/// A recipient's latest meaningful state, whatever order its events arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecipientStatus {
    Complained,
    Bounced,
    Rejected,
    RenderingFailed,
    Clicked,
    Opened,
    Delivered,
    Delayed,
    Sent,
    Unknown,
}

impl RecipientStatus {
    /// Strongest first: a complaint or a bounce outranks a delivery that arrived later.
    const PRECEDENCE: [(EventType, RecipientStatus); 9] = [
        (EventType::Complaint, RecipientStatus::Complained),
        (EventType::Bounce, RecipientStatus::Bounced),
        (EventType::Reject, RecipientStatus::Rejected),
        (
            EventType::RenderingFailure,
            RecipientStatus::RenderingFailed,
        ),
        (EventType::Click, RecipientStatus::Clicked),
        (EventType::Open, RecipientStatus::Opened),
        (EventType::Delivery, RecipientStatus::Delivered),
        (EventType::DeliveryDelay, RecipientStatus::Delayed),
        (EventType::Send, RecipientStatus::Sent),
    ];

    pub fn from_seen(seen: impl Fn(EventType) -> bool) -> RecipientStatus {
        Self::PRECEDENCE
            .iter()
            .find(|(event_type, _)| seen(*event_type))
            .map_or(RecipientStatus::Unknown, |(_, status)| *status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_beats_delivery_and_click_beats_open() {
        let status = |seen: &[EventType]| RecipientStatus::from_seen(|t| seen.contains(&t));
        use EventType::*;
        assert_eq!(status(&[Send, Delivery, Bounce]), RecipientStatus::Bounced);
        assert_eq!(status(&[Bounce, Send, Delivery]), RecipientStatus::Bounced);
        assert_eq!(status(&[Delivery, Open, Click]), RecipientStatus::Clicked);
        assert_eq!(status(&[Delivery, Complaint]), RecipientStatus::Complained);
        assert_eq!(status(&[Send]), RecipientStatus::Sent);
        assert_eq!(status(&[Subscription]), RecipientStatus::Unknown);
    }
}
