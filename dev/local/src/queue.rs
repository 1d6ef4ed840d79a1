//! trackses' own queues in the emulator: a stack of `cloudformation/` deployed as template.yaml
//! deploys it (or the one already there read), and a queue read as Lambda's SQS event source
//! mapping reads it (batches of up to ten per poller, batch item failures left for the queue to
//! hand out again once their visibility passes, everything else deleted).

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_cloudformation::types::{Parameter, Stack};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use aws_types::SdkConfig;

use crate::failed;
use crate::role_stack::{output, parameter, wait_stack};
use crate::stream::retrying;

/// How long a failed batch stays hidden locally before it is handed out again (deployed:
/// several times the function's timeout).
pub const LOCAL_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// Creates stack `stack_name` from `template` in trackses' account and region, or reads the one
/// already there (another process may have made it meanwhile).
pub async fn deploy_or_reuse(
    aws: &SdkConfig,
    stack_name: &str,
    template: &str,
    parameters: &[(&str, &str)],
) -> Result<Stack, String> {
    let cloudformation = aws_sdk_cloudformation::Client::new(aws);
    let existing = cloudformation
        .describe_stacks()
        .stack_name(stack_name)
        .send()
        .await;
    let stack_id = match existing.ok().and_then(|s| s.stacks().first().cloned()) {
        Some(stack) => stack.stack_id().unwrap_or(stack_name).to_owned(),
        None => {
            let parameters: Vec<Parameter> =
                parameters.iter().map(|(k, v)| parameter(k, v)).collect();
            let created = cloudformation
                .create_stack()
                .stack_name(stack_name)
                .template_body(template)
                .set_parameters(Some(parameters))
                .send()
                .await;
            match created {
                Ok(created) => created.stack_id.unwrap_or_else(|| stack_name.to_owned()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_already_exists_exception()) =>
                {
                    stack_name.to_owned()
                }
                Err(e) => return Err(failed(&format!("CreateStack ({stack_name})"), e)),
            }
        }
    };
    wait_stack(&cloudformation, &stack_id, "CREATE_COMPLETE").await
}

/// A queue a function reads.
#[derive(Debug, Clone)]
pub struct Queue {
    pub url: String,
    pub arn: String,
}

const DELIVERIES_TEMPLATE: &str = include_str!("../../../cloudformation/deliveries-queue.yaml");
/// The forwarding queue's stack in trackses' account, as `make dev` deploys it.
pub const DELIVERIES_STACK: &str = "trackses-deliveries";

/// trackses' outbound queues: forwarding and webhook notifications, and e-mail.
#[derive(Debug, Clone)]
pub struct OutboundQueues {
    pub deliveries: Queue,
    pub mail: Queue,
}

/// The outbound queues (cloudformation/deliveries-queue.yaml) as stack `stack_name`.
pub async fn deploy_outbound_queues(
    aws: &SdkConfig,
    stack_name: &str,
) -> Result<OutboundQueues, String> {
    let visibility = LOCAL_VISIBILITY_TIMEOUT.as_secs().to_string();
    let stack = deploy_or_reuse(
        aws,
        stack_name,
        DELIVERIES_TEMPLATE,
        &[
            ("VisibilityTimeout", &visibility),
            ("MailVisibilityTimeout", &visibility),
        ],
    )
    .await?;
    Ok(OutboundQueues {
        deliveries: Queue {
            url: output(&stack, "QueueUrl")?,
            arn: output(&stack, "QueueArn")?,
        },
        mail: Queue {
            url: output(&stack, "MailQueueUrl")?,
            arn: output(&stack, "MailQueueArn")?,
        },
    })
}

/// A function an SQS mapping feeds.
pub trait QueueConsumer: Send + Sync + 'static {
    fn take(&self, event: &SqsEvent) -> impl std::future::Future<Output = SqsBatchResponse> + Send;
}

impl QueueConsumer for ingest_eventbridge::App {
    async fn take(&self, event: &SqsEvent) -> SqsBatchResponse {
        self.handle(event).await
    }
}

impl QueueConsumer for deliver::App {
    async fn take(&self, event: &SqsEvent) -> SqsBatchResponse {
        self.handle(event).await
    }
}

impl QueueConsumer for mail::App {
    async fn take(&self, event: &SqsEvent) -> SqsBatchResponse {
        self.handle(event).await
    }
}

/// A function's event source mapping on `queue`.
pub struct QueueSource {
    sqs: aws_sdk_sqs::Client,
    queue: Queue,
    region: String,
}

/// Pollers Lambda starts for an SQS mapping.
pub const POLLERS: usize = 5;

/// SQS's batch limit for ReceiveMessage, and the mapping's BatchSize locally.
const BATCH_SIZE: i32 = 10;

impl QueueSource {
    pub fn new(aws: &SdkConfig, queue: Queue) -> QueueSource {
        QueueSource {
            sqs: aws_sdk_sqs::Client::new(aws),
            region: aws.region().map(|r| r.to_string()).unwrap_or_default(),
            queue,
        }
    }

    /// Polls with `pollers` side by side (Lambda starts five per mapping) until the process ends.
    pub async fn run<C: QueueConsumer>(self, app: Arc<C>, pollers: usize) {
        let source = Arc::new(self);
        let polls: Vec<_> = (0..pollers.max(1))
            .map(|_| tokio::spawn(source.clone().poll(app.clone())))
            .collect();
        for poll in polls {
            poll.await.ok();
        }
    }

    /// Each batch handed to the function, what it did not report failed deleted.
    async fn poll<C: QueueConsumer>(self: Arc<Self>, app: Arc<C>) {
        loop {
            let received = retrying("receive from a queue", || {
                self.sqs
                    .receive_message()
                    .queue_url(&self.queue.url)
                    .max_number_of_messages(BATCH_SIZE)
                    .message_system_attribute_names(MessageSystemAttributeName::All)
                    .wait_time_seconds(1)
                    .send()
            })
            .await;
            let messages = received.messages();
            if messages.is_empty() {
                continue;
            }
            let response = app.take(&self.event(messages)).await;
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
            retrying("delete from a queue", || {
                self.sqs
                    .delete_message_batch()
                    .queue_url(&self.queue.url)
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
                record.attributes = m
                    .attributes()
                    .into_iter()
                    .flatten()
                    .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                    .collect();
                record.event_source = Some("aws:sqs".to_owned());
                record.event_source_arn = Some(self.queue.arn.clone());
                record.aws_region = Some(self.region.clone());
                record
            })
            .collect();
        event
    }
}
