//! SES's own limits: a notification with more recipients, tags or bytes than SES ever sends is
//! refused whole, in errors that never echo the input.

use serde_json::{Value, json};

use super::limits::{MAX_DETAIL_JSON, MAX_HEADER_JSON, MAX_RECIPIENTS, MAX_TAG_LEN, MAX_TAGS};
use super::tests::addresses;
use super::{SesError, parse};
use model::event::SesNotification;

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
