//! `CustomResourceRequest::parse`: never panics, and what it accepts can always be answered.

use proptest::prelude::*;
use serde_json::Value;

use crate::request::CustomResourceRequest;
use ingest::strategies::{any_text, config, fields, json};

const FIELDS: &[&str] = &[
    "RequestType",
    "ServiceToken",
    "ResponseURL",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "PhysicalResourceId",
    "ResourceType",
    "ResourceProperties",
    "OldResourceProperties",
];

fn strings() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        prop::sample::select(vec![
            "Create",
            "Update",
            "Delete",
            "arn:aws:cloudformation:eu-west-1:210987654321:stack/a/b",
            "arn:aws:cloudformation:eu-west-1:2109876543210:stack/a/b/c",
            "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x",
        ])
        .prop_map(str::to_owned),
        any_text(),
    ]
}

const PROPERTIES: &[&str] = &[
    "ServiceToken",
    "ConnectionToken",
    "RoleArn",
    "TopicArn",
    "ConfigurationSetName",
    "ExternalId",
];

/// Mostly strings, as in a real request; sometimes any JSON, or (for the properties) an object.
fn field_value() -> impl Strategy<Value = Value> + Clone {
    prop_oneof![
        6 => strings().prop_map(Value::String),
        3 => fields(PROPERTIES, strings().prop_map(Value::String)),
        1 => json(FIELDS, strings()),
    ]
}

fn check(message: &str, reason: &str) -> Result<(), TestCaseError> {
    let Ok(request) = CustomResourceRequest::parse(message) else {
        return Ok(());
    };
    let _ = request.properties();
    if let Some(stack) = request.stack() {
        prop_assert!(request.stack_id.contains(stack.region));
        prop_assert_eq!(stack.account_id.len(), 12);
        prop_assert!(stack.account_id.bytes().all(|b| b.is_ascii_digit()));
    }
    let failure = request.failure(reason);
    prop_assert!(
        failure
            .reason
            .as_ref()
            .is_some_and(|r| r.chars().count() <= 1000)
    );
    prop_assert!(serde_json::to_string(&failure).is_ok());
    prop_assert!(serde_json::to_string(&request.success(reason)).is_ok());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_string(message in any::<String>(), reason in any::<String>()) {
        check(&message, &reason)?;
    }

    #[test]
    fn request_shaped_json(
        value in fields(FIELDS, field_value()),
        reason in (0usize..1200, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
    ) {
        check(&value.to_string(), &reason)?;
    }
}
