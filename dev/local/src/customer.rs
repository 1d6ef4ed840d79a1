//! An emulated customer AWS account, reached the way trackses' users are: by assuming a role.

use ::customer::account::sns_event_destination;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sns::types::MessageAttributeValue;
use aws_types::SdkConfig;

use crate::failed;
use crate::role_stack::parameter;

const FORWARD_TEMPLATE: &str = include_str!("../templates/forward-ses-events.yaml");

pub const SES_SUBJECT: &str = "Amazon SES Email Event Notification";

/// The policy trackses asks its users to grant (docs/customer-iam-policy.json), to the letter.
pub const TRACKSES_POLICY: &str = include_str!("../../../docs/customer-iam-policy.json");

#[derive(Clone)]
pub struct CustomerAccount {
    pub account_id: String,
    pub region: String,
    pub sns: aws_sdk_sns::Client,
    pub ses: aws_sdk_sesv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
}

impl CustomerAccount {
    /// Assumes the role AWS Organizations creates in member accounts, as the emulator keeps one in
    /// every account for the default credentials (the emulator creates accounts on first use).
    pub async fn assume(
        base: &SdkConfig,
        account_id: &str,
        region: &str,
    ) -> Result<CustomerAccount, String> {
        let sts = aws_sdk_sts::Client::new(base);
        let role = format!("arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole");
        let creds = sts
            .assume_role()
            .role_arn(role)
            .role_session_name("trackses-local")
            .send()
            .await
            .map_err(|e| {
                format!(
                    "AssumeRole into {account_id}: {}",
                    aws_sdk_sts::error::DisplayErrorContext(&e)
                )
            })?
            .credentials
            .ok_or("AssumeRole returned no credentials")?;
        let provider = aws_sdk_sns::config::Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
            None,
            "assumed-customer-role",
        );
        let config = base
            .to_builder()
            .credentials_provider(aws_sdk_sns::config::SharedCredentialsProvider::new(
                provider,
            ))
            .region(aws_sdk_sns::config::Region::new(region.to_owned()))
            .build();
        Ok(CustomerAccount {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            sns: aws_sdk_sns::Client::new(&config),
            ses: aws_sdk_sesv2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
        })
    }

    pub async fn create_topic(
        &self,
        name: &str,
        signature_version: &str,
    ) -> Result<String, String> {
        self.sns
            .create_topic()
            .name(name)
            .attributes("SignatureVersion", signature_version)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "CreateTopic: {}",
                    aws_sdk_sns::error::DisplayErrorContext(&e)
                )
            })?
            .topic_arn
            .ok_or_else(|| "CreateTopic returned no ARN".to_owned())
    }

    pub async fn subscribe_https(&self, topic_arn: &str, endpoint: &str) -> Result<(), String> {
        let protocol = if endpoint.starts_with("https:") {
            "https"
        } else {
            "http"
        };
        self.sns
            .subscribe()
            .topic_arn(topic_arn)
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
            .await
            .map_err(|e| format!("Subscribe: {}", aws_sdk_sns::error::DisplayErrorContext(&e)))?;
        Ok(())
    }

    /// Publishes the way SES event publishing does: the event JSON, with SES's subject.
    pub async fn publish_ses_event(
        &self,
        topic_arn: &str,
        event_json: &str,
    ) -> Result<String, String> {
        self.sns
            .publish()
            .topic_arn(topic_arn)
            .subject(SES_SUBJECT)
            .message(event_json)
            .message_attributes(
                "trackses-origin",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("local")
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await
            .map_err(|e| format!("Publish: {}", aws_sdk_sns::error::DisplayErrorContext(&e)))?
            .message_id
            .ok_or_else(|| "Publish returned no MessageId".to_owned())
    }
}

