//! `wiring`'s Lambda binary: the only function that opens customer credentials (KMS Decrypt,
//! conditioned on their encryption context) and acts in customer accounts. Invoked by the API
//! and the stack callback only.

use lambda_runtime::{Diagnostic, LambdaEvent, Runtime, service_fn};
use model::wiring::Command;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let start = runtime::cold_start("wiring")?;
    // Lambda itself: a long teardown hands its remaining pages to a fresh invocation.
    let itself = aws_sdk_lambda::Client::new(&start.aws);
    let wiring = &wiring::Wiring::from_config(&start.config, &start.aws, itself)?;
    // An error fails the invocation: Lambda retries it, then dead-letters it.
    let handler = move |event: LambdaEvent<Command>| async move {
        wiring.handle(event.payload).await.map_err(|error| {
            let diagnostic = Diagnostic::from(error);
            runtime::metrics::failure(diagnostic.error_type.clone());
            diagnostic
        })
    };
    runtime::run(Runtime::new(service_fn(handler)), start.metrics).await
}
