//! `api`: the REST API and the dashboard. It seals customer keys (KMS encrypt only) and hands
//! all work in customer accounts to `wiring`; it never decrypts them.

mod admin_token;
mod connections;
mod dashboard;
mod onboarding;
mod projects;
pub mod state;

use std::sync::Arc;

use ::onboarding::link::RoleLinks;
use aws_types::SdkConfig;
use axum::Router;
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
            public_url: config.require_public_url()?,
            connector: Connector::from_config(config, aws, lambda),
            role_links: RoleLinks::from_config(config),
        }))
    }

    pub fn new(state: ApiState) -> App {
        App {
            state: Arc::new(state),
        }
    }

    /// The routes only; `edge::finish` adds the problem+json fallbacks once, at the edge.
    pub fn routes(&self) -> Router {
        projects::routes()
            .merge(connections::routes())
            .merge(onboarding::routes())
            .with_state(self.state.clone())
            .merge(dashboard::routes())
    }
}
