//! `ses::parse`: never panics, never echoes its input in an error, and whatever it accepts is
//! within `ses::limits`, the bounds `store::ingest_write` is sized for.

use std::collections::HashSet;

use proptest::prelude::*;
use serde_json::{Value, json as j};

use crate::ses::limits::{
    MAX_ADDRESS_LEN, MAX_DETAIL_JSON, MAX_HEADER_JSON, MAX_RECIPIENTS, MAX_TAG_LEN, MAX_TAGS,
    is_address, json_len,
};
use crate::ses::parse;
use crate::strategies::{any_text, config, fields, json};
use model::SesNotification;

/// Bounce's eight (five shared, three per recipient) are the most any type has; the ingest size
/// test builds its worst case from them.
const MAX_DETAILS: usize = 8;

/// Put in generated text: an error that contained it would be echoing the input.
const MARKER: &str = "PROPSECRET";

const NAMES: &[&str] = &[
    "eventType",
    "notificationType",
    "mail",
    "timestamp",
    "messageId",
    "source",
    "sendingAccountId",
    "destination",
    "commonHeaders",
    "subject",
    "tags",
    "bounce",
    "bounceType",
    "bounceSubType",
    "bouncedRecipients",
    "emailAddress",
    "action",
    "status",
    "diagnosticCode",
    "feedbackId",
    "reportingMTA",
    "remoteMtaIp",
    "complaint",
    "complainedRecipients",
    "complaintSubType",
    "complaintFeedbackType",
    "userAgent",
    "arrivalDate",
    "delivery",
    "processingTimeMillis",
    "recipients",
    "smtpResponse",
    "open",
    "click",
    "ipAddress",
    "link",
    "linkTags",
    "reject",
    "reason",
    "failure",
    "templateName",
    "errorMessage",
    "deliveryDelay",
    "delayType",
    "delayedRecipients",
    "expirationTime",
    "subscription",
    "contactList",
    "newTopicPreferences",
    "oldTopicPreferences",
    "send",
];

/// Each type with the key of its sub-object; mixed up now and then.
const KINDS: &[(&str, &str)] = &[
    ("Send", "send"),
    ("Delivery", "delivery"),
    ("Bounce", "bounce"),
    ("Complaint", "complaint"),
    ("Reject", "reject"),
    ("Open", "open"),
    ("Click", "click"),
    ("Rendering Failure", "failure"),
    ("DeliveryDelay", "deliveryDelay"),
    ("Subscription", "subscription"),
    ("FutureThing", "futureThing"),
];

/// Lengths around every bound, rarely (they are costly to build), and short ones mostly.
fn length() -> impl Strategy<Value = usize> + Clone {
    let bounds = [
        MAX_TAG_LEN,
        MAX_HEADER_JSON,
        MAX_DETAIL_JSON,
        MAX_ADDRESS_LEN,
    ];
    let near: Vec<usize> = bounds
        .iter()
        .flat_map(|&b| [b - 3, b - 2, b - 1, b, b + 1])
        .collect();
    prop_oneof![20 => 0usize..24, 1 => prop::sample::select(near)]
}

/// Text of many kinds: SES's own words, anything at all, and one character repeated to a length
/// near a bound (a control character, a quote or a multi-byte one changes its size as JSON).
fn text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => prop::sample::select(KINDS).prop_map(|(kind, _)| kind.to_owned()),
        2 => prop::sample::select(vec![
            "Permanent", "Transient", "2024-05-14T10:01:18.231Z", "2024-13-45T00:00:00Z",
            "0102018f768c1a2e-000000", "a#b", "bob@example.com", " Bob@Example.COM ",
        ]).prop_map(str::to_owned),
        2 => any_text(),
        2 => (length(), any::<char>(), prop::bool::ANY).prop_map(|(n, c, marked)| {
            let repeated = c.to_string().repeat(n);
            if marked { format!("{MARKER}{repeated}") } else { repeated }
        }),
    ]
}

