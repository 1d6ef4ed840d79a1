//! `POST /v1/hooks/sns/{cid}`: SNS over HTTPS. Authenticated by signature and registered topic.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::problem::Problem;
use crate::ingest::{Disposition, IngestError, Ingestor, Outcome, Target};
use crate::sns::Envelope;

/// The routes only; `http::finish` adds the problem+json fallbacks once, at the edge.
pub fn routes(ingestor: Arc<Ingestor>) -> Router {
    Router::new()
        .route("/v1/hooks/sns/{cid}", post(receive))
        .with_state(ingestor)
}

async fn receive(
    State(ingestor): State<Arc<Ingestor>>,
    Path(cid): Path<String>,
    body: Bytes,
) -> Response {
    let result = match Envelope::from_json(&body) {
        Ok(envelope) => ingestor.handle(&envelope, Target::Connection(&cid)).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(outcome) => (StatusCode::OK, axum::Json(outcome_body(outcome))).into_response(),
        Err(error) => rejection(&cid, &error).into_response(),
    }
}

pub fn outcome_body(outcome: Outcome) -> serde_json::Value {
    match outcome {
        Outcome::Stored { events } => json!({"status": "stored", "events": events}),
        Outcome::Duplicate => json!({"status": "duplicate"}),
        Outcome::Confirmed => json!({"status": "confirmed"}),
        Outcome::Proven => json!({"status": "proven"}),
        Outcome::Unsubscribed => json!({"status": "unsubscribed"}),
    }
}

fn rejection(cid: &str, error: &IngestError) -> Problem {
    if error.disposition() != Disposition::Retry {
        crate::metrics::refused("webhook", error.reason());
    }
    match error.disposition() {
        Disposition::Malformed => {
            tracing::warn!(connection_id = %cid, reason = %error, "SNS message rejected as malformed");
            Problem::bad_request(error.to_string())
        }
        Disposition::Forbidden => {
            tracing::warn!(connection_id = %cid, reason = %error, "SNS message refused");
            Problem::forbidden(error.to_string())
        }
        Disposition::Retry => Problem::unavailable(error),
    }
}
