//! What SES says of an account itself, which only EventBridge carries: whether the account may
//! send (AWS pauses it, or its owner does), and the deliverability advisor's recommendations.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One account signal as it arrived, dated by the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    Sending(SendingSignal),
    Advisor(AdvisorSignal),
}

impl Signal {
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Signal::Sending(s) => s.at,
            Signal::Advisor(a) => a.at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendingSignal {
    /// False from a `Sending Status Disabled` event until a later `Sending Status Enabled`.
    pub enabled: bool,
    /// When SES changed it (its own timestamp in the event, else the event's time).
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AdvisorStatus {
    Open,
    Resolved,
}

impl AdvisorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvisorStatus::Open => "open",
            AdvisorStatus::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<AdvisorStatus> {
        match s {
            "open" => Some(AdvisorStatus::Open),
            "resolved" => Some(AdvisorStatus::Resolved),
            _ => None,
        }
    }
}

/// One recommendation of the deliverability advisor, as it last stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdvisorSignal {
    pub status: AdvisorStatus,
    /// Its type as SES names it (`DMARC`, …); empty when SES named none.
    pub kind: String,
    /// What it concerns (an identity's ARN), when SES names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// What the advisor recommends, as SES words it (bounded).
    pub recommendation: String,
    pub at: DateTime<Utc>,
}

impl AdvisorSignal {
    /// What makes two events the same recommendation: its type and what it concerns.
    pub fn key(&self) -> String {
        crate::digest::sha256_hex(
            &[self.kind.as_str(), self.resource.as_deref().unwrap_or("")].join("\n"),
        )
    }
}

/// The latest of each signal; empty for an account that sent none (or delivers through SNS).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountSignals {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sending: Option<SendingSignal>,
    /// Each recommendation the advisor raised for the account, newest first: one resolved for an
    /// identity leaves another's open.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advisor: Vec<AdvisorSignal>,
}

impl AccountSignals {
    pub fn is_empty(&self) -> bool {
        self.sending.is_none() && self.advisor.is_empty()
    }
}