/// Mostly what the field should hold, now and then any text at all.
fn mostly(right: impl Strategy<Value = String> + Clone + 'static) -> BoxedStrategy<Value> {
    prop_oneof![9 => right, 1 => text()]
        .prop_map(Value::String)
        .boxed()
}

fn timestamp() -> BoxedStrategy<Value> {
    mostly(
        prop::sample::select(vec![
            "2024-05-14T10:01:18.231Z",
            "2024-05-14T11:20:07Z",
            "2024-01-02T05:04:06+02:00",
        ])
        .prop_map(str::to_owned),
    )
}

/// Addresses, near-addresses and non-addresses, some at the length bound.
fn address() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        16 => "[a-zA-Z0-9._+-]{1,12}@[a-z0-9.-]{1,12}",
        1 => "[ A-Za-z0-9@.\"\\\\\t]{0,16}",
        1 => (length(), prop::sample::select(vec!['a', '\\', '@', ' ']))
            .prop_map(|(n, c)| format!("{}@example.com", c.to_string().repeat(n))),
        1 => text(),
    ]
}

/// Mostly a few items; now and then one item numbered into a list at SES's recipient bound
/// (generating fifty would cost fifty times as much, for no more variety where it matters).
fn list(item: impl Strategy<Value = Value> + Clone) -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        12 => prop::collection::vec(item.clone(), 0..4).prop_map(Value::Array),
        1 => (item, (MAX_RECIPIENTS - 1)..=(MAX_RECIPIENTS + 1))
            .prop_map(|(item, n)| Value::Array((0..n).map(|i| numbered(&item, i)).collect())),
    ]
}

/// `item` with `i` in front of its address, so that copies are distinct recipients.
fn numbered(item: &Value, i: usize) -> Value {
    let mut item = item.clone();
    let address = match &mut item {
        Value::Object(fields) => fields.get_mut("emailAddress"),
        other => Some(other),
    };
    if let Some(Value::String(address)) = address {
        address.insert_str(0, &i.to_string());
    }
    item
}

/// A few tags, or one numbered into as many as the bound allows and one more.
fn tags() -> impl Strategy<Value = Value> {
    let value = prop_oneof![
        8 => "[A-Za-z0-9_.:-]{0,16}",
        1 => length().prop_map(|n| "v".repeat(n)),
        1 => text(),
    ];
    let values = prop_oneof![9 => Just(1usize), 1 => 0usize..4];
    let count = prop_oneof![6 => 0usize..8, 1 => (MAX_TAGS - 1)..=(MAX_TAGS + 1)];
    (("[a-z:-]{1,16}", value, values), count).prop_map(|((name, value, values), count)| {
        // Numbered so that the names, hence the count, are the ones generated.
        let tags = (0..count).map(|i| (format!("{name}{i}"), j!(vec![&value; values])));
        Value::Object(tags.collect())
    })
}

/// Every field of `parts` in one object.
fn merged(parts: impl IntoIterator<Item = Value>) -> Value {
    let mut out = serde_json::Map::new();
    for part in parts {
        if let Value::Object(fields) = part {
            out.extend(fields);
        }
    }
    Value::Object(out)
}

