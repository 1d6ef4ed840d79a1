//! `wiring`'s Lambda binary: the only function that opens customer credentials (KMS Decrypt,
//! conditioned on their encryption context) and acts in customer accounts. Invoked by the API
//! and the stack callback only.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use model::wiring::Command;
use runtime::{Config, init_tracing, sdk_config};
use wiring::Wiring;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = Config::from_env()?;
    let aws = sdk_config();
    // Lambda itself: a long teardown hands its remaining pages to a fresh invocation.
    let wiring = &Wiring::from_config(&config, &aws, aws_sdk_lambda::Client::new(&aws))?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Command>| async move {
        // An error fails the invocation: Lambda retries it, then dead-letters it.
        wiring.handle(event.payload).await.map_err(Diagnostic::from)
    }))
    .await
}
