//! SES event documents, one per step of a mail's life: built for hand-fed webhooks, or published
//! through the webhook's real signed path.

use std::time::Duration as Wait;

use chrono::{Duration, Utc};
use local::ses_traffic::{Mail, event_json};
use model::EventType;

use serde_json::Value;

use super::{CUSTOMER, Harness, REGION, TRACKSES_ACCOUNT};

/// One document per step, for all of `mail`'s recipients, a second apart from now.
pub fn documents(mail: &Mail, steps: &[EventType]) -> Vec<String> {
    steps
        .iter()
        .enumerate()
        .map(|(i, t)| {
            event_json(
                *t,
                mail,
                &mail.recipients,
                Utc::now() + Duration::seconds(i as i64),
            )
        })
        .collect()
}

/// Publishes SES events straight through the webhook's real signed path and waits for them.
pub async fn seed(h: &Harness, pid: &str, key: &str, mails: &[(Mail, Vec<EventType>)]) {
    let customer = h.customer(CUSTOMER).await;
    let (topic, _, _) = h
        .live_connection(pid, key, &customer, "trackses-seed", "2")
        .await;
    let mut expected = 0;
    for (mail, steps) in mails {
        for (i, step) in steps.iter().enumerate() {
            let doc = event_json(
                *step,
                mail,
                &mail.recipients,
                mail.sent_at + Duration::seconds(i as i64),
            );
            customer.publish_ses_event(&topic, &doc).await.unwrap();
            expected += mail.recipients.len();
        }
    }
    h.wait_events(pid, key, "limit=200", expected).await;
}

/// What trackses' own SES account sent `address`, once there are `count` such messages.
pub async fn mail_to(address: &str, count: usize) -> Vec<Value> {
    let outbox = format!(
        "{}/_trackses/ses/outbox?account={TRACKSES_ACCOUNT}&region={REGION}",
        std::env::var("AWS_ENDPOINT_URL").unwrap()
    );
    for _ in 0..300 {
        let all: Value = reqwest::get(&outbox).await.unwrap().json().await.unwrap();
        let to: Vec<Value> = all["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                m["destinations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d == address)
            })
            .cloned()
            .collect();
        if to.len() >= count {
            return to;
        }
        tokio::time::sleep(Wait::from_millis(100)).await;
    }
    panic!("no {count} messages to {address}");
}
