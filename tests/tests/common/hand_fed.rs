//! A project whose webhook the test feeds by hand with real signed bodies, and the counters it
//! reads back.

use serde_json::Value;

use super::{CUSTOMER, Capture, Harness, counted, unique};

/// The project's counters as `GET /stats` shows them (the last 30 days), once `ready` holds of them (counters lag the events by a window).
pub async fn stats(h: &Harness, pid: &str, key: &str, ready: impl Fn(&Value) -> bool) -> Value {
    counted(h, &format!("/v1/projects/{pid}/stats"), key, ready).await
}

pub struct Setup {
    pub h: Harness,
    pub pid: String,
    pub key: String,
    pub cid: String,
    pub webhook_url: String,
    pub customer: local::customer::CustomerAccount,
    pub topic: String,
    pub capture: Capture,
}

/// A project whose connection is registered but whose webhook is fed by hand: the signed
/// bodies come from a capturing subscriber on the same topic.
pub async fn setup() -> Setup {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(CUSTOMER).await;
    let topic = customer
        .create_topic(&unique("trackses-replay"), "2")
        .await
        .unwrap();
    let (cid, webhook_url) = h.proven_connection(&pid, &key, &topic).await;
    let capture = Capture::subscribe(&customer, &topic).await;
    Setup {
        h,
        pid,
        key,
        cid,
        webhook_url,
        customer,
        topic,
        capture,
    }
}
