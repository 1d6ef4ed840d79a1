use super::*;

fn sample(name: &str) -> CustomResourceRequest {
    let path = format!(
        "{}/../../events/cloudformation/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    CustomResourceRequest::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn check(request: &CustomResourceRequest) -> Result<(), String> {
    checked(request, &request.properties().unwrap())
        .map(|_| ())
        .map_err(|refusal| refusal.to_string())
}

#[test]
fn one_account_one_region_and_trackses_names_only() {
    let create = sample("create");
    assert_eq!(check(&create), Ok(()));
    let foreign = check(&sample("foreign-role")).unwrap_err();
    assert!(
        foreign.contains("not in the stack's account 210987654321"),
        "{foreign}"
    );

    let mut request = create.clone();
    request.service_token = request.service_token.replace("eu-west-1", "us-east-1");
    assert!(check(&request).unwrap_err().contains("another region"));

    let set = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut request = create.clone();
        f(&mut request.resource_properties);
        check(&request)
    };
    let topic = "arn:aws:sns:eu-west-1:210987654321:trackses-5d3c8f40-fa1e-11ef-9b7e-0a6f3c2d1e4b";
    for (field, value, says) in [
        (
            "TopicArn",
            topic.replace("eu-west-1", "eu-west-2"),
            "not in the stack's account and region",
        ),
        (
            "TopicArn",
            topic.replace("210987654321", "333333333333"),
            "not in the stack's account and region",
        ),
        (
            "TopicArn",
            topic.replace(":trackses-", ":orders-"),
            "must be named trackses-*",
        ),
        (
            "ConfigurationSetName",
            "production".to_owned(),
            "must be named trackses-*",
        ),
        (
            "ConfigurationSetName",
            format!("trackses-{}", "x".repeat(60)),
            "must be named trackses-*",
        ),
        (
            "RoleArn",
            "arn:aws:iam::210987654321:user/x".to_owned(),
            "not an IAM role ARN",
        ),
    ] {
        let reason = set(&|p| p[field] = serde_json::json!(value)).unwrap_err();
        assert!(reason.contains(says), "{field}={value}: {reason}");
    }
    let mut request = create.clone();
    request.stack_id = "arn:aws:cloudformation:eu-west-1:210987654321:stackset/x".into();
    assert!(
        check(&request)
            .unwrap_err()
            .contains("not a CloudFormation stack ARN")
    );
}

/// EventBridge delivery names no topic, SNS delivery names its own; a stack saying one and
/// carrying the other's property is refused before anything is registered.
#[test]
fn a_stack_delivers_one_way_with_what_that_way_needs() {
    let create = sample("create");
    let delivered = |delivery: &str, keep_topic: bool| {
        let mut request = create.clone();
        let properties = request.resource_properties.as_object_mut().unwrap();
        properties.insert("Delivery".into(), serde_json::json!(delivery));
        if !keep_topic {
            properties.remove("TopicArn");
        }
        checked(&request, &request.properties().unwrap())
            .map(|c| c.delivery)
            .map_err(|refusal| refusal.to_string())
    };
    assert_eq!(delivered("eventbridge", false), Ok(Delivery::EventBridge));
    assert!(matches!(delivered("sns", true), Ok(Delivery::Sns { .. })));
    for (delivery, keep_topic) in [("eventbridge", true), ("sns", false)] {
        let refused = delivered(delivery, keep_topic).unwrap_err();
        assert!(
            refused.contains("Delivery=eventbridge names no TopicArn"),
            "{refused}"
        );
    }
    let mut unknown = create.clone();
    unknown.resource_properties["Delivery"] = serde_json::json!("carrier-pigeon");
    assert!(
        unknown
            .properties()
            .is_err_and(|e| e.contains("not trackses'"))
    );
}

#[test]
fn delete_of_a_resource_never_created_still_gets_an_id() {
    let mut request = sample("delete");
    request.physical_resource_id = None;
    let answer = answer(&request, &Ok(String::new()));
    assert_eq!(answer.status, "SUCCESS");
    assert!(!answer.physical_resource_id.is_empty());
}
