//! The whole path with nothing hand-made: SES `SendEmail` in a customer account → the emulated
//! SES event publishing → SNS → the webhook → DynamoDB → the API.

mod common;

use common::*;
use reqwest::Method;

#[tokio::test]
async fn mail_sent_through_ses_shows_every_event_per_recipient() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let (topic, _, _) = h
        .live_connection(&pid, &key, &customer, "trackses-ses", "2")
        .await;
    let set = unique("trackses-set");
    let sender = format!("{}@demo.example", unique("sender"));
    customer
        .publish_ses_events_to(&sender, &set, &topic)
        .await
        .unwrap();

    let recipients = [
        "success@simulator.amazonses.com",
        "bounce@simulator.amazonses.com",
        "complaint@simulator.amazonses.com",
    ];
    let message_id = customer
        .send_email(&sender, &recipients, "End to end")
        .await
        .unwrap();

    let path = format!("/v1/projects/{pid}/messages/{message_id}");
    let timeline = eventually("the message's events", || async {
        let (status, timeline) = h.call(Method::GET, &path, &key, None).await;
        let count: usize = timeline["recipients"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|r| r["events"].as_array().unwrap().len())
                    .sum()
            })
            .unwrap_or(0);
        // send ×3, delivery ×2 (success, complaint), bounce, complaint
        (status == 200 && count == 7).then_some(timeline)
    })
    .await;
    assert_eq!(timeline["subject"], "End to end");
    assert_eq!(timeline["tags"]["ses:configuration-set"][0], set.as_str());
    let status_of = |address: &str| {
        timeline["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["recipient"] == address)
            .map(|r| r["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status_of(recipients[0]).as_deref(), Some("delivered"));
    assert_eq!(status_of(recipients[1]).as_deref(), Some("bounced"));
    assert_eq!(status_of(recipients[2]).as_deref(), Some("complained"));
    let bounce = &h.events(&pid, &key, "type=bounce").await[0];
    assert_eq!(bounce["details"]["bounce_type"], "Permanent");
    assert_eq!(bounce["ses_message_id"], message_id.as_str());
}
