//! `stack-callback`: deliveries of trackses' callback topics (`POST /v1/hooks/cloudformation`),
//! where customer stacks' custom resources report in. Internet-facing like the webhook: it links
//! neither KMS, STS nor SES; it registers connections and asks `wiring` to check the role.

use std::sync::Arc;

use aws_types::SdkConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use edge::Problem;
use ingest::Disposition;
use ingest::sns::Envelope;
use onboarding::{CallbackError, CallbackOutcome, StackCallback};
use runtime::{Config, ConfigError};
use serde_json::json;
use store::Store;
use wiring_client::WiringClient;

/// The function, built once per cold start. `lambda` reaches the wiring function (a local
/// runner can stand in for Lambda).
#[derive(Clone)]
pub struct App {
    callback: Arc<StackCallback<Store>>,
}

impl App {
    pub fn from_config(
        config: &Config,
        aws: &SdkConfig,
        lambda: aws_sdk_lambda::Client,
    ) -> Result<App, ConfigError> {
        let wiring = WiringClient::from_config(config, lambda)?;
        let callback = StackCallback::from_config(config, Store::connect(config, aws), wiring)?;
        Ok(App {
            callback: Arc::new(callback),
        })
    }

    /// The routes only; `edge::finish` adds the problem+json fallbacks once, at the edge.
    pub fn routes(&self) -> Router {
        Router::new()
            .route(edge::hooks::CLOUDFORMATION, post(receive))
            .with_state(self.callback.clone())
    }
}

async fn receive(State(callback): State<Arc<StackCallback<Store>>>, body: Bytes) -> Response {
    let result = match Envelope::from_json(&body) {
        Ok(envelope) => callback.handle(&envelope).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(outcome) => {
            let status = match outcome {
                CallbackOutcome::Confirmed => "confirmed",
                CallbackOutcome::Unsubscribed => "unsubscribed",
                CallbackOutcome::Answered { success: true } => "answered-success",
                CallbackOutcome::Answered { success: false } => "answered-failed",
            };
            (StatusCode::OK, Json(json!({"status": status}))).into_response()
        }
        Err(error) => rejection(&error).into_response(),
    }
}

fn rejection(error: &CallbackError) -> Problem {
    match error.disposition() {
        Disposition::Malformed => {
            runtime::metrics::refused(error.reason());
            tracing::warn!(reason = %error, "callback message rejected as malformed");
            Problem::bad_request(error.to_string())
        }
        Disposition::Forbidden => {
            runtime::metrics::refused(error.reason());
            tracing::warn!(reason = %error, "callback message refused");
            Problem::forbidden(error.to_string())
        }
        Disposition::Retry => {
            runtime::metrics::failure(error.reason());
            tracing::error!(error = %error, "callback message failed; SNS delivers it again");
            Problem::unavailable(error)
        }
    }
}
