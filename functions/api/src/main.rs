//! `api`: the REST API behind API Gateway (HTTP API).

use std::sync::Arc;

use shared::config::{Config, init_tracing};
use shared::http::auth::load_admin_token;
use shared::http::connections::Connector;
use shared::http::{api, finish};
use shared::onboarding::link::RoleLinks;
use shared::store::Store;

// The ingest benchmark measures parse and write 30-40% faster than with glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing();
    let config = Config::from_env()?;
    let aws = Config::aws().await;
    let connector = Connector::from_config(&config, &aws, aws_sdk_lambda::Client::new(&aws));
    let role_links = RoleLinks::from_config(&config);
    let public_url = config.require_public_url()?;
    let state = Arc::new(api::ApiState {
        store: Store::connect(&config).await,
        admin_token: load_admin_token(&config, &aws).await?,
        public_url,
        connector,
        role_links,
    });
    lambda_http::run(finish(api::routes(state))).await
}