/// An SES-like document: every field SES sends, mostly of the right type, values anywhere from
/// right to absurd. One sub-object has the fields of every event type; each type reads its own.
fn document() -> impl Strategy<Value = Value> {
    let string = || text().prop_map(Value::String);
    let address_value = || mostly(address());
    let recipient = (
        fields(&["emailAddress"], address_value()),
        fields(&["action", "status", "diagnosticCode"], string()),
    )
        .prop_map(|(a, b)| merged([a, b]));
    let event = (
        fields(&["timestamp", "arrivalDate", "expirationTime"], timestamp()),
        fields(
            &["bounceType"],
            mostly(prop::sample::select(vec!["Permanent", "Transient"]).prop_map(str::to_owned)),
        ),
        fields(
            &[
                "bounceSubType",
                "feedbackId",
                "reportingMTA",
                "remoteMtaIp",
                "complaintSubType",
                "complaintFeedbackType",
                "userAgent",
                "smtpResponse",
                "ipAddress",
                "link",
                "reason",
                "templateName",
                "errorMessage",
                "delayType",
                "contactList",
                "source",
            ],
            string(),
        ),
        list(recipient),
        list(address_value()),
        prop::option::weighted(0.3, json(NAMES, text())),
        prop::option::of(any::<u64>()),
    )
        .prop_map(
            |(times, bounce_type, texts, recipients, addresses, value, millis)| {
                let mut event = merged([times, bounce_type, texts]);
                for key in [
                    "bouncedRecipients",
                    "complainedRecipients",
                    "delayedRecipients",
                ] {
                    event[key] = recipients.clone();
                }
                event["recipients"] = addresses;
                event["processingTimeMillis"] = j!(millis);
                for key in ["linkTags", "newTopicPreferences", "oldTopicPreferences"] {
                    event[key] = value.clone().unwrap_or(Value::Null);
                }
                event
            },
        );
    let mail = (
        fields(&["timestamp"], timestamp()),
        fields(&["messageId"], mostly("[a-z0-9-]{1,64}")),
        fields(&["source"], address_value()),
        fields(&["sendingAccountId"], string()),
        list(address_value()),
        prop::option::of(text()),
        prop::option::of(tags()),
    )
        .prop_map(
            |(timestamp, id, source, account, destination, subject, tags)| {
                let mut mail = merged([timestamp, id, source, account]);
                mail["destination"] = destination;
                mail["commonHeaders"] = j!({"subject": subject});
                if let Some(tags) = tags {
                    mail["tags"] = tags;
                }
                mail
            },
        );
    let kind = prop_oneof![
        9 => prop::sample::select(KINDS),
        1 => (prop::sample::select(KINDS), prop::sample::select(KINDS))
            .prop_map(|((kind, _), (_, key))| (kind, key)),
    ];
    (kind, prop::bool::weighted(0.8), mail, event).prop_map(
        |((kind, key), publishing, mail, event)| {
            let type_field = if publishing {
                "eventType"
            } else {
                "notificationType"
            };
            j!({type_field: kind, "mail": mail, key: event})
        },
    )
}

fn within_limits(n: &SesNotification) -> Result<(), TestCaseError> {
    prop_assert!((1..=MAX_RECIPIENTS).contains(&n.recipients.len()));
    let mut seen = HashSet::new();
    for r in &n.recipients {
        prop_assert!(is_address(&r.recipient), "{:?}", r.recipient);
        prop_assert_eq!(&r.recipient, &r.recipient.trim().to_lowercase());
        prop_assert!(seen.insert(&r.recipient), "{} twice", r.recipient);
        prop_assert!(r.details.len() <= MAX_DETAILS);
        for value in r.details.values() {
            prop_assert!(json_len(value) <= MAX_DETAIL_JSON);
        }
    }
    prop_assert!(n.mail.destination.len() <= MAX_RECIPIENTS);
    prop_assert!(
        n.mail
            .destination
            .iter()
            .all(|a| a.is_empty() || is_address(a))
    );
    prop_assert!(n.mail.tags.len() <= MAX_TAGS);
    prop_assert!(n.mail.tags.values().map(Vec::len).sum::<usize>() <= MAX_TAGS);
    for (name, values) in &n.mail.tags {
        prop_assert!(name.len() <= MAX_TAG_LEN);
        prop_assert!(values.iter().all(|v| v.len() <= MAX_TAG_LEN));
    }
    prop_assert!(json_len(&n.mail.subject) <= MAX_HEADER_JSON);
    prop_assert!(json_len(&n.mail.source) <= MAX_HEADER_JSON);
    Ok(())
}

fn check(message: &str) -> Result<(), TestCaseError> {
    match parse(message) {
        Ok(notification) => within_limits(&notification),
        Err(error) => {
            prop_assert!(!error.to_string().contains(MARKER), "{}", error);
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_string(message in any::<String>()) {
        check(&message)?;
    }

    #[test]
    fn any_json_with_ses_names(value in json(NAMES, text())) {
        check(&value.to_string())?;
    }

    #[test]
    fn ses_like_documents(doc in document()) {
        check(&doc.to_string())?;
    }
}
