//! `webhook`'s Lambda binary: the library's `App` behind API Gateway.

use lambda_http::lambda_runtime::Runtime;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let start = runtime::cold_start("webhook")?;
    let routes = webhook::App::from_config(&start.config, &start.aws).routes();
    let service = lambda_http::Adapter::from(edge::finish(routes));
    runtime::run(Runtime::new(service), start.metrics).await
}
