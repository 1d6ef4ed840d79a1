//! `webhook`'s Lambda binary: the library's `App` behind API Gateway.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (config, aws) = runtime::cold_start()?;
    let routes = webhook::App::from_config(&config, &aws).routes();
    lambda_http::run(edge::finish(routes)).await
}
