//! SES notifications (the SNS `Message`): event publishing and the older identity notifications,
//! parsed once with serde into [`SesNotification`], one [`RecipientEvent`] per affected recipient.

mod details;
pub mod limits;
mod wire;

#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod sample_tests;
#[cfg(test)]
mod tests;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde_json::error::Category;

use details::Details;
use model::event::{EventType, MailSummary, RecipientEvent, SesNotification};

/// Why a message is not a usable SES notification. Messages are shown to API users as the
/// `detail` of a 400 response, so they name fields and positions but never echo the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SesError {
    #[error("the SES message is not valid JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("the message is not an SES event: {reason}")]
    NotSesEvent { reason: &'static str },
    #[error("the SES event has no `{0}` field")]
    MissingField(&'static str),
    #[error("the SES event field `{field}` is not an RFC 3339 timestamp")]
    BadTimestamp { field: &'static str },
    #[error("the SES event has a field of an unexpected type (line {line}, column {column})")]
    WrongType { line: usize, column: usize },
    #[error(
        "the SES event names no recipients (no affected recipients and an empty mail.destination)"
    )]
    NoRecipients,
    #[error("the SES event field `{0}` is not valid (too long, or characters SES does not use)")]
    InvalidField(&'static str),
    #[error("the SES event has more than {max} {what}, more than SES ever sends")]
    TooMany { what: &'static str, max: usize },
    #[error("the SES event field `{field}` is larger than {max} bytes")]
    TooLarge { field: &'static str, max: usize },
}

/// Parses one SES document. An unknown `eventType` / `notificationType` is kept as
/// [`EventType::Unknown`] rather than refused, so events SES adds later are not lost.
pub fn parse(message: &str) -> Result<SesNotification, SesError> {
    let mut doc = decode(message)?;

    let raw_type = match (doc.event_type.take(), doc.notification_type.take()) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => {
            return Err(SesError::NotSesEvent {
                reason: "it has neither `eventType` nor `notificationType`",
            });
        }
    };
    let mail = doc.mail.take().ok_or(SesError::MissingField("mail"))?;
    let event_type = EventType::from_ses_name(&raw_type);
    let mail = summary(mail)?;

    let extracted = details::extract(event_type, &raw_type, doc)?;
    limits::count(
        "recipients",
        extracted.affected.len(),
        limits::MAX_RECIPIENTS,
    )?;
    let recipients = recipients(extracted.affected, &mail.destination, &extracted.shared)?;
    Ok(SesNotification {
        event_type,
        raw_type,
        occurred_at: extracted.occurred_at.unwrap_or(mail.sent_at),
        mail,
        recipients,
    })
}

/// The `mail` object, within `limits`: every event of the message repeats it.
fn summary(mail: wire::Mail) -> Result<MailSummary, SesError> {
    let ses_message_id = mail
        .message_id
        .ok_or(SesError::MissingField("mail.messageId"))
        .and_then(|id| {
            model::ids::is_key_safe(&id)
                .then_some(id)
                .ok_or(SesError::InvalidField("mail.messageId"))
        })?;
    let source = mail.source.ok_or(SesError::MissingField("mail.source"))?;
    limits::json_within("mail.source", &source, limits::MAX_HEADER_JSON)?;
    let subject = mail.common_headers.and_then(|h| h.subject);
    limits::json_within(
        "mail.commonHeaders.subject",
        &subject,
        limits::MAX_HEADER_JSON,
    )?;
    let sent_at = required_timestamp(mail.timestamp, "mail.timestamp")?;
    let destination = mail.destination.unwrap_or_default();
    limits::count(
        "destination addresses",
        destination.len(),
        limits::MAX_RECIPIENTS,
    )?;
    let destination = destination
        .iter()
        .map(|a| address(a))
        .collect::<Result<Vec<_>, _>>()?;
    let tags = mail.tags.unwrap_or_default();
    limits::check_tags(&tags)?;
    Ok(MailSummary {
        ses_message_id,
        source,
        subject,
        sent_at,
        sending_account_id: mail.sending_account_id,
        destination,
        tags,
    })
}

fn decode(message: &str) -> Result<wire::Document, SesError> {
    // serde's derived structs also accept a JSON array (fields by position), so insist on an
    // object before handing the text over.
    if !message.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<IgnoredAny>(message) {
            Ok(_) => SesError::NotSesEvent {
                reason: "expected a JSON object",
            },
            Err(e) => SesError::NotJson {
                line: e.line(),
                column: e.column(),
            },
        });
    }
    serde_json::from_str(message).map_err(|e| match e.classify() {
        // serde's own text for these quotes the offending value, which may be user content.
        Category::Data => SesError::WrongType {
            line: e.line(),
            column: e.column(),
        },
        Category::Io | Category::Syntax | Category::Eof => SesError::NotJson {
            line: e.line(),
            column: e.column(),
        },
    })
}

/// One entry per distinct address: the event's own recipients, else everyone in `destination`
/// (already normalised by `summary`).
fn recipients(
    affected: Vec<(String, Details)>,
    destination: &[String],
    shared: &Details,
) -> Result<Vec<RecipientEvent>, SesError> {
    let mut seen = HashSet::with_capacity(affected.len().max(destination.len()));
    let mut out: Vec<RecipientEvent> = Vec::with_capacity(affected.len().max(1));
    for (raw, own) in affected {
        let recipient = address(&raw)?;
        if recipient.is_empty() || !seen.insert(recipient.clone()) {
            continue;
        }
        let mut details = shared.clone();
        details.extend(own);
        out.push(RecipientEvent { recipient, details });
    }
    if out.is_empty() {
        for recipient in destination {
            if recipient.is_empty() || !seen.insert(recipient.clone()) {
                continue;
            }
            out.push(RecipientEvent {
                recipient: recipient.clone(),
                details: shared.clone(),
            });
        }
    }
    if out.is_empty() {
        return Err(SesError::NoRecipients);
    }
    Ok(out)
}

/// Trimmed and lower-cased; empty where SES left a blank entry (skipped, as SES would), refused
/// where it is not an address at all.
fn address(raw: &str) -> Result<String, SesError> {
    let address = raw.trim().to_lowercase();
    if address.is_empty() || limits::is_address(&address) {
        Ok(address)
    } else {
        Err(SesError::InvalidField("recipient"))
    }
}

fn required_timestamp(
    value: Option<String>,
    field: &'static str,
) -> Result<DateTime<Utc>, SesError> {
    let value = value.ok_or(SesError::MissingField(field))?;
    DateTime::parse_from_rfc3339(&value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| SesError::BadTimestamp { field })
}
