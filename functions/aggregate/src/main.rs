//! `aggregate`'s Lambda binary: the library's `App` on the Lambda runtime, fed by the table
//! stream's event source mapping in tumbling windows.

use aws_lambda_events::event::dynamodb::TimeWindowEvent;
use lambda_runtime::{Diagnostic, LambdaEvent, Runtime, service_fn};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let start = runtime::cold_start("aggregate")?;
    let app = &aggregate::App::from_config(&start.config, &start.aws);
    let handler = move |event: LambdaEvent<TimeWindowEvent>| async move {
        app.handle(event.payload).await.map_err(Diagnostic::from)
    };
    runtime::run(Runtime::new(service_fn(handler)), start.metrics).await
}
