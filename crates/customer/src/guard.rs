//! The one gate every call into a customer's account passes: an SDK interceptor installed on
//! every customer client, so no code path can reach the customer without it. It allows a fixed
//! list of operations and refuses the rest — above all any `Send*`, and any change to a resource
//! whose name lacks `trackses-`.

use aws_sdk_sesv2::operation as ses;
use aws_sdk_sns::operation as sns;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, Input,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use model::naming::is_ours;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trackses refuses {service}:{operation} in a customer account: {reason}")]
pub struct Refusal {
    pub service: String,
    pub operation: String,
    pub reason: &'static str,
}

/// The resource name of a topic ARN (`arn:aws:sns:region:account:name`).
fn topic_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or_default()
}

fn ours(name: Option<&str>) -> Result<(), &'static str> {
    match name {
        Some(name) if is_ours(name) => Ok(()),
        _ => Err("the resource is not named trackses-*"),
    }
}

fn topic(arn: Option<&str>) -> Result<(), &'static str> {
    ours(arn.map(topic_name))
}

/// Subscribe may reach only this deployment's webhook, one connection's URL at a time.
fn our_webhook(
    prefix: Option<&str>,
    protocol: Option<&str>,
    endpoint: Option<&str>,
) -> Result<(), &'static str> {
    let (Some(prefix), Some(endpoint)) = (prefix, endpoint) else {
        return Err("the endpoint is not one of this deployment's webhook URLs");
    };
    let connection = endpoint
        .strip_prefix(prefix)
        .filter(|cid| model::ids::is_key_safe(cid));
    let scheme = endpoint.split_once("://").map(|(scheme, _)| scheme);
    if connection.is_some() && scheme == protocol {
        Ok(())
    } else {
        Err("the endpoint is not one of this deployment's webhook URLs")
    }
}

/// Every operation trackses may call in a customer account, as the SDK names it, with the IAM
/// action it needs (`None`: none). The one allow-list: an operation missing here is refused
/// whatever the rules below say, and a test holds it equal to `docs/customer-iam-policy.json`.
pub const OPERATIONS: [(&str, &str, Option<&str>); 16] = [
    ("STS", "GetCallerIdentity", None),
    ("SNS", "CreateTopic", Some("sns:CreateTopic")),
    ("SNS", "SetTopicAttributes", Some("sns:SetTopicAttributes")),
    ("SNS", "GetTopicAttributes", Some("sns:GetTopicAttributes")),
    ("SNS", "Subscribe", Some("sns:Subscribe")),
    (
        "SNS",
        "ListSubscriptionsByTopic",
        Some("sns:ListSubscriptionsByTopic"),
    ),
    ("SNS", "DeleteTopic", Some("sns:DeleteTopic")),
    (
        "SESv2",
        "ListEmailIdentities",
        Some("ses:ListEmailIdentities"),
    ),
    ("SESv2", "GetEmailIdentity", Some("ses:GetEmailIdentity")),
    ("SESv2", "GetAccount", Some("ses:GetAccount")),
    (
        "SESv2",
        "GetConfigurationSet",
        Some("ses:GetConfigurationSet"),
    ),
    (
        "SESv2",
        "GetConfigurationSetEventDestinations",
        Some("ses:GetConfigurationSetEventDestinations"),
    ),
    (
        "SESv2",
        "CreateConfigurationSet",
        Some("ses:CreateConfigurationSet"),
    ),
    (
        "SESv2",
        "CreateConfigurationSetEventDestination",
        Some("ses:CreateConfigurationSetEventDestination"),
    ),
    (
        "SESv2",
        "DeleteConfigurationSet",
        Some("ses:DeleteConfigurationSet"),
    ),
    (
        "SESv2",
        "PutEmailIdentityConfigurationSetAttributes",
        Some("ses:PutEmailIdentityConfigurationSetAttributes"),
    ),
];

