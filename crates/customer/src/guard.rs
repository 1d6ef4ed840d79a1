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
pub const OPERATIONS: [(&str, &str, Option<&str>); 15] = [
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
mod tests {
    use super::*;
    use aws_sdk_sesv2::operation::put_email_identity_configuration_set_attributes::PutEmailIdentityConfigurationSetAttributesInput as PutIdentity;

    fn input<T: std::fmt::Debug + Send + Sync + 'static>(value: T) -> Input {
        Input::erase(value)
    }

    const HOOKS: &str = "https://trackses.example/v1/hooks/sns/";

    fn decide(service: &str, operation: &str, input: &Input) -> Result<(), Refusal> {
        check(service, operation, input, Some(HOOKS))
    }

    #[test]
    fn subscriptions_reach_only_this_deployments_webhook() {
        let subscribe = |protocol: &str, endpoint: &str| {
            input(
                sns::subscribe::SubscribeInput::builder()
                    .topic_arn("arn:aws:sns:eu-west-1:1:trackses-x")
                    .protocol(protocol)
                    .endpoint(endpoint)
                    .build()
                    .unwrap(),
            )
        };
        let ours = format!("{HOOKS}con_01jd8x2k7vq3m9zt5w4r6y1b0c");
        assert!(decide("SNS", "Subscribe", &subscribe("https", &ours)).is_ok());
        for (protocol, endpoint) in [
            (
                "https",
                "https://attacker.example/v1/hooks/sns/con_1".to_owned(),
            ),
            ("https", HOOKS.to_owned()),
            ("https", format!("{HOOKS}con_1/../../admin")),
            ("https", "https://trackses.example/v1/hooks/sns".to_owned()),
            ("http", ours.replace("https", "http")),
            ("email", "victim@example.com".to_owned()),
            ("lambda", "arn:aws:lambda:eu-west-1:1:function:f".to_owned()),
            ("sqs", "arn:aws:sqs:eu-west-1:1:q".to_owned()),
        ] {
            assert!(
                decide("SNS", "Subscribe", &subscribe(protocol, &endpoint)).is_err(),
                "{protocol} {endpoint}"
            );
        }
        // Without a webhook (the STS-only client of the API), nothing may be subscribed.
        assert!(check("SNS", "Subscribe", &subscribe("https", &ours), None).is_err());
    }

    #[test]
    fn every_send_is_refused() {
        for (service, op) in [
            ("SESv2", "SendEmail"),
            ("SESv2", "SendBulkEmail"),
            ("SESv2", "SendCustomVerificationEmail"),
            ("SES", "SendRawEmail"),
            ("SES", "SendTemplatedEmail"),
        ] {
            let refusal = decide(service, op, &input(())).unwrap_err();
            assert_eq!(refusal.reason, "trackses never sends mail");
        }
    }

    #[test]
    fn topics_must_be_ours() {
        let create = |name: &str| {
            input(
                sns::create_topic::CreateTopicInput::builder()
                    .name(name)
                    .build()
                    .unwrap(),
            )
        };
        assert!(decide("SNS", "CreateTopic", &create("trackses-abc")).is_ok());
        for name in ["orders", "trackses-", "my-trackses-abc", "Trackses-abc"] {
            assert!(
                decide("SNS", "CreateTopic", &create(name)).is_err(),
                "{name}"
            );
        }
        let delete = |arn: &str| {
            input(
                sns::delete_topic::DeleteTopicInput::builder()
                    .topic_arn(arn)
                    .build()
                    .unwrap(),
            )
        };
        assert!(
            decide(
                "SNS",
                "DeleteTopic",
                &delete("arn:aws:sns:eu-west-1:1:trackses-x")
            )
            .is_ok()
        );
        assert!(
            decide(
                "SNS",
                "DeleteTopic",
                &delete("arn:aws:sns:eu-west-1:1:orders")
            )
            .is_err()
        );
        // An ARN whose account part merely contains the prefix is not ours.
        assert!(
            decide(
                "SNS",
                "DeleteTopic",
                &delete("arn:aws:sns:trackses-x:1:orders")
            )
            .is_err()
        );
    }

    #[test]
    fn configuration_sets_must_be_ours() {
        let delete = |name: &str| {
            input(
                ses::delete_configuration_set::DeleteConfigurationSetInput::builder()
                    .configuration_set_name(name)
                    .build()
                    .unwrap(),
            )
        };
        assert!(decide("SESv2", "DeleteConfigurationSet", &delete("trackses-1")).is_ok());
        assert!(decide("SESv2", "DeleteConfigurationSet", &delete("production")).is_err());
    }

    #[test]
    fn identities_may_point_only_at_our_set_or_none() {
        let put = |set: Option<&str>| {
            input(
                PutIdentity::builder()
                    .email_identity("example.com")
                    .set_configuration_set_name(set.map(str::to_owned))
                    .build()
                    .unwrap(),
            )
        };
        let op = "PutEmailIdentityConfigurationSetAttributes";
        assert!(decide("SESv2", op, &put(Some("trackses-1"))).is_ok());
        assert!(decide("SESv2", op, &put(None)).is_ok());
        assert!(decide("SESv2", op, &put(Some("marketing"))).is_err());
    }

    /// The allow-list and the published policy say the same: every listed operation's action
    /// is granted, and the policy grants nothing trackses never calls.
    #[test]
    fn the_allow_list_is_the_published_policy() {
        let policy: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/customer-iam-policy.json")).unwrap();
        let mut granted: Vec<&str> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap())
            .map(|a| a.as_str().unwrap())
            .collect();
        granted.sort_unstable();
        granted.dedup();
        let mut needed: Vec<&str> = OPERATIONS.iter().filter_map(|(_, _, a)| *a).collect();
        needed.sort_unstable();
        assert_eq!(needed, granted);
    }

    #[test]
    fn anything_unlisted_is_refused() {
        for (service, op) in [
            ("SNS", "Publish"),
            ("SNS", "Unsubscribe"),
            ("SESv2", "DeleteEmailIdentity"),
            ("SESv2", "PutAccountDetails"),
            ("IAM", "CreateUser"),
        ] {
            assert!(decide(service, op, &input(())).is_err(), "{op}");
        }
        // A listed name with an input of the wrong type is not waved through.
        assert!(decide("SNS", "CreateTopic", &input(())).is_err());
    }
}
