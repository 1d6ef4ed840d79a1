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
