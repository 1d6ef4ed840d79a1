//! `api`'s Lambda binary: the library's `App` behind API Gateway (HTTP API).

// mimalloc: the ingest benchmark measures parse and write 30-40% faster than with glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (config, aws) = runtime::cold_start()?;
    let lambda = aws_sdk_lambda::Client::new(&aws);
    let app = api::App::from_config(&config, &aws, lambda).await?;
    lambda_http::run(edge::finish(app.routes())).await
}
