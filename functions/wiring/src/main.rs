//! `wiring`'s Lambda binary: the only function that opens customer credentials (KMS Decrypt,
//! conditioned on their encryption context) and acts in customer accounts. Invoked by the API
//! and the stack callback only.

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use model::wiring::Command;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let (config, aws) = runtime::cold_start()?;
    // Lambda itself: a long teardown hands its remaining pages to a fresh invocation.
    let itself = aws_sdk_lambda::Client::new(&aws);
    let wiring = &wiring::Wiring::from_config(&config, &aws, itself)?;
    // An error fails the invocation: Lambda retries it, then dead-letters it.
    let handler = move |event: LambdaEvent<Command>| async move {
        wiring.handle(event.payload).await.map_err(Diagnostic::from)
    };
    lambda_runtime::run(service_fn(handler)).await
}
