//! `mail`'s Lambda binary: the library's `App` on the Lambda runtime, fed by the mail queue's
//! event source mapping (ReportBatchItemFailures).

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, Runtime, service_fn};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let start = runtime::cold_start("mail")?;
    let app = &mail::App::from_config(&start.config, &start.aws)?;
    let handler = move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(app.handle(&event.payload).await)
    };
    runtime::run(Runtime::new(service_fn(handler)), start.metrics).await
}
