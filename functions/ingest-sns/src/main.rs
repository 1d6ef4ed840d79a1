//! `ingest-sns`'s Lambda binary: the library's `App` on the Lambda runtime.
// The ingest pipeline's future, generic over its store, nests deeper than the default 128
// layout queries.
#![recursion_limit = "256"]

use ingest::direct::SnsLambdaEvent;
use lambda_runtime::{LambdaEvent, Runtime, service_fn};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let start = runtime::cold_start("ingest-sns")?;
    let app = &ingest_sns::App::from_config(&start.config, &start.aws);
    let handler = move |event: LambdaEvent<SnsLambdaEvent>| async move {
        // A record accepted but not stored fails the invocation: Lambda retries the event.
        app.handle(&event.payload).await
    };
    runtime::run(Runtime::new(service_fn(handler)), start.metrics).await
}
