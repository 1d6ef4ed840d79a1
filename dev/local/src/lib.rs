//! The local stack: the functions' own routers and handlers on one port, an emulated customer
//! account, and SES-shaped traffic. Shared by `make dev` and the integration tests.

pub mod customer;
pub mod demo;
pub mod eventbridge;
pub mod forwarding;
pub mod queue;
pub mod receiver;
pub mod role_stack;
pub mod ses_traffic;
pub mod stream;

use std::sync::Arc;
use std::time::Duration;

use aws_types::SdkConfig;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use edge::Problem;
use ingest::direct::SnsLambdaEvent;
use lambda_runtime::Diagnostic;
use model::wiring::Command;
use runtime::{Config, ConfigError};
use wiring::Wiring;

/// An SDK call's failure in words: the call, and the error with its whole chain of causes.
pub(crate) fn failed<E: std::error::Error + 'static>(call: &str, e: E) -> String {
    format!(
        "{call}: {}",
        aws_sdk_cloudformation::error::DisplayErrorContext(&e)
    )
}

/// What API Gateway and Lambda would route to each function, on one local listener whose base
/// URL is `config.public_url`: the API reaches the wiring function through the Lambda Invoke
/// API at that same address, and so does the wiring function itself. Each function is built by
/// its own library, as its Lambda binary builds it.
pub async fn app(config: &Config, aws: &SdkConfig) -> Result<Router, ConfigError> {
    app_tuned(config, aws, &config.require_public_url()?, |wiring| wiring).await
}

/// `app` on a listener at `listener` (which serves the Lambda Invoke API, and need not be the
/// public URL: a test may play a deployment whose public URL is another's), with the wiring
/// function adjusted by `tune` (tests shorten its teardown budget).
pub async fn app_tuned(
    config: &Config,
    aws: &SdkConfig,
    listener: &url::Url,
    tune: impl FnOnce(Wiring) -> Wiring,
) -> Result<Router, ConfigError> {
    let lambda = local_lambda(aws, listener);
    let api = api::App::from_config(config, aws, lambda.clone()).await?;
    let webhook = webhook::App::from_config(config, aws);
    let ingest_sns = Arc::new(ingest_sns::App::from_config(config, aws));
    let ingest_eventbridge = Arc::new(ingest_eventbridge::App::from_config(config, aws));
    let wiring = match Wiring::from_config(config, aws, lambda.clone()) {
        Ok(wiring) => Some(Arc::new(tune(wiring))),
        Err(e) => {
            tracing::warn!(error = %e, "no wiring function: automatic mode is off");
            None
        }
    };
    let mut routes = api
        .routes()
        .merge(webhook.routes())
        .merge(lambda_invoke_routes(ingest_sns, ingest_eventbridge, wiring));
    match stack_callback::App::from_config(config, aws, lambda) {
        Ok(callback) => routes = routes.merge(callback.routes()),
        Err(e) => {
            tracing::warn!(error = %e, "no stack callback: role-mode stacks cannot report in")
        }
    }
    Ok(edge::finish(routes))
}

/// A Lambda client that reaches the functions `app` serves at `listener`.
pub fn local_lambda(aws: &SdkConfig, listener: &url::Url) -> aws_sdk_lambda::Client {
    let mut lambda = aws_sdk_lambda::config::Builder::from(aws);
    lambda.set_endpoint_url(Some(listener.to_string()));
    aws_sdk_lambda::Client::from_conf(lambda.build())
}

/// The alerts' two schedules (template.yaml's `Sweep` and `Health`), played locally: a sweep
/// every `every`, with the health checks every `health_every`th one. Runs until the process
/// ends.
pub async fn run_sweeps(app: sweep::App, every: Duration, health_every: u32) {
    let mut ticks = tokio::time::interval(every);
    for tick in 0u32.. {
        ticks.tick().await;
        let health = tick % health_every.max(1) == 0;
        if let Err(e) = app.handle(&serde_json::json!({ "health": health })).await {
            tracing::error!(error = %e, "a sweep failed; the next one runs anyway");
        }
    }
}

