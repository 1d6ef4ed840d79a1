//! Automatic mode's customer: an account holding foreign resources and a scoped key for trackses,
//! connected through the API.

use local::customer::CustomerAccount;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Harness, REGION, fresh_account, unique};

pub struct Setup {
    pub customer: CustomerAccount,
    pub key_id: String,
    pub secret: String,
    pub domain: String,
}

/// A customer account holding foreign resources, and a scoped key for trackses.
pub async fn customer_with_key(h: &Harness) -> Setup {
    // A fresh account per test, so no other test's resources show up in its snapshots.
    let account = fresh_account("4000");
    let customer = h.customer(&account).await;
    let domain = format!("{}.example", unique("shop"));
    let orders = customer.create_topic("orders", "1").await.unwrap();
    customer
        .publish_ses_events_to(&format!("news@{domain}"), "marketing", &orders)
        .await
        .unwrap();
    customer
        .create_identity(&format!("hello@{domain}"))
        .await
        .unwrap();
    let (key_id, secret) = customer
        .scoped_access_key("trackses", local::customer::TRACKSES_POLICY)
        .await
        .unwrap();
    Setup {
        customer,
        key_id,
        secret,
        domain,
    }
}

/// Registers the key of `setup` as an automatic connection of the project.
pub async fn connect(h: &Harness, pid: &str, key: &str, setup: &Setup) -> (u16, Value) {
    h.call(
        Method::POST,
        &format!("/v1/projects/{pid}/connections"),
        key,
        Some(json!({
            "mode": "automatic",
            "region": REGION,
            "access_key_id": setup.key_id,
            "secret_access_key": setup.secret,
        })),
    )
    .await
}
