//! The per-type part of a notification: its own time, API.md's `details`, and who it affects.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{SesError, limits, required_timestamp, wire::Document};
use model::event::EventType;

pub(super) type Details = Map<String, Value>;

pub(super) struct Extracted {
    /// `None` where SES gives the event no time of its own; the caller then uses `mail.timestamp`.
    pub occurred_at: Option<DateTime<Utc>>,
    /// Details that apply to every recipient of the notification.
    pub shared: Details,
    /// Recipients the event names itself, as SES spelled them, with their own details. Empty means
    /// the event applies to `mail.destination`.
    pub affected: Vec<(String, Details)>,
}

pub(super) fn extract(
    event_type: EventType,
    raw_type: &str,
    doc: Document,
) -> Result<Extracted, SesError> {
    let mut shared = Details::new();
    let mut affected = Vec::new();
    let occurred_at = match event_type {
        EventType::Bounce => {
            let b = doc.bounce.ok_or(SesError::MissingField("bounce"))?;
            put(&mut shared, "bounce_type", b.bounce_type)?;
            put(&mut shared, "bounce_sub_type", b.bounce_sub_type)?;
            put(&mut shared, "feedback_id", b.feedback_id)?;
            put(&mut shared, "reporting_mta", b.reporting_mta)?;
            put(&mut shared, "remote_mta_ip", b.remote_mta_ip)?;
            for r in b.bounced_recipients.unwrap_or_default() {
                let Some(address) = r.email_address else {
                    continue;
                };
                let mut own = Details::new();
                put(&mut own, "action", r.action)?;
                put(&mut own, "status", r.status)?;
                put(&mut own, "diagnostic_code", r.diagnostic_code)?;
                affected.push((address, own));
            }
            Some(required_timestamp(b.timestamp, "bounce.timestamp")?)
        }
        EventType::Complaint => {
            let c = doc.complaint.ok_or(SesError::MissingField("complaint"))?;
            put(
                &mut shared,
                "complaint_feedback_type",
                c.complaint_feedback_type,
            )?;
            put(&mut shared, "complaint_sub_type", c.complaint_sub_type)?;
            put(&mut shared, "feedback_id", c.feedback_id)?;
            put(&mut shared, "user_agent", c.user_agent)?;
            put(&mut shared, "arrival_date", c.arrival_date)?;
            affected.extend(
                c.complained_recipients
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|r| r.email_address)
                    .map(|a| (a, Details::new())),
            );
            Some(required_timestamp(c.timestamp, "complaint.timestamp")?)
        }
        EventType::Delivery => {
            let d = doc.delivery.ok_or(SesError::MissingField("delivery"))?;
            put(&mut shared, "smtp_response", d.smtp_response)?;
            put_value(
                &mut shared,
                "processing_time_ms",
                d.processing_time_millis.map(Value::from),
            )?;
            put(&mut shared, "reporting_mta", d.reporting_mta)?;
            put(&mut shared, "remote_mta_ip", d.remote_mta_ip)?;
            affected.extend(
                d.recipients
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| (a, Details::new())),
            );
            Some(required_timestamp(d.timestamp, "delivery.timestamp")?)
        }
        EventType::DeliveryDelay => {
            let d = doc
                .delivery_delay
                .ok_or(SesError::MissingField("deliveryDelay"))?;
            put(&mut shared, "delay_type", d.delay_type)?;
            put(&mut shared, "expiration_time", d.expiration_time)?;
            put(&mut shared, "reporting_mta", d.reporting_mta)?;
            for r in d.delayed_recipients.unwrap_or_default() {
                let Some(address) = r.email_address else {
                    continue;
                };
                let mut own = Details::new();
                put(&mut own, "status", r.status)?;
                put(&mut own, "diagnostic_code", r.diagnostic_code)?;
                affected.push((address, own));
            }
            Some(required_timestamp(d.timestamp, "deliveryDelay.timestamp")?)
        }
        EventType::Open => {
            let o = doc.open.ok_or(SesError::MissingField("open"))?;
            put(&mut shared, "ip_address", o.ip_address)?;
            put(&mut shared, "user_agent", o.user_agent)?;
            Some(required_timestamp(o.timestamp, "open.timestamp")?)
        }
        EventType::Click => {
            let c = doc.click.ok_or(SesError::MissingField("click"))?;
            put(&mut shared, "ip_address", c.ip_address)?;
            put(&mut shared, "user_agent", c.user_agent)?;
            put(&mut shared, "link", c.link)?;
            put_value(&mut shared, "link_tags", c.link_tags)?;
            Some(required_timestamp(c.timestamp, "click.timestamp")?)
        }
        EventType::Subscription => {
            let s = doc
                .subscription
                .ok_or(SesError::MissingField("subscription"))?;
            put(&mut shared, "contact_list", s.contact_list)?;
            put(&mut shared, "source", s.source)?;
            put_value(
                &mut shared,
                "new_topic_preferences",
                s.new_topic_preferences,
            )?;
            put_value(
                &mut shared,
                "old_topic_preferences",
                s.old_topic_preferences,
            )?;
            Some(required_timestamp(s.timestamp, "subscription.timestamp")?)
        }
        // These carry no time of their own, and their sub-objects are optional extras: SES sends
        // `send` as `{}`, so refusing a document for lacking one would gain nothing.
        EventType::Reject => {
            if let Some(r) = doc.reject {
                put(&mut shared, "reason", r.reason)?;
            }
            None
        }
        EventType::RenderingFailure => {
            if let Some(f) = doc.failure {
                put(&mut shared, "template_name", f.template_name)?;
                put(&mut shared, "error_message", f.error_message)?;
            }
            None
        }
        EventType::Send => None,
        EventType::Unknown => {
            // Event rows don't carry raw_type, so this is how an API user learns what SES sent.
            put_value(&mut shared, "raw_event_type", Some(Value::from(raw_type)))?;
            None
        }
    };
    Ok(Extracted {
        occurred_at,
        shared,
        affected,
    })
}

fn put(map: &mut Details, key: &'static str, value: Option<String>) -> Result<(), SesError> {
    put_value(map, key, value.map(Value::String))
}

/// Absent and null values are left out; any other must fit `MAX_DETAIL_JSON`, since every
/// recipient's stored event repeats it.
fn put_value(map: &mut Details, key: &'static str, value: Option<Value>) -> Result<(), SesError> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(v) => {
            limits::json_within(key, &v, limits::MAX_DETAIL_JSON)?;
            map.insert(key.to_owned(), v);
            Ok(())
        }
    }
}
