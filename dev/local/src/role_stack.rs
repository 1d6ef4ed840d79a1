//! Role mode the way a deployment and a customer meet it in the emulator: trackses' callback
//! topic (cloudformation/callback-topic.yaml, as template.yaml deploys it), and the customer's
//! stack created from nothing but a quick-create link: its templateURL, name and parameters.

use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, Parameter, Stack};
use aws_types::SdkConfig;

use crate::customer::CustomerAccount;
use crate::failed;

const CALLBACK_TOPIC_TEMPLATE: &str = include_str!("../../../cloudformation/callback-topic.yaml");

pub fn parameter(key: &str, value: &str) -> Parameter {
    Parameter::builder()
        .parameter_key(key)
        .parameter_value(value)
        .build()
}

/// Deploys trackses' callback topic `topic_name` in `region` of trackses' own account, delivering
/// to `callback_url`; returns the topic ARN.
pub async fn deploy_callback_topic(
    aws: &SdkConfig,
    region: &str,
    topic_name: &str,
    callback_url: &str,
) -> Result<String, String> {
    let config = aws
        .to_builder()
        .region(aws_sdk_cloudformation::config::Region::new(
            region.to_owned(),
        ))
        .build();
    let cloudformation = aws_sdk_cloudformation::Client::new(&config);
    let stack_id = cloudformation
        .create_stack()
        .stack_name(topic_name)
        .template_body(CALLBACK_TOPIC_TEMPLATE)
        .parameters(parameter("CallbackUrl", callback_url))
        .parameters(parameter("TopicName", topic_name))
        .send()
        .await
        .map_err(|e| failed("CreateStack (callback topic)", e))?
        .stack_id
        .ok_or("CreateStack returned no stack id")?;
    let stack = wait_stack(&cloudformation, &stack_id, "CREATE_COMPLETE").await?;
    output(&stack, "TopicArn")
}

pub fn output(stack: &Stack, key: &str) -> Result<String, String> {
    stack
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(key))
        .and_then(|o| o.output_value())
        .map(str::to_owned)
        .ok_or_else(|| format!("the stack has no output {key}"))
}

/// What the console's review page shows for a quick-create link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickCreate {
    pub region: String,
    pub template_url: String,
    pub stack_name: String,
    /// `param_<Name>` values, by name.
    pub parameters: Vec<(String, String)>,
}

impl QuickCreate {
    pub fn parse(link: &str) -> Result<QuickCreate, String> {
        let url = url::Url::parse(link).map_err(|e| e.to_string())?;
        let region = url
            .query_pairs()
            .find(|(k, _)| k == "region")
            .map(|(_, v)| v.into_owned())
            .ok_or("no region in the link")?;
        let fragment = url.fragment().ok_or("no fragment in the link")?;
        let query = fragment
            .strip_prefix("/stacks/create/review?")
            .ok_or("the link does not open the create-stack review page")?;
        let mut link = QuickCreate {
            region,
            template_url: String::new(),
            stack_name: String::new(),
            parameters: Vec::new(),
        };
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match (key.as_ref(), key.strip_prefix("param_")) {
                ("templateURL", _) => link.template_url = value.into_owned(),
                ("stackName", _) => link.stack_name = value.into_owned(),
                (_, Some(name)) => link.parameters.push((name.to_owned(), value.into_owned())),
                (other, None) => return Err(format!("unexpected link field {other}")),
            }
        }
        Ok(link)
    }

    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// "Create stack" on the review page, with the IAM box ticked; returns the stack id.
pub async fn create_stack_from_link(
    customer: &CustomerAccount,
    link: &QuickCreate,
) -> Result<String, String> {
    let mut create = customer
        .cloudformation
        .create_stack()
        .stack_name(&link.stack_name)
        .template_url(&link.template_url)
        .capabilities(Capability::CapabilityIam);
    for (name, value) in &link.parameters {
        create = create.parameters(parameter(name, value));
    }
    create
        .send()
        .await
        .map_err(|e| failed("CreateStack (customer role)", e))?
        .stack_id
        .ok_or_else(|| "CreateStack returned no stack id".to_owned())
}

/// Polls until the stack reaches `wanted`; a failed state ends the wait with its reason.
pub async fn wait_stack(
    cloudformation: &aws_sdk_cloudformation::Client,
    stack_id: &str,
    wanted: &str,
) -> Result<Stack, String> {
    let mut last = String::new();
    for _ in 0..100 {
        let stacks = cloudformation
            .describe_stacks()
            .stack_name(stack_id)
            .send()
            .await
            .map_err(|e| failed("DescribeStacks", e))?;
        if let Some(stack) = stacks.stacks().first() {
            let status = stack.stack_status().map(|s| s.as_str()).unwrap_or_default();
            if status == wanted {
                return Ok(stack.clone());
            }
            if status.ends_with("_FAILED") {
                return Err(format!(
                    "{stack_id} is {status}: {}",
                    failure_reason(cloudformation, stack_id).await
                ));
            }
            last = status.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{stack_id} stayed {last}, not {wanted}"))
}

/// The newest stack event's reason: what the console shows the customer.
pub async fn failure_reason(
    cloudformation: &aws_sdk_cloudformation::Client,
    stack_id: &str,
) -> String {
    match cloudformation
        .describe_stack_events()
        .stack_name(stack_id)
        .send()
        .await
    {
        Ok(events) => events
            .stack_events()
            .iter()
            .find_map(|e| e.resource_status_reason())
            .unwrap_or_default()
            .to_owned(),
        Err(e) => failed("DescribeStackEvents", e),
    }
}
