//! `ingest-sns`'s Lambda binary: the library's `App` on the Lambda runtime.
// The ingest pipeline's future, generic over its store, nests deeper than the default 128
// layout queries.
#![recursion_limit = "256"]

use ingest::direct::SnsLambdaEvent;
use ingest_sns::App;
use lambda_runtime::{LambdaEvent, service_fn};
use runtime::{Config, init_tracing, sdk_config};

// The ingest benchmark measures parse and write 30-40% faster than with glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = Config::from_env()?;
    let app = &App::from_config(&config, &sdk_config());
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<SnsLambdaEvent>| async move { app.handle(&event.payload).await },
    ))
    .await
}
