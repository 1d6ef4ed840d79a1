//! `stack-callback`'s Lambda binary: the library's `App` behind API Gateway.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let (config, aws) = runtime::cold_start()?;
    let wiring = aws_sdk_lambda::Client::new(&aws);
    let routes = stack_callback::App::from_config(&config, &aws, wiring)?.routes();
    lambda_http::run(edge::finish(routes)).await
}
