//! trackses' EventBridge entry point in the emulator: `cloudformation/eventbridge-ingest.yaml`
//! deployed as template.yaml deploys it (its queue is read by `queue::QueueSource`, after five
//! receives a message goes to its dead-letter queue), and what tests and benches need around it.

use aws_types::SdkConfig;
use model::{Access, Connection, ConnectionStatus, Delivery, Source, ids};

use crate::failed;
use crate::queue::{LOCAL_VISIBILITY_TIMEOUT, Queue, deploy_or_reuse};
use crate::role_stack::{output, parameter, wait_stack};

const INGEST_TEMPLATE: &str = include_str!("../../../cloudformation/eventbridge-ingest.yaml");

/// The bus customer rules forward to, and the queue its rule fills.
#[derive(Debug, Clone)]
pub struct IngestBus {
    pub bus_arn: String,
    /// What ingest-eventbridge reads.
    pub queue: Queue,
}

/// The entry point's stack and bus in trackses' account, as `make dev` deploys them.
pub const INGEST_STACK: &str = "trackses-eventbridge-ingest";
pub const INGEST_BUS: &str = "trackses-ses-events";

/// Deploys the entry point as stack `stack_name` with bus `bus_name` in trackses' account and
/// region, or reads the one already there.
pub async fn deploy_ingest_bus(
    aws: &SdkConfig,
    stack_name: &str,
    bus_name: &str,
) -> Result<IngestBus, String> {
    let visibility = LOCAL_VISIBILITY_TIMEOUT.as_secs().to_string();
    let stack = deploy_or_reuse(
        aws,
        stack_name,
        INGEST_TEMPLATE,
        &[("VisibilityTimeout", &visibility), ("BusName", bus_name)],
    )
    .await?;
    Ok(IngestBus {
        bus_arn: output(&stack, "BusArn")?,
        queue: Queue {
            url: output(&stack, "QueueUrl")?,
            arn: output(&stack, "QueueArn")?,
        },
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
