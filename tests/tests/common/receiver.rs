//! A customer's forwarding endpoint on this machine: it checks each delivery's Standard Webhooks
//! signature with its own code (HMAC-SHA256 over `id.timestamp.body`, as the standard's
//! libraries do; not trackses' signer), refuses the first attempts it is told to, and keeps what
//! it accepted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};

use super::Harness;

#[derive(Default)]
struct Seen {
    /// The secrets it verifies with (`whsec_…`), any of which may have signed.
    secrets: Vec<String>,
    /// Attempts of each event id refused before one is accepted.
    refuse_first: u32,
    /// A Slack-style incoming webhook: nothing is signed, every JSON body is taken.
    unsigned: bool,
    attempts: HashMap<String, u32>,
    accepted: Vec<(String, Value)>,
    forged: u32,
}

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    seen: Arc<Mutex<Seen>>,
}

impl Receiver {
    /// Listening; refuses (500) the first `refuse_first` attempts of each event id.
    pub async fn start(refuse_first: u32) -> Receiver {
        Receiver::listen(Seen {
            refuse_first,
            ..Seen::default()
        })
        .await
    }

    /// A Slack-compatible incoming webhook: takes every JSON body, signed or not.
    pub async fn slack() -> Receiver {
        Receiver::listen(Seen {
            unsigned: true,
            ..Seen::default()
        })
        .await
    }

    async fn listen(seen: Seen) -> Receiver {
        let seen = Arc::new(Mutex::new(seen));
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(seen.clone());
        let base = super::serve(app).await;
        Receiver {
            url: format!("{base}/hook"),
            seen,
        }
    }

    pub fn trust(&self, secret: &str) {
        self.seen.lock().unwrap().secrets.push(secret.to_owned());
    }

    pub fn distrust_all(&self) {
        self.seen.lock().unwrap().secrets.clear();
    }

    /// What it accepted, in order: (webhook-id, body).
    pub fn accepted(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().accepted.clone()
    }

    pub fn attempts(&self, id: &str) -> u32 {
        self.seen
            .lock()
            .unwrap()
            .attempts
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until it accepted `count` deliveries (up to 30 s), and 2 s more for any it should
    /// not get; what it accepted.
    pub async fn settle(&self, count: usize) -> Vec<(String, Value)> {
        for _ in 0..300 {
            if self.accepted().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        self.accepted()
    }

    /// Deliveries whose signature none of its secrets made.
    pub fn forged(&self) -> u32 {
        self.seen.lock().unwrap().forged
    }
}

async fn receive(
    State(seen): State<Arc<Mutex<Seen>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let (id, timestamp, signatures) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let mut seen = seen.lock().unwrap();
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() <= 300);
    let signed = seen.secrets.iter().any(|secret| {
        let Some(key) = secret
            .strip_prefix("whsec_")
            .and_then(|k| STANDARD.decode(k).ok())
        else {
            return false;
        };
        let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
        let content = [id.as_bytes(), b".", timestamp.as_bytes(), b".", &body].concat();
        signatures.split(' ').any(|signature| {
            signature
                .strip_prefix("v1,")
                .and_then(|s| STANDARD.decode(s).ok())
                .is_some_and(|tag| hmac::verify(&key, &content, &tag).is_ok())
        })
    });
    let taken = seen.unsigned || (fresh && signed);
    if !taken {
        seen.forged += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let attempt = {
        let count = seen.attempts.entry(id.to_owned()).or_default();
        *count += 1;
        *count
    };
    if attempt <= seen.refuse_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let Ok(body) = serde_json::from_slice(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    seen.accepted.push((id.to_owned(), body));
    StatusCode::NO_CONTENT
}

/// Registers an endpoint of `pid` for `receiver` (`body` without its url), which then trusts its
/// secret; returns its id.
pub async fn endpoint(
    h: &Harness,
    pid: &str,
    key: &str,
    receiver: &Receiver,
    body: Value,
) -> String {
    let mut body = body;
    body["url"] = json!(receiver.url);
    let path = format!("/v1/projects/{pid}/endpoints");
    let (status, created) = h.call(Method::POST, &path, key, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{created}");
    receiver.trust(secret);
    created["endpoint"]["id"].as_str().unwrap().to_owned()
}

/// Makes `receiver` a webhook alert channel of `pid`, which then trusts its secret; returns its
/// id.
pub async fn webhook_channel(h: &Harness, pid: &str, key: &str, receiver: &Receiver) -> String {
    let path = format!("/v1/projects/{pid}/alert-channels");
    let body = json!({"type": "webhook", "url": receiver.url});
    let (status, created) = h.call(Method::POST, &path, key, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    receiver.trust(created["secret"].as_str().unwrap());
    created["channel"]["id"].as_str().unwrap().to_owned()
}
