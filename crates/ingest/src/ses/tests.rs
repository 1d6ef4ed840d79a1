use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::limits::{MAX_DETAIL_JSON, MAX_HEADER_JSON, MAX_RECIPIENTS, MAX_TAG_LEN, MAX_TAGS};
use super::{SesError, parse};
use model::event::{EventType, SesNotification};

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!("../../../../events/ses/", $name))
    };
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test timestamp")
        .with_timezone(&Utc)
}

fn ok(message: &str) -> SesNotification {
    match parse(message) {
        Ok(n) => n,
        Err(e) => panic!("sample did not parse: {e}"),
    }
}

fn addresses(n: &SesNotification) -> Vec<&str> {
    n.recipients.iter().map(|r| r.recipient.as_str()).collect()
}

fn detail<'a>(n: &'a SesNotification, recipient: usize, key: &str) -> Option<&'a Value> {
    n.recipients[recipient].details.get(key)
}

#[test]
fn send_uses_mail_timestamp_and_destination() {
    let n = ok(sample!("send.json"));
    assert_eq!(n.event_type, EventType::Send);
    assert_eq!(n.raw_type, "Send");
    assert_eq!(n.occurred_at, at("2024-05-14T09:12:03.412Z"));
    assert_eq!(n.mail.sent_at, at("2024-05-14T09:12:03.412Z"));
    assert_eq!(
        addresses(&n),
        ["alice@example.com", "success@simulator.amazonses.com"]
    );
    assert!(n.recipients.iter().all(|r| r.details.is_empty()));
}

#[test]
fn mail_summary_and_tags_are_kept() {
    let n = ok(sample!("send.json"));
    let m = &n.mail;
    assert_eq!(
        m.ses_message_id,
        "0102018f768c1a2e-2f6e8a41-7c3d-4b9e-a1f0-5d6c7b8a9e10-000000"
    );
    assert_eq!(m.source, "hello@mail.example.com");
    assert_eq!(m.subject.as_deref(), Some("Welcome to Acme, Alice!"));
    assert_eq!(m.sending_account_id.as_deref(), Some("111111111111"));
    assert_eq!(
        m.destination,
        ["alice@example.com", "success@simulator.amazonses.com"]
    );
    assert_eq!(m.tags["ses:configuration-set"], ["trackses-demo"]);
    assert_eq!(m.tags["ses:from-domain"], ["mail.example.com"]);
    assert_eq!(m.tags["ses:operation"], ["SendEmail"]);
    assert_eq!(m.tags["ses:source-ip"], ["203.0.113.10"]);
    assert_eq!(m.tags["ses:caller-identity"], ["trackses-demo-sender"]);
    assert_eq!(m.tags["campaign"], ["welcome-2024"]);
}

#[test]
fn delivery_names_only_delivered_recipients() {
    let n = ok(sample!("delivery.json"));
    assert_eq!(n.event_type, EventType::Delivery);
    assert_eq!(n.occurred_at, at("2024-05-14T09:12:04.987Z"));
    assert_eq!(addresses(&n), ["success@simulator.amazonses.com"]);
    assert_eq!(
        detail(&n, 0, "smtp_response"),
        Some(&json!("250 2.6.0 Message received"))
    );
    assert_eq!(detail(&n, 0, "processing_time_ms"), Some(&json!(1575)));
    assert_eq!(
        detail(&n, 0, "reporting_mta"),
        Some(&json!("a4-12.smtp-out.eu-west-1.amazonses.com"))
    );
    assert_eq!(
        detail(&n, 0, "remote_mta_ip"),
        Some(&json!("198.51.100.25"))
    );
    assert_eq!(n.mail.tags["ses:outgoing-ip"], ["54.240.7.18"]);
}

