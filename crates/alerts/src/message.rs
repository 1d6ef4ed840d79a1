//! What a notification says, per channel kind: the same facts (rule, subject, what held, when)
//! as a signed JSON document, a Slack line, or an e-mail.

use chrono::{DateTime, Utc};
use serde::Serialize;

use model::Alert;
use model::alert::Transition;

/// The `webhook-id` of an alert's transition: the same on every retry, different for its
/// opening and its resolution.
pub fn delivery_id(alert: &Alert, transition: Transition) -> String {
    [alert.id.as_str(), ".", verb(transition)].concat()
}

fn verb(transition: Transition) -> &'static str {
    match transition {
        Transition::Opened => "opened",
        Transition::Resolved => "resolved",
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    /// `alert.opened` or `alert.resolved`.
    #[serde(rename = "type")]
    kind: String,
    timestamp: DateTime<Utc>,
    data: &'a Alert,
}

/// A webhook channel's body (Standard Webhooks' envelope).
pub fn webhook_body(alert: &Alert, transition: Transition) -> Vec<u8> {
    let envelope = Envelope {
        kind: ["alert.", verb(transition)].concat(),
        timestamp: match transition {
            Transition::Opened => alert.opened_at,
            Transition::Resolved => alert.resolved_at.unwrap_or(alert.opened_at),
        },
        data: alert,
    };
    // Plain data: it always serialises.
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// One line: what Slack (and compatible incoming webhooks) show.
pub fn line(alert: &Alert, transition: Transition) -> String {
    match transition {
        Transition::Opened => format!(
            "trackses alert opened: {} ({}): {}",
            alert.rule_name, alert.subject, alert.summary
        ),
        Transition::Resolved => format!(
            "trackses alert resolved: {} ({}): {}",
            alert.rule_name,
            alert.subject,
            alert.resolution.as_deref().unwrap_or("cleared")
        ),
    }
}

/// A Slack-compatible incoming webhook's body.
pub fn slack_body(alert: &Alert, transition: Transition) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "text": line(alert, transition) })).unwrap_or_default()
}

/// An e-mail's subject and text; `dashboard` links to the project's alerts when known.
pub fn email(alert: &Alert, transition: Transition, dashboard: Option<&str>) -> (String, String) {
    let subject = format!("[trackses] {}", line(alert, transition));
    let mut text = format!(
        "Rule: {}\nSubject: {}\nOpened: {}\nWhat held: {}\n",
        alert.rule_name, alert.subject, alert.opened_at, alert.summary
    );
    if let (Some(at), Some(resolution)) = (alert.resolved_at, alert.resolution.as_deref()) {
        text.push_str(&format!("Resolved: {at}\nWhat holds now: {resolution}\n"));
    }
    if let Some(link) = dashboard {
        text.push_str(&format!("\nAlerts of the project: {link}\n"));
    }
    text.push_str("\nYou receive this because this address was confirmed as an alert channel of a trackses project.\n");
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> Alert {
        Alert {
            id: "01KBH5Z2Q8J3M4N5P6R7S8T9V0".into(),
            project_id: "prj_1".into(),
            rule_id: "rule_1".into(),
            rule_name: "Bounces".into(),
            subject: "project".into(),
            summary: "Bounce rate 6.00 %".into(),
            opened_at: Utc::now(),
            resolved_at: None,
            resolution: None,
            channel_ids: vec![],
        }
    }

    #[test]
    fn each_transition_has_its_own_stable_id_and_type() {
        let a = alert();
        assert_ne!(
            delivery_id(&a, Transition::Opened),
            delivery_id(&a, Transition::Resolved)
        );
        let body: serde_json::Value =
            serde_json::from_slice(&webhook_body(&a, Transition::Opened)).unwrap();
        assert_eq!(body["type"], "alert.opened");
        assert_eq!(body["data"]["rule_name"], "Bounces");
        let slack: serde_json::Value =
            serde_json::from_slice(&slack_body(&a, Transition::Opened)).unwrap();
        assert_eq!(
            slack["text"],
            "trackses alert opened: Bounces (project): Bounce rate 6.00 %"
        );
    }
}
