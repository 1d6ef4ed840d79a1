//! `forward`'s Lambda binary: the library's `App` on the Lambda runtime, fed by the table
//! stream's event source mapping (ReportBatchItemFailures: a batch resumes from its first
//! record that could not be enqueued).

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{LambdaEvent, Runtime, service_fn};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let start = runtime::cold_start("forward")?;
    let app = &forward::App::from_config(&start.config, &start.aws)?;
    let handler = move |event: LambdaEvent<Event>| async move {
        Ok::<_, lambda_runtime::Error>(app.handle(event.payload).await)
    };
    runtime::run(Runtime::new(service_fn(handler)), start.metrics).await
}