#[test]
fn permanent_bounce_has_per_recipient_details() {
    let n = ok(sample!("bounce-permanent.json"));
    assert_eq!(n.event_type, EventType::Bounce);
    assert!(n.is_permanent_bounce());
    assert_eq!(n.occurred_at, at("2024-05-14T10:01:18.231Z"));
    assert_eq!(n.mail.sent_at, at("2024-05-14T10:01:16.904Z"));
    // bob@example.com is in destination but did not bounce.
    assert_eq!(
        addresses(&n),
        ["bounce@simulator.amazonses.com", "no-such-user@example.com"]
    );
    for i in 0..2 {
        assert_eq!(detail(&n, i, "bounce_type"), Some(&json!("Permanent")));
        assert_eq!(detail(&n, i, "bounce_sub_type"), Some(&json!("General")));
        assert_eq!(
            detail(&n, i, "feedback_id"),
            Some(&json!(
                "0102018f768c2b77-9d2c4e1a-3b5f-4a6e-8c7d-0e1f2a3b4c5d-000000"
            ))
        );
        assert_eq!(
            detail(&n, i, "reporting_mta"),
            Some(&json!("dns; a4-27.smtp-out.eu-west-1.amazonses.com"))
        );
        assert_eq!(
            detail(&n, i, "remote_mta_ip"),
            Some(&json!("198.51.100.31"))
        );
        assert_eq!(detail(&n, i, "action"), Some(&json!("failed")));
        assert_eq!(detail(&n, i, "status"), Some(&json!("5.1.1")));
    }
    assert_eq!(
        detail(&n, 0, "diagnostic_code"),
        Some(&json!("smtp; 550 5.1.1 user unknown"))
    );
    let second = detail(&n, 1, "diagnostic_code").and_then(Value::as_str);
    assert!(second.is_some_and(|d| d.contains("User unknown in virtual mailbox table")));
    assert_eq!(
        n.mail.destination,
        [
            "bounce@simulator.amazonses.com",
            "no-such-user@example.com",
            "bob@example.com"
        ]
    );
}

#[test]
fn transient_bounce_is_not_permanent() {
    let n = ok(sample!("bounce-transient.json"));
    assert_eq!(n.event_type, EventType::Bounce);
    assert!(!n.is_permanent_bounce());
    assert_eq!(n.occurred_at, at("2024-05-14T10:31:45.002Z"));
    assert_eq!(addresses(&n), ["carol@example.com"]);
    assert_eq!(detail(&n, 0, "bounce_type"), Some(&json!("Transient")));
    assert_eq!(
        detail(&n, 0, "bounce_sub_type"),
        Some(&json!("MailboxFull"))
    );
    assert_eq!(detail(&n, 0, "status"), Some(&json!("4.2.2")));
}

#[test]
fn complaint() {
    let n = ok(sample!("complaint.json"));
    assert_eq!(n.event_type, EventType::Complaint);
    assert_eq!(n.occurred_at, at("2024-05-14T11:20:07Z"));
    assert_eq!(addresses(&n), ["complaint@simulator.amazonses.com"]);
    assert_eq!(
        detail(&n, 0, "complaint_feedback_type"),
        Some(&json!("abuse"))
    );
    // SES sends `complaintSubType: null`; absent values are omitted, not stored as null.
    assert_eq!(detail(&n, 0, "complaint_sub_type"), None);
    assert_eq!(
        detail(&n, 0, "user_agent"),
        Some(&json!("Amazon SES Mailbox Simulator"))
    );
    assert_eq!(
        detail(&n, 0, "arrival_date"),
        Some(&json!("2024-05-14T11:20:06.841Z"))
    );
    assert!(detail(&n, 0, "feedback_id").is_some());
}

#[test]
fn reject_uses_mail_timestamp() {
    let n = ok(sample!("reject.json"));
    assert_eq!(n.event_type, EventType::Reject);
    assert_eq!(n.occurred_at, at("2024-05-14T12:05:41.090Z"));
    assert_eq!(addresses(&n), ["dave@example.com"]);
    assert_eq!(detail(&n, 0, "reason"), Some(&json!("Bad content")));
}

#[test]
fn open_uses_its_own_timestamp() {
    let n = ok(sample!("open.json"));
    assert_eq!(n.event_type, EventType::Open);
    assert_eq!(n.occurred_at, at("2024-05-14T12:14:31.507Z"));
    assert_ne!(n.occurred_at, n.mail.sent_at);
    assert_eq!(addresses(&n), ["alice@example.com"]);
    assert_eq!(detail(&n, 0, "ip_address"), Some(&json!("192.0.2.44")));
    let ua = detail(&n, 0, "user_agent").and_then(Value::as_str);
    assert!(ua.is_some_and(|ua| ua.starts_with("Mozilla/5.0 (iPhone")));
}

