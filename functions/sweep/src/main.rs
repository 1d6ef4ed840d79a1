//! `sweep`'s Lambda binary: the library's `App` on the Lambda runtime, invoked by its two
//! schedules, whose input says whether to run the health checks (`{"health": true}`).

use lambda_runtime::{Diagnostic, LambdaEvent, Runtime, service_fn};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let start = runtime::cold_start("sweep")?;
    let lambda = aws_sdk_lambda::Client::new(&start.aws);
    let app = &sweep::App::from_config(&start.config, &start.aws, lambda)?;
    let handler = move |event: LambdaEvent<serde_json::Value>| async move {
        app.handle(&event.payload)
            .await
            .map(|_| ())
            .map_err(|e| Diagnostic {
                error_type: "SweepFailed".into(),
                error_message: e.to_string(),
            })
    };
    runtime::run(Runtime::new(service_fn(handler)), start.metrics).await
}
