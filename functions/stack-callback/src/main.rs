//! `stack-callback`'s Lambda binary: the library's `App` behind API Gateway.

use runtime::{Config, init_tracing, sdk_config};
use stack_callback::App;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing();
    let config = Config::from_env()?;
    let aws = sdk_config();
    let app = App::from_config(&config, &aws, aws_sdk_lambda::Client::new(&aws))?;
    lambda_http::run(edge::finish(app.routes())).await
}