#[test]
fn click_keeps_link_and_link_tags() {
    let n = ok(sample!("click.json"));
    assert_eq!(n.event_type, EventType::Click);
    assert_eq!(n.occurred_at, at("2024-05-14T12:14:52.880Z"));
    assert_eq!(addresses(&n), ["alice@example.com"]);
    assert_eq!(
        detail(&n, 0, "link"),
        Some(&json!(
            "https://app.example.com/reset-password?token=3f9a1c7e5b2d4f6a8c0e"
        ))
    );
    assert_eq!(
        detail(&n, 0, "link_tags"),
        Some(&json!({"link-name": ["reset-button"], "position": ["top"]}))
    );
    assert_eq!(detail(&n, 0, "ip_address"), Some(&json!("192.0.2.44")));
    assert!(detail(&n, 0, "user_agent").is_some());
}

#[test]
fn rendering_failure_with_a_space() {
    let n = ok(sample!("rendering-failure.json"));
    assert_eq!(n.event_type, EventType::RenderingFailure);
    assert_eq!(n.raw_type, "Rendering Failure");
    assert_eq!(n.occurred_at, at("2024-05-14T13:02:19.734Z"));
    assert_eq!(addresses(&n), ["erin@example.com"]);
    // SES sends no headers for a message it could not render.
    assert_eq!(n.mail.subject, None);
    assert_eq!(
        detail(&n, 0, "template_name"),
        Some(&json!("order-shipped-v3"))
    );
    assert_eq!(
        detail(&n, 0, "error_message"),
        Some(&json!(
            "Attribute 'order_id' is not present in the rendering data."
        ))
    );
    assert_eq!(n.mail.tags["ses:operation"], ["SendTemplatedEmail"]);
}

#[test]
fn delivery_delay_names_delayed_recipients() {
    let n = ok(sample!("delivery-delay.json"));
    assert_eq!(n.event_type, EventType::DeliveryDelay);
    assert_eq!(n.occurred_at, at("2024-05-14T13:55:27Z"));
    assert_eq!(addresses(&n), ["frank@example.com"]);
    assert_eq!(
        detail(&n, 0, "delay_type"),
        Some(&json!("TransientCommunicationFailure"))
    );
    assert_eq!(
        detail(&n, 0, "expiration_time"),
        Some(&json!("2024-05-15T13:40:02.145Z"))
    );
    assert_eq!(
        detail(&n, 0, "reporting_mta"),
        Some(&json!("a4-19.smtp-out.eu-west-1.amazonses.com"))
    );
    assert_eq!(detail(&n, 0, "status"), Some(&json!("4.4.1")));
    assert_eq!(
        detail(&n, 0, "diagnostic_code"),
        Some(&json!("smtp; 421 4.4.1 Unable to connect to remote host"))
    );
}

#[test]
fn subscription_keeps_preferences_as_objects() {
    let n = ok(sample!("subscription.json"));
    assert_eq!(n.event_type, EventType::Subscription);
    assert_eq!(n.occurred_at, at("2024-05-14T14:21:09.355Z"));
    assert_eq!(addresses(&n), ["heidi@example.com"]);
    assert_eq!(
        detail(&n, 0, "contact_list"),
        Some(&json!("acme-newsletter"))
    );
    assert_eq!(detail(&n, 0, "source"), Some(&json!("UnsubscribeHeader")));
    assert_eq!(
        detail(&n, 0, "new_topic_preferences"),
        Some(&json!({
            "unsubscribeAll": true,
            "topicSubscriptionStatus": {"monthly-digest": "OptOut", "product-updates": "OptOut"}
        }))
    );
    assert_eq!(
        detail(&n, 0, "old_topic_preferences").and_then(|v| v.get("unsubscribeAll")),
        Some(&json!(false))
    );
}

#[test]
fn unknown_type_is_kept() {
    let n = ok(sample!("unknown-type.json"));
    assert_eq!(n.event_type, EventType::Unknown);
    assert_eq!(n.raw_type, "FutureThing");
    assert_eq!(n.occurred_at, at("2024-05-14T15:00:00.500Z"));
    assert_eq!(addresses(&n), ["ivan@example.com"]);
    assert_eq!(detail(&n, 0, "raw_event_type"), Some(&json!("FutureThing")));
    assert_eq!(n.mail.tags["ses:configuration-set"], ["trackses-demo"]);
}

#[test]
fn older_format_bounce() {
    let n = ok(sample!("notification-bounce.json"));
    assert_eq!(n.event_type, EventType::Bounce);
    assert_eq!(n.raw_type, "Bounce");
    assert!(n.is_permanent_bounce());
    assert_eq!(n.occurred_at, at("2024-05-14T15:12:44.318Z"));
    assert_eq!(addresses(&n), ["bounce@simulator.amazonses.com"]);
    assert!(n.mail.tags.is_empty());
    assert_eq!(
        detail(&n, 0, "diagnostic_code"),
        Some(&json!("smtp; 550 5.1.1 user unknown"))
    );
}

