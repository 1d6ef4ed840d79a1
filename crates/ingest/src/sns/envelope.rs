//! The SNS message envelope, whether it came over HTTPS or inside a Lambda event.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MessageType {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Notification => "Notification",
            MessageType::SubscriptionConfirmation => "SubscriptionConfirmation",
            MessageType::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }
}

/// Field names as SNS spells them over HTTPS; the Lambda spellings are aliases.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    #[serde(rename = "Type")]
    pub message_type: MessageType,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    #[serde(rename = "Subject", default)]
    pub subject: Option<String>,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "SignatureVersion")]
    pub signature_version: String,
    #[serde(rename = "Signature")]
    pub signature: String,
    #[serde(rename = "SigningCertURL", alias = "SigningCertUrl")]
    pub signing_cert_url: String,
    #[serde(rename = "SubscribeURL", alias = "SubscribeUrl", default)]
    pub subscribe_url: Option<String>,
    #[serde(rename = "Token", default)]
    pub token: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error(
        "the body is not an SNS message envelope; if raw message delivery is enabled on the subscription, turn it off (trackses needs the signed envelope)"
    )]
    RawDelivery,
    #[error("the SNS message envelope is malformed: {0}")]
    Malformed(String),
    #[error("a {0} must carry SubscribeURL and Token")]
    MissingConfirmationFields(&'static str),
}

/// Keys that only an SNS envelope has; a JSON body without them was delivered raw.
const ENVELOPE_KEYS: [&str; 3] = ["Type", "Signature", "TopicArn"];

impl Envelope {
    pub fn from_json(body: &[u8]) -> Result<Envelope, EnvelopeError> {
        let envelope: Envelope =
            serde_json::from_slice(body).map_err(|e| Self::diagnose(body, e))?;
        envelope.check_confirmation_fields()?;
        Ok(envelope)
    }

    /// Only on the error path: tell a raw delivery (no envelope at all) from a broken envelope.
    fn diagnose(body: &[u8], error: serde_json::Error) -> EnvelopeError {
        let is_envelope = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v.as_object()
                    .map(|o| ENVELOPE_KEYS.iter().any(|k| o.contains_key(*k)))
            })
            .unwrap_or(false);
        if is_envelope {
            EnvelopeError::Malformed(error.to_string())
        } else {
            EnvelopeError::RawDelivery
        }
    }

    /// The `Sns` object of a Lambda record: the same envelope with Lambda's spellings, read as
    /// SNS wrote it (the `Timestamp` string is signed exactly as sent).
    pub fn from_lambda_record(sns: &serde_json::Value) -> Result<Envelope, EnvelopeError> {
        let envelope =
            Envelope::deserialize(sns).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        envelope.check_confirmation_fields()?;
        Ok(envelope)
    }

    /// When SNS signed the message, as its `Timestamp` says.
    pub fn signed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::parse_from_rfc3339(&self.timestamp)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    }

    fn check_confirmation_fields(&self) -> Result<(), EnvelopeError> {
        if self.message_type != MessageType::Notification
            && (self.subscribe_url.is_none() || self.token.is_none())
        {
            return Err(EnvelopeError::MissingConfirmationFields(
                self.message_type.as_str(),
            ));
        }
        Ok(())
    }

    /// The exact bytes SNS signed: `Name\nValue\n` pairs in the documented order per type.
    pub fn string_to_sign(&self) -> String {
        let mut out = String::with_capacity(self.message.len() + 512);
        let mut push = |name: &str, value: &str| {
            out.push_str(name);
            out.push('\n');
            out.push_str(value);
            out.push('\n');
        };
        push("Message", &self.message);
        push("MessageId", &self.message_id);
        match self.message_type {
            MessageType::Notification => {
                if let Some(subject) = &self.subject {
                    push("Subject", subject);
                }
                push("Timestamp", &self.timestamp);
            }
            MessageType::SubscriptionConfirmation | MessageType::UnsubscribeConfirmation => {
                push(
                    "SubscribeURL",
                    self.subscribe_url.as_deref().unwrap_or_default(),
                );
                push("Timestamp", &self.timestamp);
                push("Token", self.token.as_deref().unwrap_or_default());
            }
        }
        push("TopicArn", &self.topic_arn);
        push("Type", self.message_type.as_str());
        out
    }
}
