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

/// Every name trackses gives a customer resource starts with this.
pub const PREFIX: &str = "trackses-";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trackses refuses {service}:{operation} in a customer account: {reason}")]
pub struct Refusal {
    pub service: String,
    pub operation: String,
    pub reason: &'static str,
}

fn is_ours(name: &str) -> bool {
    name.starts_with(PREFIX) && name.len() > PREFIX.len()
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

/// The decision, on the operation as the SDK names it and its typed input.
pub fn check(service: &str, operation: &str, input: &Input) -> Result<(), Refusal> {
    let decision = match (service, operation) {
        (_, op) if op.starts_with("Send") => Err("trackses never sends mail"),
        ("STS", "GetCallerIdentity") => Ok(()),
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
        ("SNS", "Subscribe") => topic(
            input
                .downcast_ref::<sns::subscribe::SubscribeInput>()
                .and_then(|i| i.topic_arn()),
        ),
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
        ("SESv2", "ListEmailIdentities" | "GetEmailIdentity" | "GetAccount" | "GetConfigurationSet") => {
            Ok(())
        }
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
        _ => Err("the operation is not on trackses' list"),
    };
    decision.map_err(|reason| Refusal {
        service: service.to_owned(),
        operation: operation.to_owned(),
        reason,
    })
}

/// Installed on every customer-account client by `customer::clients`.
#[derive(Debug)]
pub struct Guard;

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
        check(metadata.service(), metadata.name(), context.input())?;
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

    #[test]
    fn every_send_is_refused() {
        for (service, op) in [
            ("SESv2", "SendEmail"),
            ("SESv2", "SendBulkEmail"),
            ("SESv2", "SendCustomVerificationEmail"),
            ("SES", "SendRawEmail"),
            ("SES", "SendTemplatedEmail"),
        ] {
            let refusal = check(service, op, &input(())).unwrap_err();
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
        assert!(check("SNS", "CreateTopic", &create("trackses-abc")).is_ok());
        for name in ["orders", "trackses-", "my-trackses-abc", "Trackses-abc"] {
            assert!(
                check("SNS", "CreateTopic", &create(name)).is_err(),
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
            check(
                "SNS",
                "DeleteTopic",
                &delete("arn:aws:sns:eu-west-1:1:trackses-x")
            )
            .is_ok()
        );
        assert!(
            check(
                "SNS",
                "DeleteTopic",
                &delete("arn:aws:sns:eu-west-1:1:orders")
            )
            .is_err()
        );
        // An ARN whose account part merely contains the prefix is not ours.
        assert!(
            check(
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
        assert!(check("SESv2", "DeleteConfigurationSet", &delete("trackses-1")).is_ok());
        assert!(check("SESv2", "DeleteConfigurationSet", &delete("production")).is_err());
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
        assert!(check("SESv2", op, &put(Some("trackses-1"))).is_ok());
        assert!(check("SESv2", op, &put(None)).is_ok());
        assert!(check("SESv2", op, &put(Some("marketing"))).is_err());
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
            assert!(check(service, op, &input(())).is_err(), "{op}");
        }
        // A listed name with an input of the wrong type is not waved through.
        assert!(check("SNS", "CreateTopic", &input(())).is_err());
    }
}
