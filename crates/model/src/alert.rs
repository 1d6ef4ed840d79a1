//! Alerts: rules a project sets on its sending (rates as AWS counts them, bursts, connection
//! health, silence), the channels it is told through, and the alerts themselves, each opened
//! once when its condition starts and resolved once when it clears.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::EventType;
use super::stored_event::Event;

pub const MAX_RULES_PER_PROJECT: usize = 20;
/// Where an e-mail channel's confirmation link leads (the API's public page).
pub const CONFIRM_PATH: &str = "/v1/hooks/channels/confirm";
pub const MAX_CHANNELS_PER_PROJECT: usize = 10;

/// A rate alert resolves only once the rate is below this share of its threshold, so a rate
/// hovering at the threshold does not open and resolve it over and over.
pub const HYSTERESIS: f64 = 0.8;

/// Where a rate rule opens, by default: AWS reviews an SES account at a 5 % bounce or 0.1 %
/// complaint rate ("Reputation metrics"); `early` is one step before, and a rule's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 4 % bounces, 0.08 % complaints: time to act before AWS looks.
    Early,
    /// 5 % bounces, 0.1 % complaints: where AWS reviews the account.
    Review,
}

impl Level {
    pub fn bounce_percent(self) -> f64 {
        match self {
            Level::Early => 4.0,
            Level::Review => 5.0,
        }
    }

    pub fn complaint_percent(self) -> f64 {
        match self {
            Level::Early => 0.08,
            Level::Review => 0.1,
        }
    }
}

/// What a burst rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BurstOf {
    /// Permanent bounces, as the bounce rate counts them.
    Bounces,
    Complaints,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// Permanent bounces / sends over the last `window_hours`, once at least `min_sends` were
    /// sent in it.
    BounceRate {
        threshold_percent: f64,
        window_hours: u32,
        min_sends: u64,
    },
    /// Complaints / sends over the last `window_hours`, once at least `min_sends` were sent.
    ComplaintRate {
        threshold_percent: f64,
        window_hours: u32,
        min_sends: u64,
    },
    /// At least `count` bounces or complaints within the last `minutes`.
    Burst {
        of: BurstOf,
        count: u64,
        minutes: u32,
    },
    /// A connection trackses wired (automatic, role) that no longer works as wired, checked on a
    /// schedule; one alert per connection.
    ConnectionHealth,
    /// A share-nothing connection that received nothing for `quiet_hours` after a steady flow
    /// (events in each of the `quiet_hours` hours before); one alert per connection.
    Silence { quiet_hours: u32 },
}

/// Bounds a rule's numbers are held to (the API refuses others).
pub mod bounds {
    pub const WINDOW_HOURS: std::ops::RangeInclusive<u32> = 1..=168;
    pub const BURST_MINUTES: std::ops::RangeInclusive<u32> = 1..=60;
    pub const BURST_COUNT: std::ops::RangeInclusive<u64> = 1..=100_000;
    pub const QUIET_HOURS: std::ops::RangeInclusive<u32> = 1..=72;
    pub const MIN_SENDS: std::ops::RangeInclusive<u64> = 1..=1_000_000;
}

impl Condition {
    /// Evaluated from counters the stream keeps for the rule; the others on the schedule.
    pub fn is_counted(&self) -> bool {
        matches!(
            self,
            Condition::BounceRate { .. }
                | Condition::ComplaintRate { .. }
                | Condition::Burst { .. }
        )
    }

    /// The counters an event adds to this rule's (by name), if any.
    pub fn counters_of(&self, event: &Event<'_>) -> &'static [&'static str] {
        const SEND: &[&str] = &["send"];
        const BOUNCE: &[&str] = &["bounce_permanent"];
        const COMPLAINT: &[&str] = &["complaint"];
        match (self, event.event_type) {
            (Condition::BounceRate { .. } | Condition::ComplaintRate { .. }, EventType::Send) => {
                SEND
            }
            (Condition::BounceRate { .. }, EventType::Bounce)
            | (
                Condition::Burst {
                    of: BurstOf::Bounces,
                    ..
                },
                EventType::Bounce,
            ) if event.is_permanent_bounce() => BOUNCE,
            (Condition::ComplaintRate { .. }, EventType::Complaint)
            | (
                Condition::Burst {
                    of: BurstOf::Complaints,
                    ..
                },
                EventType::Complaint,
            ) => COMPLAINT,
            _ => &[],
        }
    }
}

/// Which events a counted rule watches: all of the project's unless narrowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// One connection's events (for health and silence rules: that connection only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Mail sent from this identity: an address, or a domain (any address at it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// Mail carrying this tag, `name:value` (a configuration-set tag, or SES's own such as
    /// `ses:configuration-set:<set>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl Scope {
    pub fn matches(&self, event: &Event<'_>) -> bool {
        let connection = self
            .connection_id
            .as_deref()
            .is_none_or(|cid| cid == event.connection_id);
        let identity = self.identity.as_deref().is_none_or(|identity| {
            let source = address_of(&event.source);
            source.eq_ignore_ascii_case(identity)
                || source
                    .rsplit_once('@')
                    .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(identity))
        });
        let tag = self.tag.as_deref().is_none_or(|tag| {
            event.tags.iter().any(|(name, values)| {
                values.iter().any(|value| {
                    tag.strip_prefix(name.as_str())
                        .and_then(|r| r.strip_prefix(':'))
                        == Some(value)
                })
            })
        });
        connection && identity && tag
    }
}

