//! One sample of each SES event type (`events/ses/`), of the older notifications and of a bounce
//! SES really sent, parsed into what trackses stores.

use serde_json::{Value, json};

use super::tests::{addresses, at, detail, ok};
use model::event::EventType;

macro_rules! sample {
    ($name:literal) => {
        include_str!(concat!("../../../../events/ses/", $name))
    };
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
