//! `make dev`'s receiver: a customer's endpoint on this machine, which prints each forwarded
//! event and alert it is sent, and whether its signature is one of the secrets it was given.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use outbound::signature::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use outbound::{SigningSecret, sign};
use serde_json::Value;

#[derive(Clone, Default)]
pub struct Receiver {
    secrets: Arc<Mutex<Vec<SigningSecret>>>,
}

impl Receiver {
    /// Listens on `port` of loopback (0: any); the URL deliveries go to.
    pub async fn start(port: u16) -> Result<(Receiver, String), std::io::Error> {
        let receiver = Receiver::default();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok((receiver, url))
    }

    /// A secret an endpoint or channel was created with (`whsec_…`).
    pub fn trust(&self, secret: &str) {
        if let Some(secret) = SigningSecret::parse(secret) {
            self.secrets
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(secret);
        }
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let (id, timestamp, signatures) = (
        header(ID_HEADER),
        header(TIMESTAMP_HEADER),
        header(SIGNATURE_HEADER),
    );
    let signed = timestamp.parse::<i64>().is_ok_and(|t| {
        let secrets = receiver.secrets.lock().unwrap_or_else(|e| e.into_inner());
        secrets.iter().any(|secret| {
            let expected = sign(&[secret], id, t, &body);
            signatures.split(' ').any(|s| s == expected)
        })
    });
    let document: Value = serde_json::from_slice(&body).unwrap_or_default();
    let data = &document["data"];
    let what = match document["type"].as_str().unwrap_or_default() {
        kind @ ("alert.opened" | "alert.resolved") => format!(
            "{kind}: {} ({}) {}",
            data["rule_name"].as_str().unwrap_or_default(),
            data["subject"].as_str().unwrap_or_default(),
            data["resolution"]
                .as_str()
                .or(data["summary"].as_str())
                .unwrap_or_default()
        ),
        kind => format!(
            "{kind} for {}",
            data["recipient"].as_str().unwrap_or_default()
        ),
    };
    println!(
        "receiver <- {what} [signature {}]",
        if signed { "verified" } else { "NOT verified" }
    );
    if signed {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::UNAUTHORIZED
    }
}
