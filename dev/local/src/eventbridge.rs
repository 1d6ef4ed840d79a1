//! trackses' EventBridge entry point in the emulator: `cloudformation/eventbridge-ingest.yaml`
//! deployed as template.yaml deploys it, and its queue read as Lambda's SQS event source mapping
//! reads it for `ingest-eventbridge` (batches of up to ten, batch item failures left for the
//! queue to deliver again once their visibility timeout passes, and after five receives to its
//! dead-letter queue).

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
use aws_types::SdkConfig;
use model::{Access, Connection, ConnectionStatus, Delivery, Source, ids};

use crate::failed;
use crate::role_stack::{output, parameter, wait_stack};
use crate::stream::retrying;

const INGEST_TEMPLATE: &str = include_str!("../../../cloudformation/eventbridge-ingest.yaml");

/// The bus customer rules forward to, and the queue its rule fills.
#[derive(Debug, Clone)]
pub struct IngestBus {
    pub bus_arn: String,
    pub queue_url: String,
    pub queue_arn: String,
}

/// The entry point's stack and bus in trackses' account, as `make dev` deploys them.
pub const INGEST_STACK: &str = "trackses-eventbridge-ingest";
pub const INGEST_BUS: &str = "trackses-ses-events";

/// How long a failed batch stays hidden locally before it is delivered again (deployed: six
/// times the function's timeout).
pub const LOCAL_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// Deploys the entry point as stack `stack_name` with bus `bus_name` in trackses' account and
/// region, or reads the one already there.
pub async fn deploy_ingest_bus(
    aws: &SdkConfig,
    stack_name: &str,
    bus_name: &str,
) -> Result<IngestBus, String> {
    let cloudformation = aws_sdk_cloudformation::Client::new(aws);
    let existing = cloudformation
        .describe_stacks()
        .stack_name(stack_name)
        .send()
        .await;
    let stack_id = match existing.ok().and_then(|s| s.stacks().first().cloned()) {
        Some(stack) => stack.stack_id().unwrap_or(stack_name).to_owned(),
        None => {
            let visibility = LOCAL_VISIBILITY_TIMEOUT.as_secs().to_string();
            let created = cloudformation
                .create_stack()
                .stack_name(stack_name)
                .template_body(INGEST_TEMPLATE)
                .parameters(parameter("VisibilityTimeout", &visibility))
                .parameters(parameter("BusName", bus_name))
                .send()
                .await;
            match created {
                Ok(created) => created.stack_id.unwrap_or_else(|| stack_name.to_owned()),
                // Another process created it meanwhile: use theirs.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_already_exists_exception()) =>
                {
                    stack_name.to_owned()
                }
                Err(e) => return Err(failed("CreateStack (EventBridge ingest)", e)),
            }
        }
    };
    let stack = wait_stack(&cloudformation, &stack_id, "CREATE_COMPLETE").await?;
    let queue_arn = output(&stack, "QueueArn")?;
    Ok(IngestBus {
        bus_arn: output(&stack, "BusArn")?,
        queue_url: output(&stack, "QueueUrl")?,
        queue_arn,
    })
}

const COPY_TEMPLATE: &str = include_str!("../templates/copy-events.yaml");

/// Deploys, in trackses' account, a second rule on bus `bus_name` copying `account`'s events to
/// a queue of their own (dev/local/templates/copy-events.yaml); returns the queue's URL. Tests
/// hold exactly what EventBridge delivered this way, to deliver it again.
pub async fn copy_account_events(
    aws: &SdkConfig,
    bus_name: &str,
    account: &str,
) -> Result<String, String> {
    let cloudformation = aws_sdk_cloudformation::Client::new(aws);
    let stack_id = cloudformation
        .create_stack()
        .stack_name(format!("copies-{bus_name}-{account}"))
        .template_body(COPY_TEMPLATE)
        .parameters(parameter("EventBusName", bus_name))
        .parameters(parameter("Account", account))
        .send()
        .await
        .map_err(|e| failed("CreateStack (copies)", e))?
        .stack_id
        .ok_or("CreateStack returned no stack id")?;
    let stack = wait_stack(&cloudformation, &stack_id, "CREATE_COMPLETE").await?;
    output(&stack, "QueueUrl")
}