/// The Lambda Invoke API paths, so a local SNS (or `curl -d @events/ingest-sns/…`) can hand
/// `ingest-sns` the same event Lambda would (and `curl -d @events/ingest-eventbridge/…` an SQS
/// batch to `ingest-eventbridge`), and the API can hand `wiring` its commands.
fn lambda_invoke_routes(
    ingest_sns: Arc<ingest_sns::App>,
    ingest_eventbridge: Arc<ingest_eventbridge::App>,
    wiring: Option<Arc<Wiring>>,
) -> Router {
    let router = Router::new()
        .route(
            "/2015-03-31/functions/ingest-sns/invocations",
            post(invoke_ingest_sns),
        )
        .with_state(ingest_sns)
        .merge(
            Router::new()
                .route(
                    "/2015-03-31/functions/ingest-eventbridge/invocations",
                    post(invoke_ingest_eventbridge),
                )
                .with_state(ingest_eventbridge),
        );
    match wiring {
        Some(wiring) => router.merge(
            Router::new()
                .route(
                    "/2015-03-31/functions/wiring/invocations",
                    post(invoke_wiring),
                )
                .with_state(wiring),
        ),
        None => router,
    }
}

/// Lambda's asynchronous invocation retries a failed run twice (after about 1 and 2 minutes);
/// locally the same, sooner.
const ASYNC_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];

async fn invoke_wiring(
    State(wiring): State<Arc<Wiring>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let command: Command = match serde_json::from_slice(&body) {
        Ok(command) => command,
        Err(e) => {
            return function_error(Diagnostic {
                error_type: "InvalidCommand".into(),
                error_message: e.to_string(),
            });
        }
    };
    let asynchronous = headers
        .get("x-amz-invocation-type")
        .is_some_and(|t| t == "Event");
    if !asynchronous {
        return match wiring.handle(command).await {
            Ok(reply) => (StatusCode::OK, axum::Json(reply)).into_response(),
            Err(e) => function_error(Diagnostic::from(e)),
        };
    }
    tokio::spawn(async move {
        let mut delays = ASYNC_RETRY_DELAYS.iter();
        loop {
            match wiring.handle(command.clone()).await {
                Ok(_) => break,
                Err(e) => match delays.next() {
                    Some(delay) => {
                        tracing::warn!(error = %e, "wiring run failed; Lambda would retry");
                        tokio::time::sleep(*delay).await;
                    }
                    None => {
                        tracing::error!(error = %e, "wiring run failed for good; Lambda would dead-letter it");
                        break;
                    }
                },
            }
        }
    });
    StatusCode::ACCEPTED.into_response()
}

/// Lambda reports a function error with 200 and this header, and the function's diagnostic as
/// the payload; the caller retries.
fn function_error(diagnostic: Diagnostic) -> Response {
    (
        StatusCode::OK,
        [("x-amz-function-error", "Unhandled")],
        axum::Json(serde_json::json!({
            "errorType": diagnostic.error_type,
            "errorMessage": diagnostic.error_message,
        })),
    )
        .into_response()
}

async fn invoke_ingest_sns(State(app): State<Arc<ingest_sns::App>>, body: Bytes) -> Response {
    let event: SnsLambdaEvent = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => return Problem::bad_request(format!("not an SNS event: {e}")).into_response(),
    };
    // The deployed function's own handler and answer.
    match app.handle(&event).await {
        Ok(reports) => (StatusCode::OK, axum::Json(reports)).into_response(),
        Err(diagnostic) => function_error(diagnostic),
    }
}

async fn invoke_ingest_eventbridge(
    State(app): State<Arc<ingest_eventbridge::App>>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice(&body) {
        Ok(event) => (StatusCode::OK, axum::Json(app.handle(&event).await)).into_response(),
        Err(e) => Problem::bad_request(format!("not an SQS event: {e}")).into_response(),
    }
}

/// The benches' local stack: `config` with a fresh admin token, served on a free local port as
/// `make dev` serves it, with the table stream's consumers (counters, and forwarding with its
/// queues and deliverers) beside it, from the stream's end: what the emulator held before is
/// not the bench's. Returns the API, the admin token and the outbound queues.
pub async fn serve_for_bench(
    mut config: Config,
    aws: &SdkConfig,
) -> Result<(demo::ApiClient, String, queue::OutboundQueues), Box<dyn std::error::Error>> {
    let admin_token = model::ids::random_hex(24);
    config.admin_token = Some(admin_token.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    config.public_url = Some(base.parse()?);
    let stack = format!("trackses-bench-{}", model::ids::random_hex(4));
    let start = aws_sdk_dynamodbstreams::types::ShardIteratorType::Latest;
    let queues = forwarding::start_forwarding(&mut config, aws, &stack, start.clone()).await?;
    let app = app(&config, aws).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    let settings = stream::StreamSettings {
        start,
        ..stream::StreamSettings::local()
    };
    let source = stream::StreamSource::connect(aws, &config.table_name, settings).await?;
    let aggregate = Arc::new(aggregate::App::from_config(&config, aws));
    tokio::spawn(async move { source.run(aggregate).await.map_err(|e| e.to_string()) });
    Ok((demo::ApiClient::new(base), admin_token, queues))
}
