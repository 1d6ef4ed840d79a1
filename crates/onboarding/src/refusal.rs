//! Why a stack's request is answered FAILED, and the checks every Create or Update must pass
//! whoever sent it. Each text is what the customer reads in the CloudFormation console: what to
//! do about it, and never a secret.

use model::naming::PREFIX;
use model::role_arn::{InvalidRoleArn, RoleArn};
use model::topic_arn::{InvalidTopicArn, TopicArn};

use crate::request::{ConnectionProperties, CustomResourceRequest, DeliveryProperty, StackArn};
use model::Delivery;

#[derive(Debug, thiserror::Error)]
pub enum StackRefusal {
    #[error("the request's ServiceToken is not the topic it was published to")]
    ForeignServiceToken,
    #[error("{0}")]
    Properties(String),
    #[error("the request's StackId is not a CloudFormation stack ARN")]
    NotAStack,
    #[error("the stack is in {0} but reported to a topic of another region")]
    OtherRegionsTopic(String),
    #[error(transparent)]
    InvalidRole(#[from] InvalidRoleArn),
    #[error(
        "the role {role_arn} is not in the stack's account {account_id}: trackses only assumes a role of the account it connects"
    )]
    RoleOfAnotherAccount {
        role_arn: String,
        account_id: String,
    },
    #[error(transparent)]
    InvalidTopic(#[from] InvalidTopicArn),
    #[error("the topic {0} is not in the stack's account and region")]
    TopicElsewhere(String),
    #[error("the topic and configuration set must be named {PREFIX}*, as the template names them")]
    NotOurNames,
    #[error(
        "the ConnectionToken is not one trackses issued, or its link expired: open a new quick-create link in trackses"
    )]
    UnknownToken,
    #[error("the link was made for {link}: create the stack there, or get a link for {stack}")]
    LinkOfAnotherRegion { link: String, stack: String },
    #[error("the trackses project of this link no longer exists")]
    ProjectGone,
    #[error(
        "ExternalId is not this trackses project's external id: keep the value the link filled in"
    )]
    ForeignExternalId,
    #[error(
        "this link was already used by another stack: open a new quick-create link in trackses"
    )]
    LinkUsed,
    #[error(
        "account {account_id} in {region} is already connected to this project: delete that connection in trackses first"
    )]
    AlreadyConnected { account_id: String, region: String },
    #[error(
        "trackses has no connection for this stack any more (it was deleted in trackses): delete the stack and create a new one from a fresh link"
    )]
    ConnectionGone,
    #[error(
        "the ConnectionToken cannot change: create a new stack from a fresh link to connect another way"
    )]
    TokenChanged,
    #[error(
        "how events are delivered cannot change (trackses receives them {0}): create a new stack instead"
    )]
    DeliveryChanged(String),
    #[error(
        "Delivery=eventbridge names no TopicArn, and Delivery=sns needs one: keep the template's Connection resource as it is"
    )]
    DeliveryWithoutItsTopic,
    #[error(
        "trackses is removing this connection: delete the stack and create a new one from a fresh link"
    )]
    BeingRemoved,
    #[error("the ConnectionToken is not the one this connection was created with")]
    NotTheOwner,
}

/// What a Create or Update may register: the stack's account and region, and how its events
/// arrive.
pub struct Checked<'a> {
    pub stack: StackArn<'a>,
    pub delivery: Delivery,
}

/// What must hold of a Create or Update whoever sent it: one account and region throughout, and
/// only trackses-* resources.
pub fn checked<'a>(
    request: &'a CustomResourceRequest,
    properties: &ConnectionProperties,
) -> Result<Checked<'a>, StackRefusal> {
    let stack = request.stack().ok_or(StackRefusal::NotAStack)?;
    // CloudFormation only uses a custom resource topic of the stack's own region.
    let callback_region = request.service_token.split(':').nth(3);
    if callback_region != Some(stack.region) {
        return Err(StackRefusal::OtherRegionsTopic(stack.region.to_owned()));
    }
    let role: RoleArn = properties.role_arn.parse()?;
    if role.account_id() != stack.account_id {
        return Err(StackRefusal::RoleOfAnotherAccount {
            role_arn: properties.role_arn.clone(),
            account_id: stack.account_id.to_owned(),
        });
    }
    let set = &properties.configuration_set_name;
    if !set.starts_with(PREFIX) || set.len() > 64 {
        return Err(StackRefusal::NotOurNames);
    }
    let delivery = match (properties.delivery, &properties.topic_arn) {
        (DeliveryProperty::EventBridge, None) => Delivery::EventBridge,
        (DeliveryProperty::Sns, Some(topic_arn)) => {
            let topic: TopicArn = topic_arn.parse()?;
            if topic.account_id() != stack.account_id || topic.region() != stack.region {
                return Err(StackRefusal::TopicElsewhere(topic_arn.clone()));
            }
            if !topic.name().starts_with(PREFIX) {
                return Err(StackRefusal::NotOurNames);
            }
            Delivery::Sns {
                topic_arn: topic_arn.clone(),
            }
        }
        _ => return Err(StackRefusal::DeliveryWithoutItsTopic),
    };
    Ok(Checked { stack, delivery })
}