/// `ingest-eventbridge`'s event source mapping on the queue.
pub struct QueueSource {
    sqs: aws_sdk_sqs::Client,
    queue: IngestBus,
    region: String,
}

/// SQS's batch limit for ReceiveMessage, and the mapping's BatchSize locally.
const BATCH_SIZE: i32 = 10;

impl QueueSource {
    pub fn new(aws: &SdkConfig, queue: IngestBus) -> QueueSource {
        QueueSource {
            sqs: aws_sdk_sqs::Client::new(aws),
            region: aws.region().map(|r| r.to_string()).unwrap_or_default(),
            queue,
        }
    }

    /// Polls until the process ends: each batch handed to the function, what it did not report
    /// failed deleted.
    pub async fn run(self, app: Arc<ingest_eventbridge::App>) {
        loop {
            let received = retrying("receive from the EventBridge queue", || {
                self.sqs
                    .receive_message()
                    .queue_url(&self.queue.queue_url)
                    .max_number_of_messages(BATCH_SIZE)
                    .wait_time_seconds(1)
                    .send()
            })
            .await;
            let messages = received.messages();
            if messages.is_empty() {
                continue;
            }
            let event = self.event(messages);
            let response = app.handle(&event).await;
            let failed: Vec<&str> = response
                .batch_item_failures
                .iter()
                .map(|f| f.item_identifier.as_str())
                .collect();
            let done: Vec<DeleteMessageBatchRequestEntry> = messages
                .iter()
                .filter(|m| !failed.contains(&m.message_id().unwrap_or_default()))
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(m.receipt_handle().unwrap_or_default())
                        .build()
                        .ok()
                })
                .collect();
            if done.is_empty() {
                continue;
            }
            retrying("delete from the EventBridge queue", || {
                self.sqs
                    .delete_message_batch()
                    .queue_url(&self.queue.queue_url)
                    .set_entries(Some(done.clone()))
                    .send()
            })
            .await;
        }
    }

    /// The event Lambda would hand the function for these messages.
    fn event(&self, messages: &[aws_sdk_sqs::types::Message]) -> SqsEvent {
        let mut event = SqsEvent::default();
        event.records = messages
            .iter()
            .map(|m| {
                let mut record = SqsMessage::default();
                record.message_id = m.message_id().map(str::to_owned);
                record.receipt_handle = m.receipt_handle().map(str::to_owned);
                record.body = m.body().map(str::to_owned);
                record.md5_of_body = m.md5_of_body().map(str::to_owned);
                record.event_source = Some("aws:sqs".to_owned());
                record.event_source_arn = Some(self.queue.queue_arn.clone());
                record.aws_region = Some(self.region.clone());
                record
            })
            .collect();
        event
    }
}

/// What a quick-create stack with `Delivery=eventbridge` and the wiring function leave for
/// `account`'s set `set` in `region`: a role connection of project `pid`, active and routed.
/// For the tests and the bench, which play the stack's account themselves. Returns its id.
pub async fn routed_connection(
    store: &store::Store,
    pid: &str,
    account: &str,
    region: &str,
    set: &str,
) -> Result<String, String> {
    let source = Source {
        account_id: account.to_owned(),
        region: region.to_owned(),
        delivery: Delivery::EventBridge,
    };
    let access = Access::Role {
        role_arn: format!("arn:aws:iam::{account}:role/trackses"),
        stack: None,
    };
    let mut connection = Connection::new(
        ids::connection_id(),
        pid.to_owned(),
        access,
        ConnectionStatus::Active,
        source,
    );
    connection.configuration_set = Some(set.to_owned());
    store
        .create_connection(&connection, None, None)
        .await
        .map_err(|e| e.to_string())?;
    match store
        .route_eventbridge(&connection, chrono::Utc::now())
        .await
    {
        Ok(true) => Ok(connection.id),
        Ok(false) => Err(format!("{set} is routed to another connection")),
        Err(e) => Err(e.to_string()),
    }
}
