//! `Envelope::from_json`: whatever the body, an answer and no panic; what it accepts is usable.

use proptest::prelude::*;
use serde_json::Value;

use crate::sns::{Envelope, EnvelopeError, MessageType};
use crate::strategies::{any_text, config, fields, json};

const FIELDS: &[&str] = &[
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "SigningCertUrl",
    "SubscribeURL",
    "SubscribeUrl",
    "UnsubscribeURL",
    "Token",
];

/// What tells an envelope from a raw delivery (`envelope::ENVELOPE_KEYS`).
const ENVELOPE_KEYS: [&str; 3] = ["Type", "Signature", "TopicArn"];

fn strings() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        prop::sample::select(vec![
            "Notification",
            "SubscriptionConfirmation",
            "UnsubscribeConfirmation",
            "1",
            "2",
            "2024-05-14T09:12:03.412Z",
            "arn:aws:sns:eu-west-1:123456789012:trackses-x",
        ])
        .prop_map(str::to_owned),
        any_text(),
    ]
}

/// Mostly strings, as in a real envelope; sometimes any JSON.
fn field_value() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        9 => strings().prop_map(Value::String),
        1 => json(FIELDS, strings()),
    ]
}

fn check(body: &[u8]) -> Result<(), TestCaseError> {
    let Ok(envelope) = Envelope::from_json(body) else {
        return Ok(());
    };
    prop_assert!(
        envelope.message_type == MessageType::Notification
            || (envelope.subscribe_url.is_some() && envelope.token.is_some())
    );
    let signed = envelope.string_to_sign();
    let message_part = format!("Message\n{}\n", envelope.message);
    let type_part = format!("Type\n{}\n", envelope.message_type.as_str());
    prop_assert!(signed.starts_with(&message_part));
    prop_assert!(signed.ends_with(&type_part));
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check(&body)?;
    }

    #[test]
    fn envelope_shaped_json(value in fields(FIELDS, field_value())) {
        let body = value.to_string();
        check(body.as_bytes())?;
        let has_envelope_key = ENVELOPE_KEYS.iter().any(|k| value.get(k).is_some());
        if let Err(error) = Envelope::from_json(body.as_bytes()) {
            prop_assert_eq!(error == EnvelopeError::RawDelivery, !has_envelope_key);
        }
    }

    #[test]
    fn any_json(value in json(FIELDS, strings())) {
        check(value.to_string().as_bytes())?;
        // Not an object with an envelope key: always diagnosed as a raw delivery.
        if !matches!(&value, Value::Object(o) if ENVELOPE_KEYS.iter().any(|k| o.contains_key(*k))) {
            prop_assert_eq!(
                Envelope::from_json(value.to_string().as_bytes()).err(),
                Some(EnvelopeError::RawDelivery)
            );
        }
    }
}
