//! CloudFormation's custom-resource request (the SNS `Message` a customer stack publishes to
//! trackses' callback topic) and the answer it waits for at `ResponseURL`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

/// What the customer template's `Connection` resource passes; every value is a string.
/// Not Debug: the token and the external id must never reach a log line (`redacted` may).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionProperties {
    pub service_token: String,
    pub connection_token: String,
    pub role_arn: String,
    /// Absent from stacks made before EventBridge delivery, which all deliver through SNS.
    #[serde(default)]
    pub delivery: DeliveryProperty,
    /// The stack's topic, with SNS delivery only.
    #[serde(default)]
    pub topic_arn: Option<String>,
    pub configuration_set_name: String,
    pub external_id: String,
}

/// The template's `Delivery` parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryProperty {
    #[default]
    Sns,
    EventBridge,
}

impl ConnectionProperties {
    pub fn redacted(&self) -> String {
        format!(
            "role {} topic {} set {}",
            self.role_arn,
            self.topic_arn.as_deref().unwrap_or("(none: EventBridge)"),
            self.configuration_set_name
        )
    }
}

/// The envelope fields every request carries. Properties are parsed separately so that a
/// request with unusable properties can still be answered `FAILED`. Not Debug, like them.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceRequest {
    pub request_type: RequestType,
    pub service_token: String,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    #[serde(default)]
    pub resource_properties: serde_json::Value,
    // OldResourceProperties is not read: what the previous template said is not evidence of
    // anything; the stored token hash is.
}

#[derive(Debug, thiserror::Error)]
#[error("not a CloudFormation custom resource request: {0}")]
pub struct NotARequest(String);

impl CustomResourceRequest {
    pub fn parse(message: &str) -> Result<CustomResourceRequest, NotARequest> {
        serde_json::from_str(message).map_err(|e| NotARequest(e.to_string()))
    }

    pub fn properties(&self) -> Result<ConnectionProperties, String> {
        serde_json::from_value(self.resource_properties.clone())
            .map_err(|e| format!("the Connection resource's properties are not trackses': {e}"))
    }

    pub fn stack(&self) -> Option<StackArn<'_>> {
        StackArn::parse(&self.stack_id)
    }

    pub fn success(&self, physical_resource_id: &str) -> Answer {
        self.answer("SUCCESS", None, physical_resource_id)
    }

    /// `reason` is shown to the customer in the console's events.
    pub fn failure(&self, reason: &str) -> Answer {
        // Before Create succeeds there is no resource of ours; CloudFormation still needs an id.
        let physical = self
            .physical_resource_id
            .clone()
            .unwrap_or_else(|| "trackses-connection-not-created".to_owned());
        self.answer("FAILED", Some(reason), &physical)
    }

    fn answer(&self, status: &'static str, reason: Option<&str>, physical: &str) -> Answer {
        Answer {
            status,
            // The whole answer must stay under 4 KB.
            reason: reason.map(|r| r.chars().take(1000).collect()),
            physical_resource_id: physical.to_owned(),
            stack_id: self.stack_id.clone(),
            request_id: self.request_id.clone(),
            logical_resource_id: self.logical_resource_id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Answer {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
}

/// `arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackArn<'a> {
    pub region: &'a str,
    pub account_id: &'a str,
}

impl<'a> StackArn<'a> {
    pub fn parse(arn: &'a str) -> Option<StackArn<'a>> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [
            "arn",
            partition,
            "cloudformation",
            region,
            account_id,
            resource,
        ] = parts[..]
        else {
            return None;
        };
        let ok = partition.starts_with("aws")
            && model::ids::is_account_id(account_id)
            && resource.starts_with("stack/")
            && resource.split('/').count() == 3;
        ok.then_some(StackArn { region, account_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let path = format!(
            "{}/../../events/cloudformation/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn every_sample_parses_with_its_properties() {
        for name in ["create", "update", "delete", "wrong-token", "foreign-role"] {
            let request = CustomResourceRequest::parse(&sample(name)).unwrap();
            let properties = request.properties().unwrap();
            assert!(
                properties.topic_arn.unwrap().contains(":trackses-"),
                "{name}"
            );
            let stack = request.stack().unwrap();
            assert_eq!(
                (stack.region, stack.account_id),
                ("eu-west-1", "210987654321")
            );
        }
        let update = CustomResourceRequest::parse(&sample("update")).unwrap();
        assert_eq!(update.request_type, RequestType::Update);
    }

    #[test]
    fn answers_copy_the_request_and_never_the_token() {
        let request = CustomResourceRequest::parse(&sample("create")).unwrap();
        let answer = serde_json::to_value(request.failure("no such link")).unwrap();
        assert_eq!(answer["Status"], "FAILED");
        assert_eq!(answer["Reason"], "no such link");
        assert_eq!(answer["RequestId"], request.request_id.as_str());
        assert_eq!(answer["StackId"], request.stack_id.as_str());
        assert_eq!(answer["LogicalResourceId"], "Connection");
        assert!(!answer.to_string().contains("ct_9QmZ"));
        let properties = request.properties().unwrap();
        assert!(!properties.redacted().contains("ct_9QmZ"));
        assert!(!properties.redacted().contains(&properties.external_id));
    }

    #[test]
    fn stack_arns() {
        assert!(
            StackArn::parse("arn:aws:cloudformation:eu-west-1:210987654321:stack/a/b").is_some()
        );
        for bad in [
            "arn:aws:cloudformation:eu-west-1:21098765432:stack/a/b",
            "arn:aws:sns:eu-west-1:210987654321:stack/a/b",
            "arn:aws:cloudformation:eu-west-1:210987654321:stackset/a/b",
            "stack/a/b",
        ] {
            assert!(StackArn::parse(bad).is_none(), "{bad}");
        }
    }
}
