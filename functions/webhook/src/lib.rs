//! `webhook`: SNS HTTPS deliveries, `POST /v1/hooks/sns/{cid}`, authenticated by signature and
//! registered topic. Holds no customer credentials: it links neither KMS, STS nor SES.

use std::sync::Arc;

use aws_types::SdkConfig;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use edge::Problem;
use ingest::sns::Envelope;
use ingest::{Disposition, IngestError, Ingestor, Target};
use runtime::Config;
use store::Store;

/// The function, built once per cold start.
#[derive(Clone)]
pub struct App {
    ingestor: Arc<Ingestor<Store>>,
}

impl App {
    pub fn from_config(config: &Config, aws: &SdkConfig) -> App {
        App::new(Ingestor::from_config(config, Store::connect(config, aws)))
    }

    /// The function around an ingestor built otherwise (a test's clock).
    pub fn new(ingestor: Ingestor<Store>) -> App {
        App {
            ingestor: Arc::new(ingestor),
        }
    }

    /// The routes only; `edge::finish` adds the problem+json fallbacks once, at the edge.
    pub fn routes(&self) -> Router {
        Router::new()
            .route(edge::hooks::SNS, post(receive))
            .with_state(self.ingestor.clone())
    }
}

async fn receive(
    State(ingestor): State<Arc<Ingestor<Store>>>,
    Path(cid): Path<String>,
    body: Bytes,
) -> Response {
    let result = match Envelope::from_json(&body) {
        Ok(envelope) => ingestor.handle(&envelope, Target::Connection(&cid)).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(outcome) => (StatusCode::OK, axum::Json(outcome)).into_response(),
        Err(error) => rejection(&cid, &error).into_response(),
    }
}

fn rejection(cid: &str, error: &IngestError) -> Problem {
    match error.disposition() {
        Disposition::Malformed => {
            runtime::metrics::refused(error.reason());
            tracing::warn!(connection_id = %cid, reason = %error, "SNS message rejected as malformed");
            Problem::bad_request(error.to_string())
        }
        Disposition::Forbidden => {
            runtime::metrics::refused(error.reason());
            tracing::warn!(connection_id = %cid, reason = %error, "SNS message refused");
            Problem::forbidden(error.to_string())
        }
        Disposition::Retry => {
            runtime::metrics::failure(error.reason());
            Problem::unavailable(error)
        }
    }
}