/// `Name <a@b>` → `a@b`: SES's `source` may carry a display name.
fn address_of(source: &str) -> &str {
    match (source.rfind('<'), source.rfind('>')) {
        (Some(open), Some(close)) if open < close => &source[open + 1..close],
        _ => source.trim(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRule {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub condition: Condition,
    #[serde(default)]
    pub scope: Scope,
    /// Where its openings and resolutions are sent (channel ids of the project).
    pub channel_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl AlertRule {
    /// The counters `event` adds to this rule's: none unless it is counted and in scope.
    pub fn counters_of(&self, event: &Event<'_>) -> &'static [&'static str] {
        if self.scope.matches(event) {
            self.condition.counters_of(event)
        } else {
            &[]
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChannelKind {
    /// A JSON POST signed like forwarded events (Standard Webhooks).
    Webhook { url: String },
    /// A Slack-compatible incoming webhook (`{"text": …}`).
    Slack { url: String },
    /// An e-mail from trackses' own SES account, once the address confirmed it wants them.
    Email { address: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelStatus {
    Active,
    /// An e-mail channel whose address has not followed its confirmation link: nothing is sent
    /// there but that one message, so trackses cannot be made to mail a stranger.
    Unconfirmed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Channel {
    pub id: String,
    pub project_id: String,
    #[serde(flatten)]
    pub kind: ChannelKind,
    pub status: ChannelStatus,
    pub created_at: DateTime<Utc>,
}

/// One alert: opened once when its rule's condition started for its subject, resolved once
/// when it cleared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: String,
    pub project_id: String,
    pub rule_id: String,
    pub rule_name: String,
    /// What it is about: the rule's scope for counted rules, a connection for the others.
    pub subject: String,
    /// What held when it opened, in words.
    pub summary: String,
    pub opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// What held when it resolved, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Where its opening and resolution are sent.
    pub channel_ids: Vec<String>,
}

/// An alert's two moments, each one notification per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Opened,
    Resolved,
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::event::Tags;

    fn event(event_type: EventType, source: &str, details: serde_json::Value) -> Event<'static> {
        let mut tags = Tags::new();
        tags.insert("campaign".into(), vec!["spring".into()]);
        Event {
            id: "01".into(),
            event_type,
            ses_message_id: "m".into(),
            recipient: "r@example.com".into(),
            occurred_at: Utc::now(),
            received_at: Utc::now(),
            connection_id: "con_a".into(),
            source: source.to_owned().into(),
            subject: None,
            tags: Cow::Owned(tags),
            details: Cow::Owned(details.as_object().cloned().unwrap_or_default()),
        }
    }

    #[test]
    fn a_scope_narrows_by_connection_identity_and_tag() {
        let sent = event(
            EventType::Send,
            "Shop <news@mail.example.com>",
            serde_json::json!({}),
        );
        let scope = |c: Option<&str>, i: Option<&str>, t: Option<&str>| Scope {
            connection_id: c.map(Into::into),
            identity: i.map(Into::into),
            tag: t.map(Into::into),
        };
        for matching in [
            scope(None, None, None),
            scope(Some("con_a"), None, None),
            scope(None, Some("mail.example.com"), None),
            scope(None, Some("NEWS@mail.example.com"), None),
            scope(None, None, Some("campaign:spring")),
        ] {
            assert!(matching.matches(&sent), "{matching:?}");
        }
        for other in [
            scope(Some("con_b"), None, None),
            scope(None, Some("example.com"), None),
            scope(None, Some("other@mail.example.com"), None),
            scope(None, None, Some("campaign:autumn")),
            scope(None, None, Some("campaign")),
        ] {
            assert!(!other.matches(&sent), "{other:?}");
        }
    }

    #[test]
    fn rates_count_sends_and_only_permanent_bounces() {
        let rate = Condition::BounceRate {
            threshold_percent: 5.0,
            window_hours: 24,
            min_sends: 100,
        };
        let send = event(EventType::Send, "a@b.c", serde_json::json!({}));
        let hard = event(
            EventType::Bounce,
            "a@b.c",
            serde_json::json!({"bounce_type": "Permanent"}),
        );
        let soft = event(
            EventType::Bounce,
            "a@b.c",
            serde_json::json!({"bounce_type": "Transient"}),
        );
        let complaint = event(EventType::Complaint, "a@b.c", serde_json::json!({}));
        assert_eq!(rate.counters_of(&send), ["send"]);
        assert_eq!(rate.counters_of(&hard), ["bounce_permanent"]);
        assert!(rate.counters_of(&soft).is_empty());
        assert!(rate.counters_of(&complaint).is_empty());
        let burst = Condition::Burst {
            of: BurstOf::Complaints,
            count: 3,
            minutes: 10,
        };
        assert!(burst.counters_of(&send).is_empty());
        assert_eq!(burst.counters_of(&complaint), ["complaint"]);
        assert!(Condition::ConnectionHealth.counters_of(&hard).is_empty());
    }
}
