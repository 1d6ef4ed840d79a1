//! SES events as trackses stores and shows them: one per affected recipient.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The API's `type` values. `Unknown` keeps an event SES may add later instead of dropping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Send,
    Delivery,
    Bounce,
    Complaint,
    Reject,
    Open,
    Click,
    RenderingFailure,
    DeliveryDelay,
    Subscription,
    Unknown,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::Send,
        EventType::Delivery,
        EventType::Bounce,
        EventType::Complaint,
        EventType::Reject,
        EventType::Open,
        EventType::Click,
        EventType::RenderingFailure,
        EventType::DeliveryDelay,
        EventType::Subscription,
        EventType::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Send => "send",
            EventType::Delivery => "delivery",
            EventType::Bounce => "bounce",
            EventType::Complaint => "complaint",
            EventType::Reject => "reject",
            EventType::Open => "open",
            EventType::Click => "click",
            EventType::RenderingFailure => "rendering_failure",
            EventType::DeliveryDelay => "delivery_delay",
            EventType::Subscription => "subscription",
            EventType::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Every type SES publishes (all but `Unknown`): an event destination for fewer would
    /// silently drop some.
    pub fn published() -> impl Iterator<Item = EventType> {
        EventType::ALL
            .into_iter()
            .filter(|t| *t != EventType::Unknown)
    }

    /// The `eventType` SES writes in a notification.
    pub fn ses_name(self) -> Option<&'static str> {
        Some(match self {
            EventType::Send => "Send",
            EventType::Delivery => "Delivery",
            EventType::Bounce => "Bounce",
            EventType::Complaint => "Complaint",
            EventType::Reject => "Reject",
            EventType::Open => "Open",
            EventType::Click => "Click",
            EventType::RenderingFailure => "Rendering Failure",
            EventType::DeliveryDelay => "DeliveryDelay",
            EventType::Subscription => "Subscription",
            EventType::Unknown => return None,
        })
    }

    /// The type of an SES `eventType` (or the older `notificationType`); `Unknown` for one SES
    /// may add later.
    pub fn from_ses_name(name: &str) -> EventType {
        // SES spells it with a space; the spaceless form costs nothing to accept.
        if name == "RenderingFailure" {
            return EventType::RenderingFailure;
        }
        EventType::published()
            .find(|t| t.ses_name() == Some(name))
            .unwrap_or(EventType::Unknown)
    }

    /// The member of a notification that carries the event's own details, by SES's name.
    pub fn ses_detail_member(self) -> Option<&'static str> {
        Some(match self {
            EventType::Send => "send",
            EventType::Delivery => "delivery",
            EventType::Bounce => "bounce",
            EventType::Complaint => "complaint",
            EventType::Reject => "reject",
            EventType::Open => "open",
            EventType::Click => "click",
            EventType::RenderingFailure => "failure",
            EventType::DeliveryDelay => "deliveryDelay",
            EventType::Subscription => "subscription",
            EventType::Unknown => return None,
        })
    }
}

pub type Tags = BTreeMap<String, Vec<String>>;

/// The `mail` object every SES notification carries, reduced to what trackses shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MailSummary {
    pub ses_message_id: String,
    pub source: String,
    pub subject: Option<String>,
    /// `mail.timestamp`: when SES accepted the message.
    pub sent_at: DateTime<Utc>,
    pub sending_account_id: Option<String>,
    pub destination: Vec<String>,
    pub tags: Tags,
}

/// One recipient's share of a notification, with the details that belong to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecipientEvent {
    /// Lower-cased, trimmed address.
    pub recipient: String,
    /// API.md's type-specific fields (snake_case keys), event-level and recipient-level merged.
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// A parsed SES notification (event publishing or the older identity notification format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SesNotification {
    pub event_type: EventType,
    /// `eventType` / `notificationType` exactly as SES spelled it.
    pub raw_type: String,
    pub mail: MailSummary,
    /// The sub-object's own timestamp; `mail.timestamp` only where the event has none.
    pub occurred_at: DateTime<Utc>,
    /// Never empty.
    pub recipients: Vec<RecipientEvent>,
}

impl RecipientEvent {
    /// Only Permanent bounces count toward the bounce rate and suppression.
    pub fn is_permanent_bounce(&self) -> bool {
        self.details.get("bounce_type").and_then(|v| v.as_str()) == Some("Permanent")
    }
}

impl SesNotification {
    pub fn is_permanent_bounce(&self) -> bool {
        self.event_type == EventType::Bounce
            && self
                .recipients
                .iter()
                .any(RecipientEvent::is_permanent_bounce)
    }
}
