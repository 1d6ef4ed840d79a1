//! `api`: the REST API and the dashboard. It seals customer keys (KMS encrypt only) and hands
//! all work in customer accounts to `wiring`; it never decrypts them.

mod admin_token;
mod alerts;
mod connections;
mod dashboard;
mod endpoints;
mod onboarding;
pub mod openapi;
mod projects;
pub mod state;
mod views;

use std::sync::Arc;

use ::onboarding::link::RoleLinks;
use aws_types::SdkConfig;
use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;
use runtime::{Config, ConfigError};
use store::Store;

use connect::Connector;
use state::ApiState;

/// The function, built once per cold start. `lambda` reaches the wiring function (a local
/// runner can stand in for Lambda).
#[derive(Clone)]
pub struct App {
    state: Arc<ApiState>,
}

impl App {
    pub async fn from_config(
        config: &Config,
        aws: &SdkConfig,
        lambda: aws_sdk_lambda::Client,
    ) -> Result<App, ConfigError> {
        Ok(App::new(ApiState {
            store: Store::connect(config, aws),
            admin_token: admin_token::load(config, aws).await?,
            webhook_base: config.webhook_bases()?.current,
            connector: Connector::from_config(config, aws, lambda),
            role_links: RoleLinks::from_config(config),
            jobs: config
                .deliveries_queue_url
                .as_ref()
                .map(|url| forwarding::JobQueue::new(aws_sdk_sqs::Client::new(aws), url)),
            mail: config
                .mail_queue_url
                .as_ref()
                .map(|url| forwarding::JobQueue::new(aws_sdk_sqs::Client::new(aws), url)),
            endpoint_reach: outbound::Reach::with_loopback(config.endpoints_on_loopback),
        }))
    }

    pub fn new(state: ApiState) -> App {
        App {
            state: Arc::new(state),
        }
    }

    /// The routes only; `edge::finish` adds the problem+json fallbacks once, at the edge.
    pub fn routes(&self) -> Router {
        let (routes, document) = documented_routes();
        // Rendered once per cold start: the document is the same for every request.
        let document = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
        let json = [(header::CONTENT_TYPE, "application/json")];
        routes
            .route(
                openapi::PATH,
                get(move || async move { (json, document.clone()) }),
            )
            .with_state(self.state.clone())
    }
}

/// Every route of the API with the OpenAPI document describing them, made together.
fn documented_routes() -> (Router<Arc<ApiState>>, utoipa::openapi::OpenApi) {
    openapi::document(
        projects::routes()
            .merge(connections::routes())
            .merge(onboarding::routes())
            .merge(endpoints::routes())
            .merge(alerts::routes())
            .merge(dashboard::routes()),
    )
}

/// The API's OpenAPI document, as `GET /openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    documented_routes().1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a client generator needs: a 3.1 document whose every operation says how it is
    /// authorised (or that it is public) and how it fails.
    #[test]
    fn every_operation_is_described_with_its_errors() {
        let document = serde_json::to_value(openapi_document()).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().unwrap();
        assert!(paths.len() >= 20, "{}", paths.len());
        for (path, item) in paths {
            for (method, operation) in item.as_object().unwrap() {
                let default = &operation["responses"]["default"]["content"];
                assert!(
                    default["application/problem+json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|r| r.ends_with("/Problem")),
                    "{method} {path}"
                );
                let public = [
                    "/",
                    "/health",
                    "/v1/regions",
                    "/dashboard/{name}",
                    openapi::PATH,
                ]
                .contains(&path.as_str())
                    || path.starts_with("/v1/hooks/");
                assert_eq!(
                    operation.get("security").is_some(),
                    !public,
                    "{method} {path}"
                );
            }
        }
    }
}