impl CustomerAccount {
    /// What a customer does for automatic mode: an IAM user holding exactly `policy`, and its
    /// access key. Returns (access key id, secret access key).
    pub async fn scoped_access_key(
        &self,
        user: &str,
        policy: &str,
    ) -> Result<(String, String), String> {
        self.iam
            .create_user()
            .user_name(user)
            .send()
            .await
            .map_err(|e| failed("CreateUser", e))?;
        self.iam
            .put_user_policy()
            .user_name(user)
            .policy_name("trackses")
            .policy_document(policy)
            .send()
            .await
            .map_err(|e| failed("PutUserPolicy", e))?;
        let key = self
            .iam
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(|e| failed("CreateAccessKey", e))?
            .access_key
            .ok_or("CreateAccessKey returned no key")?;
        Ok((
            key.access_key_id().to_owned(),
            key.secret_access_key().to_owned(),
        ))
    }

    /// A sending identity (the emulator verifies it at once).
    pub async fn create_identity(&self, identity: &str) -> Result<(), String> {
        self.ses
            .create_email_identity()
            .email_identity(identity)
            .send()
            .await
            .map_err(|e| failed("CreateEmailIdentity", e))?;
        Ok(())
    }

    /// What a customer does for a share-nothing connection: a sending identity, and a
    /// configuration set (its default) whose event destination is `topic_arn`, for every type.
    pub async fn publish_ses_events_to(
        &self,
        identity: &str,
        set: &str,
        topic_arn: &str,
    ) -> Result<(), String> {
        self.create_identity(identity).await?;
        self.ses
            .create_configuration_set()
            .configuration_set_name(set)
            .send()
            .await
            .map_err(|e| failed("CreateConfigurationSet", e))?;
        let destination = sns_event_destination(topic_arn).map_err(|e| e.to_string())?;
        self.ses
            .create_configuration_set_event_destination()
            .configuration_set_name(set)
            .event_destination_name("trackses")
            .event_destination(destination)
            .send()
            .await
            .map_err(|e| failed("CreateConfigurationSetEventDestination", e))?;
        self.use_set(identity, set).await
    }

    /// What anyone can deploy in their own account (dev/local/templates/forward-ses-events.yaml):
    /// configuration set `set` (the identity's default from now on) publishing every type to the
    /// account's default bus, and a rule there forwarding the set's events to `bus_arn` through
    /// a role EventBridge assumes; no trackses connection involved.
    pub async fn forward_ses_events(
        &self,
        set: &str,
        identity: &str,
        bus_arn: &str,
    ) -> Result<(), String> {
        let stack_id = self
            .cloudformation
            .create_stack()
            .stack_name(format!("forward-{set}"))
            .template_body(FORWARD_TEMPLATE)
            .parameters(parameter("ConfigurationSetName", set))
            .parameters(parameter("EventBusArn", bus_arn))
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam)
            .send()
            .await
            .map_err(|e| failed("CreateStack (forward SES events)", e))?
            .stack_id
            .ok_or("CreateStack returned no stack id")?;
        crate::role_stack::wait_stack(&self.cloudformation, &stack_id, "CREATE_COMPLETE").await?;
        self.use_set(identity, set).await
    }

    /// Makes `set` the identity's default configuration set.
    async fn use_set(&self, identity: &str, set: &str) -> Result<(), String> {
        self.ses
            .put_email_identity_configuration_set_attributes()
            .email_identity(identity)
            .configuration_set_name(set)
            .send()
            .await
            .map_err(|e| failed("PutEmailIdentityConfigurationSetAttributes", e))?;
        Ok(())
    }

    /// Sends through SES v2; the identity's default configuration set publishes the events.
    pub async fn send_email(
        &self,
        from: &str,
        to: &[&str],
        subject: &str,
    ) -> Result<String, String> {
        let text = |s: &str| {
            Content::builder()
                .data(s)
                .build()
                .map_err(|e| e.to_string())
        };
        let message = Message::builder()
            .subject(text(subject)?)
            .body(
                Body::builder()
                    .text(text("Hello from the trackses demo.")?)
                    .build(),
            )
            .build();
        self.ses
            .send_email()
            .from_email_address(from)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(to.iter().map(|a| a.to_string()).collect()))
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| failed("SendEmail", e))?
            .message_id
            .ok_or_else(|| "SendEmail returned no MessageId".to_owned())
    }
}
