//! The local stack: the functions' own routers and handlers on one port, an emulated customer
//! account, and SES-shaped traffic. Shared by `make dev` and the integration tests.

pub mod customer;
pub mod demo;
pub mod ses_traffic;

use std::sync::Arc;

use aws_lambda_events::sns::SnsEvent;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use shared::config::Config;
use shared::http::{api, finish, problem::Problem, webhook};
use shared::ingest::{Ingestor, direct};
use shared::store::Store;

/// What API Gateway and Lambda would route to each function, on one local listener.
pub fn app(config: &Config, store: Store) -> Router {
    let ingestor = Arc::new(Ingestor::from_config(config, store.clone()));
    let state = Arc::new(api::ApiState {
        store,
        admin_token: config.admin_token.clone(),
        public_url: config.public_url.clone(),
    });
    finish(
        api::routes(state)
            .merge(webhook::routes(ingestor.clone()))
            .merge(lambda_invoke_routes(ingestor)),
    )
}

/// The Lambda Invoke API path, so a local SNS (or `curl -d @events/ingest-sns/…`) can hand
/// `ingest-sns` the same event Lambda would.
fn lambda_invoke_routes(ingestor: Arc<Ingestor>) -> Router {
    Router::new()
        .route(
            "/2015-03-31/functions/ingest-sns/invocations",
            post(invoke_ingest_sns),
        )
        .with_state(ingestor)
}

async fn invoke_ingest_sns(State(ingestor): State<Arc<Ingestor>>, body: Bytes) -> Response {
    let event: SnsEvent = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => return Problem::bad_request(format!("not an SNS event: {e}")).into_response(),
    };
    match direct::handle_records(&ingestor, &event).await {
        Ok(results) => {
            let outcomes: Vec<_> = results
                .iter()
                .map(|r| match r {
                    Ok(outcome) => webhook::outcome_body(*outcome),
                    Err(e) => serde_json::json!({"status": "refused", "reason": e.to_string()}),
                })
                .collect();
            (StatusCode::OK, axum::Json(outcomes)).into_response()
        }
        // Lambda reports a function error with 200 and this header; the caller retries.
        Err(e) => (
            StatusCode::OK,
            [("x-amz-function-error", "Unhandled")],
            axum::Json(
                serde_json::json!({"errorType": "RetryableFailure", "errorMessage": e.to_string()}),
            ),
        )
            .into_response(),
    }
}
