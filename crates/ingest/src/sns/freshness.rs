//! How old a signed SNS message may be. A signature stays valid forever, so without a bound a
//! message captured once (a notification, an UnsubscribeConfirmation) could be replayed years
//! later. SNS's longest retry is its Lambda delivery policy: 23 days; a message older than that
//! can only be a replay.

use chrono::{DateTime, Duration, Utc};

use super::Envelope;

/// SNS retries Lambda deliveries for up to 23 days; a day of margin on top.
pub const REPLAY_WINDOW: Duration = Duration::days(24);

/// Clocks disagree a little; a message dated further ahead than this is not SNS's.
const CLOCK_SKEW: Duration = Duration::minutes(15);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaleMessage {
    #[error("Timestamp is not an RFC 3339 time")]
    Unreadable,
    #[error(
        "the message was signed more than 24 days ago, past SNS's longest retry: refused as a replay"
    )]
    TooOld,
    #[error("the message is dated in the future")]
    FromTheFuture,
}

/// When SNS signed the message, if that is within the replay window around `now`.
pub fn signed_within_window(
    envelope: &Envelope,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, StaleMessage> {
    let signed_at = envelope.signed_at().ok_or(StaleMessage::Unreadable)?;
    if signed_at < now - REPLAY_WINDOW {
        Err(StaleMessage::TooOld)
    } else if signed_at > now + CLOCK_SKEW {
        Err(StaleMessage::FromTheFuture)
    } else {
        Ok(signed_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(at: &str) -> Envelope {
        let body = serde_json::json!({
            "Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:eu-west-1:1:t",
            "Message": "{}", "Timestamp": at, "SignatureVersion": "2", "Signature": "s",
            "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem",
        });
        Envelope::from_json(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn only_the_replay_window_is_accepted() {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().unwrap();
        assert!(signed_within_window(&signed("2026-12-01T11:59:59.123Z"), now).is_ok());
        assert!(signed_within_window(&signed("2026-11-08T12:00:01.000Z"), now).is_ok());
        assert!(signed_within_window(&signed("2026-12-01T12:10:00.000Z"), now).is_ok());
        assert_eq!(
            signed_within_window(&signed("2001-01-01T00:00:00.000Z"), now),
            Err(StaleMessage::TooOld)
        );
        assert_eq!(
            signed_within_window(&signed("2026-11-07T11:59:59.000Z"), now),
            Err(StaleMessage::TooOld)
        );
        assert_eq!(
            signed_within_window(&signed("2026-12-01T13:00:00.000Z"), now),
            Err(StaleMessage::FromTheFuture)
        );
        assert_eq!(
            signed_within_window(&signed("yesterday"), now),
            Err(StaleMessage::Unreadable)
        );
    }
}
