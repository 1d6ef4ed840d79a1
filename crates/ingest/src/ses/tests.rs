//! Parsing SES documents in general: recipients normalized and deduplicated, offsets mapped to
//! UTC, malformed input refused in errors that never echo it. Also the helpers the sibling test
//! modules (`sample_tests`, `limit_tests`) share.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{SesError, parse};
use model::event::{EventType, SesNotification};

pub(super) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test timestamp")
        .with_timezone(&Utc)
}

pub(super) fn ok(message: &str) -> SesNotification {
    match parse(message) {
        Ok(n) => n,
        Err(e) => panic!("sample did not parse: {e}"),
    }
}

pub(super) fn addresses(n: &SesNotification) -> Vec<&str> {
    n.recipients.iter().map(|r| r.recipient.as_str()).collect()
}

pub(super) fn detail<'a>(n: &'a SesNotification, recipient: usize, key: &str) -> Option<&'a Value> {
    n.recipients[recipient].details.get(key)
}

fn minimal(event: &str) -> String {
    format!(
        r#"{{{event}"mail":{{"timestamp":"2024-01-02T03:04:05.678Z","messageId":"m-1",
        "source":"a@example.com","destination":[" Bob@Example.COM ","bob@example.com","c@example.com"]}}}}"#
    )
}

#[test]
fn recipients_are_normalized_and_deduplicated() {
    let n = ok(&minimal(r#""eventType":"Send","#));
    assert_eq!(addresses(&n), ["bob@example.com", "c@example.com"]);
    assert_eq!(n.mail.subject, None);
    assert!(n.mail.tags.is_empty());
    assert_eq!(n.mail.sending_account_id, None);

    let n = ok(&minimal(
        r#""eventType":"Delivery","delivery":{"timestamp":"2024-01-02T03:04:06Z",
        "recipients":["C@example.com","c@example.com "]},"#,
    ));
    assert_eq!(addresses(&n), ["c@example.com"]);
}

#[test]
fn empty_affected_list_falls_back_to_destination() {
    let n = ok(&minimal(
        r#""eventType":"Bounce","bounce":{"bounceType":"Permanent","timestamp":"2024-01-02T03:04:06Z",
        "bouncedRecipients":[]},"#,
    ));
    assert_eq!(addresses(&n), ["bob@example.com", "c@example.com"]);
    assert_eq!(detail(&n, 1, "bounce_type"), Some(&json!("Permanent")));
}

#[test]
fn timestamp_offsets_are_mapped_to_utc() {
    let n = ok(&minimal(
        r#""eventType":"Open","open":{"timestamp":"2024-01-02T05:04:06+02:00"},"#,
    ));
    assert_eq!(n.occurred_at, at("2024-01-02T03:04:06Z"));
}

#[test]
fn sns_subscription_notification_is_not_a_crash() {
    let err = parse(
        r#"{"notificationType":"AmazonSnsSubscriptionSucceeded","message":"You have successfully subscribed your Amazon SNS topic"}"#,
    );
    assert_eq!(err, Err(SesError::MissingField("mail")));
}

