//! SES event documents for local traffic, made from the samples in `events/ses/` (the one source
//! of sample events) with a fresh message id, recipients and times.

use chrono::{DateTime, SecondsFormat, Utc};
use model::EventType;
use serde_json::{Value, json};

/// One email as SES would describe it in every event about it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub message_id: String,
    pub source: String,
    pub subject: String,
    pub recipients: Vec<String>,
    pub sent_at: DateTime<Utc>,
    pub campaign: String,
}

impl Mail {
    pub fn new(recipients: Vec<String>, subject: &str, campaign: &str) -> Mail {
        Mail {
            message_id: format!(
                "0102{}-000000",
                ulid::Ulid::new().to_string().to_lowercase()
            ),
            source: "news@demo.trackses.test".to_owned(),
            subject: subject.to_owned(),
            recipients,
            sent_at: Utc::now(),
            campaign: campaign.to_owned(),
        }
    }
}

fn sample(event_type: EventType) -> &'static str {
    match event_type {
        EventType::Send => include_str!("../../../events/ses/send.json"),
        EventType::Delivery => include_str!("../../../events/ses/delivery.json"),
        EventType::Bounce => include_str!("../../../events/ses/bounce-permanent.json"),
        EventType::Complaint => include_str!("../../../events/ses/complaint.json"),
        EventType::Reject => include_str!("../../../events/ses/reject.json"),
        EventType::Open => include_str!("../../../events/ses/open.json"),
        EventType::Click => include_str!("../../../events/ses/click.json"),
        EventType::RenderingFailure => include_str!("../../../events/ses/rendering-failure.json"),
        EventType::DeliveryDelay => include_str!("../../../events/ses/delivery-delay.json"),
        EventType::Subscription => include_str!("../../../events/ses/subscription.json"),
        EventType::Unknown => include_str!("../../../events/ses/unknown-type.json"),
    }
}

/// Replaces a list of per-recipient objects by one copy of its first entry per recipient.
fn per_recipient(list: &mut Value, recipients: &[String]) {
    let Some(model) = list.as_array().and_then(|a| a.first()).cloned() else {
        return;
    };
    *list = Value::Array(
        recipients
            .iter()
            .map(|r| {
                let mut entry = model.clone();
                entry["emailAddress"] = json!(r);
                entry
            })
            .collect(),
    );
}

/// An SES event document about `mail`, affecting `recipients`, that happened `at`.
pub fn event_json(
    event_type: EventType,
    mail: &Mail,
    recipients: &[String],
    at: DateTime<Utc>,
) -> String {
    let mut doc: Value = serde_json::from_str(sample(event_type)).unwrap_or_else(|_| json!({}));
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let m = &mut doc["mail"];
    m["messageId"] = json!(mail.message_id);
    m["timestamp"] = json!(stamp(mail.sent_at));
    m["source"] = json!(mail.source);
    m["destination"] = json!(mail.recipients);
    m["commonHeaders"]["to"] = json!(mail.recipients);
    m["commonHeaders"]["subject"] = json!(mail.subject);
    m["commonHeaders"]["messageId"] = json!(mail.message_id);
    m["tags"]["campaign"] = json!([mail.campaign]);
    if let Some(name) = EventType::ses_detail_member(event_type) {
        let sub = &mut doc[name];
        if sub.get("timestamp").is_some() {
            sub["timestamp"] = json!(stamp(at));
        }
        match event_type {
            EventType::Bounce => per_recipient(&mut sub["bouncedRecipients"], recipients),
            EventType::Complaint => per_recipient(&mut sub["complainedRecipients"], recipients),
            EventType::DeliveryDelay => per_recipient(&mut sub["delayedRecipients"], recipients),
            EventType::Delivery => sub["recipients"] = json!(recipients),
            _ => {}
        }
    }
    doc.to_string()
}
