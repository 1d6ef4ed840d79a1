//! The CloudFormation console's quick-create link for the customer template: the console opens
//! the review page with every parameter filled in; the customer ticks the IAM box and creates.

use url::Url;
use url::form_urlencoded;

/// What a deployment needs to hand out links: set by `TRACKSES_ACCOUNT_ID` and
/// `TRACKSES_ROLE_TEMPLATE_URL` (and `TRACKSES_CALLBACK_TOPIC`; `TRACKSES_EVENT_BUS_ARN` for
/// links delivering through EventBridge).
#[derive(Debug, Clone)]
pub struct RoleLinks {
    pub account_id: String,
    pub template_url: Url,
    pub callback_topic: String,
    pub event_bus_arn: Option<String>,
}

impl RoleLinks {
    pub fn from_config(config: &runtime::Config) -> Option<RoleLinks> {
        Some(RoleLinks {
            account_id: config.account_id.clone()?,
            template_url: config.role_template_url.clone()?,
            callback_topic: config.callback_topic.clone(),
            event_bus_arn: config.event_bus_arn.clone(),
        })
    }
}

/// The customer template's parameters, named as in `cloudformation/customer-role.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackParameters<'a> {
    pub trackses_account_id: &'a str,
    pub external_id: &'a str,
    /// `eventbridge` or `sns`.
    pub delivery: &'a str,
    pub event_bus_arn: &'a str,
    pub webhook_url: &'a str,
    pub connection_token: &'a str,
    pub callback_topic_arn: &'a str,
}

/// `https://<region>.console.aws.amazon.com/cloudformation/home?region=<region>#/stacks/create/review?templateURL=…&stackName=…&param_<Name>=…`,
/// every value percent-encoded (the console reads them from the fragment).
pub fn quick_create_url(
    region: &str,
    template_url: &Url,
    stack_name: &str,
    parameters: &StackParameters<'_>,
) -> String {
    let pairs = [
        ("templateURL", template_url.as_str()),
        ("stackName", stack_name),
        ("param_TrackSesAccountId", parameters.trackses_account_id),
        ("param_ExternalId", parameters.external_id),
        ("param_Delivery", parameters.delivery),
        ("param_EventBusArn", parameters.event_bus_arn),
        ("param_WebhookUrl", parameters.webhook_url),
        ("param_ConnectionToken", parameters.connection_token),
        ("param_CallbackTopicArn", parameters.callback_topic_arn),
    ];
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!(
        "https://{region}.console.aws.amazon.com/cloudformation/home?region={region}#/stacks/create/review?{query}"
    )
}

/// Stack names take letters, digits and hyphens, up to 128: `trackses-` and the connection id.
pub fn stack_name(connection_id: &str) -> String {
    format!("trackses-{}", connection_id.replace('_', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quick_create_url_is_exactly_what_the_console_expects() {
        let template: Url =
            "https://trackses-templates.s3.eu-west-1.amazonaws.com/v1/customer-role.yaml"
                .parse()
                .unwrap();
        let url = quick_create_url(
            "eu-west-1",
            &template,
            &stack_name("con_01jd8x2k7vq3m9zt5w4r6y1b0c"),
            &StackParameters {
                trackses_account_id: "123456789012",
                external_id: "trackses-3f9a+b/c=d,e.f@g:h-i_j",
                delivery: "eventbridge",
                event_bus_arn: "arn:aws:events:eu-west-1:123456789012:event-bus/trackses-ses-events",
                webhook_url: "https://api.trackses.example/v1/hooks/sns/con_01jd8x2k7vq3m9zt5w4r6y1b0c",
                connection_token: "ct_0123456789abcdef0123456789abcdef0123456789abcdef",
                callback_topic_arn: "arn:aws:sns:eu-west-1:123456789012:trackses-cfn-callback",
            },
        );
        assert_eq!(
            url,
            "https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1\
             #/stacks/create/review\
             ?templateURL=https%3A%2F%2Ftrackses-templates.s3.eu-west-1.amazonaws.com%2Fv1%2Fcustomer-role.yaml\
             &stackName=trackses-con-01jd8x2k7vq3m9zt5w4r6y1b0c\
             &param_TrackSesAccountId=123456789012\
             &param_ExternalId=trackses-3f9a%2Bb%2Fc%3Dd%2Ce.f%40g%3Ah-i_j\
             &param_Delivery=eventbridge\
             &param_EventBusArn=arn%3Aaws%3Aevents%3Aeu-west-1%3A123456789012%3Aevent-bus%2Ftrackses-ses-events\
             &param_WebhookUrl=https%3A%2F%2Fapi.trackses.example%2Fv1%2Fhooks%2Fsns%2Fcon_01jd8x2k7vq3m9zt5w4r6y1b0c\
             &param_ConnectionToken=ct_0123456789abcdef0123456789abcdef0123456789abcdef\
             &param_CallbackTopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123456789012%3Atrackses-cfn-callback"
        );
    }

    #[test]
    fn stack_names_use_only_what_cloudformation_allows() {
        let name = stack_name("con_01jd8x2k7vq3m9zt5w4r6y1b0c");
        assert!(name.len() <= 128 && name.starts_with(|c: char| c.is_ascii_alphabetic()));
        assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }
}