#[test]
fn older_format_delivery() {
    let n = ok(sample!("notification-delivery.json"));
    assert_eq!(n.event_type, EventType::Delivery);
    assert_eq!(n.occurred_at, at("2024-05-14T15:20:11.219Z"));
    assert_eq!(addresses(&n), ["success@simulator.amazonses.com"]);
    assert_eq!(detail(&n, 0, "processing_time_ms"), Some(&json!(1215)));
    assert!(n.mail.tags.is_empty());
}

#[test]
fn older_format_complaint() {
    let n = ok(sample!("notification-complaint.json"));
    assert_eq!(n.event_type, EventType::Complaint);
    assert_eq!(n.occurred_at, at("2024-05-14T15:31:59Z"));
    assert_eq!(addresses(&n), ["complaint@simulator.amazonses.com"]);
    assert_eq!(
        detail(&n, 0, "complaint_feedback_type"),
        Some(&json!("abuse"))
    );
    assert!(n.mail.tags.is_empty());
}

/// The `Message` of /work/shared/fixtures/sns-real/ses-bounce-v1.json, a bounce SES really sent.
#[test]
fn real_ses_bounce() {
    let n = ok(sample!("real-bounce-keila.json"));
    assert_eq!(n.event_type, EventType::Bounce);
    assert!(n.is_permanent_bounce());
    assert_eq!(n.occurred_at, at("2021-11-01T08:31:09.745Z"));
    assert_eq!(n.mail.sent_at, at("2021-11-01T08:31:08.230Z"));
    assert_eq!(addresses(&n), ["bounce@simulator.amazonses.com"]);
    assert_eq!(n.mail.subject.as_deref(), Some("Test"));
    assert_eq!(n.mail.tags["ses:configuration-set"], ["keila"]);
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

fn sample_doc(name: &str) -> Value {
    let path = format!("{}/../../events/ses/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn parse_doc(doc: &Value) -> Result<SesNotification, SesError> {
    parse(&doc.to_string())
}

fn addresses_numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r{i}@example.com")).collect()
}

#[test]
fn at_most_fifty_recipients_and_destination_addresses() {
    let mut doc = sample_doc("delivery.json");
    doc["delivery"]["recipients"] = json!(addresses_numbered(MAX_RECIPIENTS));
    assert_eq!(parse_doc(&doc).unwrap().recipients.len(), MAX_RECIPIENTS);
    doc["delivery"]["recipients"] = json!(addresses_numbered(MAX_RECIPIENTS + 1));
    assert_eq!(
        parse_doc(&doc),
        Err(SesError::TooMany {
            what: "recipients",
            max: MAX_RECIPIENTS
        })
    );

    let mut doc = sample_doc("send.json");
    doc["mail"]["destination"] = json!(addresses_numbered(MAX_RECIPIENTS));
    assert_eq!(parse_doc(&doc).unwrap().recipients.len(), MAX_RECIPIENTS);
    doc["mail"]["destination"] = json!(addresses_numbered(MAX_RECIPIENTS + 1));
    assert_eq!(
        parse_doc(&doc),
        Err(SesError::TooMany {
            what: "destination addresses",
            max: MAX_RECIPIENTS
        })
    );
}

#[test]
fn repeated_recipients_count_once() {
    let mut doc = sample_doc("bounce-permanent.json");
    let bounced: Vec<Value> = (0..MAX_RECIPIENTS)
        .map(|i| json!({"emailAddress": if i % 2 == 0 { "A@example.com" } else { " a@example.com" }}))
        .collect();
    doc["bounce"]["bouncedRecipients"] = json!(bounced);
    assert_eq!(addresses(&parse_doc(&doc).unwrap()), ["a@example.com"]);
}

#[test]
fn recipients_must_be_addresses() {
    for bad in [
        "no-at-sign",
        "@example.com",
        "bob@",
        "a@b@example.com",
        "bob smith@example.com",
        "bob@exam\u{7}ple.com",
    ] {
        let mut doc = sample_doc("delivery.json");
        doc["delivery"]["recipients"] = json!([bad]);
        assert_eq!(
            parse_doc(&doc),
            Err(SesError::InvalidField("recipient")),
            "{bad:?}"
        );
        let mut doc = sample_doc("send.json");
        doc["mail"]["destination"] = json!(["ok@example.com", bad]);
        assert_eq!(
            parse_doc(&doc),
            Err(SesError::InvalidField("recipient")),
            "{bad:?}"
        );
    }
}

#[test]
fn tags_within_what_ses_allows() {
    let mut doc = sample_doc("send.json");
    let at_most: serde_json::Map<String, Value> = (0..MAX_TAGS)
        .map(|i| (format!("{i:0>256}"), json!(["v".repeat(MAX_TAG_LEN)])))
        .collect();
    doc["mail"]["tags"] = Value::Object(at_most);
    assert_eq!(parse_doc(&doc).unwrap().mail.tags.len(), MAX_TAGS);

    let too_many: serde_json::Map<String, Value> = (0..=MAX_TAGS)
        .map(|i| (i.to_string(), json!(["v"])))
        .collect();
    doc["mail"]["tags"] = Value::Object(too_many);
    assert_eq!(
        parse_doc(&doc),
        Err(SesError::TooMany {
            what: "message tags",
            max: MAX_TAGS
        })
    );
    doc["mail"]["tags"] = json!({"campaign": ["v".repeat(MAX_TAG_LEN + 1)]});
    assert_eq!(parse_doc(&doc), Err(SesError::InvalidField("mail.tags")));
}

#[test]
fn subject_source_and_details_are_bounded() {
    let mut doc = sample_doc("send.json");
    doc["mail"]["commonHeaders"]["subject"] = json!("s".repeat(MAX_HEADER_JSON - 2));
    assert!(parse_doc(&doc).is_ok());
    // Quotes take two bytes each as JSON, which is how the subject is stored.
    doc["mail"]["commonHeaders"]["subject"] = json!("\"".repeat(MAX_HEADER_JSON / 2));
    assert_eq!(
        parse_doc(&doc),
        Err(SesError::TooLarge {
            field: "mail.commonHeaders.subject",
            max: MAX_HEADER_JSON
        })
    );
    let mut doc = sample_doc("send.json");
    doc["mail"]["source"] = json!(format!("{}@example.com", "s".repeat(MAX_HEADER_JSON)));
    assert_eq!(
        parse_doc(&doc),
        Err(SesError::TooLarge {
            field: "mail.source",
            max: MAX_HEADER_JSON
        })
    );

    let mut doc = sample_doc("bounce-permanent.json");
    doc["bounce"]["bouncedRecipients"][0]["diagnosticCode"] =
        json!("d".repeat(MAX_DETAIL_JSON - 2));
    assert!(parse_doc(&doc).is_ok());
    doc["bounce"]["bouncedRecipients"][0]["diagnosticCode"] =
        json!("d".repeat(MAX_DETAIL_JSON - 1));
    assert_eq!(
        parse_doc(&doc),
        Err(SesError::TooLarge {
            field: "diagnostic_code",
            max: MAX_DETAIL_JSON
        })
    );
    let mut doc = sample_doc("click.json");
    doc["click"]["linkTags"] = json!({"t": vec!["x".repeat(100); MAX_DETAIL_JSON / 100]});
    assert_eq!(
        parse_doc(&doc),
        Err(SesError::TooLarge {
            field: "link_tags",
            max: MAX_DETAIL_JSON
        })
    );
    let mut doc = sample_doc("unknown-type.json");
    doc["eventType"] = json!("x".repeat(MAX_DETAIL_JSON));
    assert_eq!(
        parse_doc(&doc),
        Err(SesError::TooLarge {
            field: "raw_event_type",
            max: MAX_DETAIL_JSON
        })
    );
}

#[test]
fn limit_errors_never_echo_the_input() {
    let secret = "very-secret-value";
    let mut doc = sample_doc("bounce-permanent.json");
    doc["bounce"]["bouncedRecipients"][0]["diagnosticCode"] = json!(secret.repeat(1000));
    doc["mail"]["tags"] = json!({secret: [secret.repeat(20)]});
    let message = parse_doc(&doc).unwrap_err().to_string();
    assert!(!message.contains(secret), "{message}");
    doc["mail"]["destination"] = json!([format!("{secret} @example.com")]);
    let message = parse_doc(&doc).unwrap_err().to_string();
    assert!(!message.contains(secret), "{message}");
}