/// The decision, on the operation as the SDK names it and its typed input. `webhook_prefix` is
/// what every webhook URL of the deployment starts with (`None`: nothing may be subscribed).
pub fn check(
    service: &str,
    operation: &str,
    input: &Input,
    webhook_prefix: Option<&str>,
) -> Result<(), Refusal> {
    let listed = OPERATIONS
        .iter()
        .any(|(s, o, _)| *s == service && *o == operation);
    let decision = match (service, operation) {
        (_, op) if op.starts_with("Send") => Err("trackses never sends mail"),
        _ if !listed => Err("the operation is not on trackses' list"),
        ("SNS", "CreateTopic") => ours(
            input
                .downcast_ref::<sns::create_topic::CreateTopicInput>()
                .and_then(|i| i.name()),
        ),
        ("SNS", "SetTopicAttributes") => topic(
            input
                .downcast_ref::<sns::set_topic_attributes::SetTopicAttributesInput>()
                .and_then(|i| i.topic_arn()),
        ),
        ("SNS", "GetTopicAttributes") => topic(
            input
                .downcast_ref::<sns::get_topic_attributes::GetTopicAttributesInput>()
                .and_then(|i| i.topic_arn()),
        ),
        ("SNS", "Subscribe") => match input.downcast_ref::<sns::subscribe::SubscribeInput>() {
            Some(i) => topic(i.topic_arn())
                .and_then(|()| our_webhook(webhook_prefix, i.protocol(), i.endpoint())),
            None => Err("unexpected input"),
        },
        ("SNS", "ListSubscriptionsByTopic") => topic(
            input
                .downcast_ref::<sns::list_subscriptions_by_topic::ListSubscriptionsByTopicInput>()
                .and_then(|i| i.topic_arn()),
        ),
        ("SNS", "DeleteTopic") => topic(
            input
                .downcast_ref::<sns::delete_topic::DeleteTopicInput>()
                .and_then(|i| i.topic_arn()),
        ),
        ("SESv2", "CreateConfigurationSet") => ours(
            input
                .downcast_ref::<ses::create_configuration_set::CreateConfigurationSetInput>()
                .and_then(|i| i.configuration_set_name()),
        ),
        ("SESv2", "GetConfigurationSetEventDestinations") => ours(
            input
                .downcast_ref::<ses::get_configuration_set_event_destinations::GetConfigurationSetEventDestinationsInput>()
                .and_then(|i| i.configuration_set_name()),
        ),
        ("SESv2", "CreateConfigurationSetEventDestination") => ours(
            input
                .downcast_ref::<ses::create_configuration_set_event_destination::CreateConfigurationSetEventDestinationInput>()
                .and_then(|i| i.configuration_set_name()),
        ),
        ("SESv2", "DeleteConfigurationSet") => ours(
            input
                .downcast_ref::<ses::delete_configuration_set::DeleteConfigurationSetInput>()
                .and_then(|i| i.configuration_set_name()),
        ),
        // An identity is the customer's; trackses may only point it at a trackses set or at none.
        // Whether the set it replaces may be replaced is decided above this gate, with the
        // identity's current state in hand.
        ("SESv2", "PutEmailIdentityConfigurationSetAttributes") => {
            match input.downcast_ref::<ses::put_email_identity_configuration_set_attributes::PutEmailIdentityConfigurationSetAttributesInput>() {
                Some(i) => match i.configuration_set_name() {
                    None => Ok(()),
                    name => ours(name),
                },
                None => Err("unexpected input"),
            }
        }
        // Listed, and naming no resource it could misuse (reads, and STS's own identity).
        _ => Ok(()),
    };
    decision.map_err(|reason| Refusal {
        service: service.to_owned(),
        operation: operation.to_owned(),
        reason,
    })
}

/// Installed on every customer-account client; nothing else builds those clients.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    webhook_prefix: Option<std::sync::Arc<str>>,
}

impl Guard {
    /// A guard that lets `Subscribe` reach only URLs under `webhook_prefix` (this deployment's
    /// webhook); `Guard::default()` lets nothing be subscribed.
    pub fn subscribing_under(webhook_prefix: &str) -> Guard {
        Guard {
            webhook_prefix: Some(webhook_prefix.into()),
        }
    }
}

impl Intercept for Guard {
    fn name(&self) -> &'static str {
        "trackses-customer-guard"
    }

    // Runs after the operation's configuration is applied (so its `Metadata` is known) and
    // before anything is serialised or sent.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Err(Box::new(Refusal {
                service: "unknown".into(),
                operation: "unknown".into(),
                reason: "the operation could not be identified",
            }));
        };
        check(
            metadata.service(),
            metadata.name(),
            context.input(),
            self.webhook_prefix.as_deref(),
        )?;
        Ok(())
    }
}

/// The refusal inside an SDK error, if the guard stopped the call.
pub fn refusal<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refusal> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(refusal) = e.downcast_ref::<Refusal>() {
            return Some(refusal);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
