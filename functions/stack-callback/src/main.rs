//! `stack-callback`: deliveries of trackses' callback topics (`POST /v1/hooks/cloudformation`),
//! where customer stacks' custom resources report in. Internet-facing like the webhook: no KMS,
//! no customer credentials; it registers connections and asks `wiring` to check the role.

use shared::config::{Config, init_tracing};
use shared::http::{finish, onboarding};
use shared::onboarding::StackCallback;
use shared::store::Store;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing();
    let config = Config::from_env()?;
    let aws = Config::aws().await;
    let store = Store::connect(&config).await;
    let callback = StackCallback::from_config(&config, store, aws_sdk_lambda::Client::new(&aws))?;
    lambda_http::run(finish(onboarding::callback_routes(callback))).await
}