#[test]
fn unknown_notification_type_with_mail_is_kept() {
    let n = ok(&minimal(r#""notificationType":"Received","#));
    assert_eq!(n.event_type, EventType::Unknown);
    assert_eq!(n.raw_type, "Received");
    assert_eq!(n.occurred_at, at("2024-01-02T03:04:05.678Z"));
}

#[test]
fn malformed_inputs_give_clear_errors() {
    for input in [
        "",
        "   ",
        "not json at all",
        r#"{"eventType": "Send""#,
        "{,}",
    ] {
        let err = parse(input).unwrap_err();
        assert!(matches!(err, SesError::NotJson { .. }), "{input}: {err:?}");
    }
    // A wrong type deep inside must not pass for "not JSON".
    for input in [
        r#"{"eventType":"Send","mail":{"timestamp":"2024-01-02T03:04:05Z","messageId":"m","source":"a@example.com","destination":"b@example.com"}}"#,
        r#"{"eventType":"Send","mail":[]}"#,
        r#"{"eventType":42,"mail":{}}"#,
        r#"{"eventType":"Delivery","delivery":{"processingTimeMillis":-1}}"#,
    ] {
        let err = parse(input).unwrap_err();
        assert!(
            matches!(err, SesError::WrongType { line: 1, .. }),
            "{input}: {err:?}"
        );
    }
    let cases: &[(&str, SesError)] = &[
        (
            "[1, 2, 3]",
            SesError::NotSesEvent {
                reason: "expected a JSON object",
            },
        ),
        (
            "\"Send\"",
            SesError::NotSesEvent {
                reason: "expected a JSON object",
            },
        ),
        (
            r#"{"hello":"world"}"#,
            SesError::NotSesEvent {
                reason: "it has neither `eventType` nor `notificationType`",
            },
        ),
        (r#"{"eventType":"Send"}"#, SesError::MissingField("mail")),
        (
            r#"{"eventType":"Send","mail":{"timestamp":"2024-01-02T03:04:05Z","source":"a@example.com","destination":["b@example.com"]}}"#,
            SesError::MissingField("mail.messageId"),
        ),
        (
            r#"{"eventType":"Send","mail":{"timestamp":"2024-01-02T03:04:05Z","messageId":"m","destination":["b@example.com"]}}"#,
            SesError::MissingField("mail.source"),
        ),
        (
            r#"{"eventType":"Send","mail":{"timestamp":"yesterday","messageId":"m","source":"a@example.com","destination":["b@example.com"]}}"#,
            SesError::BadTimestamp {
                field: "mail.timestamp",
            },
        ),
        (
            r#"{"eventType":"Send","mail":{"timestamp":"2024-01-02T03:04:05Z","messageId":"m","source":"a@example.com","destination":[]}}"#,
            SesError::NoRecipients,
        ),
        (
            r#"{"eventType":"Send","mail":{"timestamp":"2024-01-02T03:04:05Z","messageId":"m","source":"a@example.com"}}"#,
            SesError::NoRecipients,
        ),
        (
            r#"{"eventType":"Send","mail":{"timestamp":"2024-01-02T03:04:05Z","messageId":"m","source":"a@example.com","destination":[" "]}}"#,
            SesError::NoRecipients,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(&parse(input).unwrap_err(), expected, "input: {input}");
    }
}

#[test]
fn known_type_without_its_sub_object_or_timestamp_is_refused() {
    assert_eq!(
        parse(&minimal(r#""eventType":"Bounce","#)),
        Err(SesError::MissingField("bounce"))
    );
    assert_eq!(
        parse(&minimal(
            r#""eventType":"Click","click":{"link":"https://x"},"#
        )),
        Err(SesError::MissingField("click.timestamp"))
    );
    assert_eq!(
        parse(&minimal(
            r#""eventType":"Delivery","delivery":{"timestamp":"2024-13-45T00:00:00Z"},"#
        )),
        Err(SesError::BadTimestamp {
            field: "delivery.timestamp"
        })
    );
}

#[test]
fn errors_never_echo_the_input() {
    let secret = "very-secret-recipient@example.com";
    let inputs = [
        format!(r#"{{"eventType":"Send","mail":{{"destination":"{secret}"}}}}"#),
        format!(
            r#"{{"eventType":"Send","mail":{{"timestamp":"{secret}","messageId":"m","source":"s","destination":["x@example.com"]}}}}"#
        ),
        format!("{secret} not json"),
        format!(r#"["{secret}"]"#),
    ];
    for input in &inputs {
        let message = parse(input).unwrap_err().to_string();
        assert!(!message.contains(secret), "{message}");
    }
}

#[test]
fn ids_and_addresses_that_cannot_be_keys_are_refused() {
    let sample = include_str!("../../../../events/ses/send.json");
    let mut doc: serde_json::Value = serde_json::from_str(sample).unwrap();
    doc["mail"]["messageId"] = serde_json::json!("a#b");
    assert_eq!(
        parse(&doc.to_string()),
        Err(SesError::InvalidField("mail.messageId"))
    );
    let mut doc: serde_json::Value = serde_json::from_str(sample).unwrap();
    doc["mail"]["destination"] = serde_json::json!([format!("{}@example.com", "x".repeat(400))]);
    assert_eq!(
        parse(&doc.to_string()),
        Err(SesError::InvalidField("recipient"))
    );
}
