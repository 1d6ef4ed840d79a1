//! `wiring`: the only function that opens customer credentials (KMS Decrypt, conditioned on
//! their encryption context) and acts in customer accounts. Invoked by the API only.

use lambda_runtime::{LambdaEvent, service_fn};
use shared::config::{Config, init_tracing};
use shared::wiring::{Command, Wiring};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = Config::from_env()?;
    let aws = Config::aws().await;
    // Lambda itself: a long teardown hands its remaining pages to a fresh invocation.
    let wiring = &Wiring::from_config(&config, &aws, aws_sdk_lambda::Client::new(&aws))?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Command>| async move {
        // An error fails the invocation: Lambda retries it, then dead-letters it.
        wiring
            .handle(event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
