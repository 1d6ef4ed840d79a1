//! Stack requests trackses refuses, changing nothing: stacks that do not match their link (token,
//! expiry, external id, a role of another account), and a request naming a role that does not
//! demand the project's external id.

mod common;

use chrono::{Duration, Utc};
use common::onboarding::{connections, harness, link, send_request};
use common::*;
use local::role_stack::{QuickCreate, create_stack_from_link, wait_stack};
use model::{Onboarding, ids};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn stacks_that_do_not_match_the_link_are_refused_and_change_nothing() {
    let (h, callback_arn) = harness().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(&fresh_account("6000")).await;
    let create = |link: QuickCreate| {
        let customer = customer.clone();
        async move {
            let stack_id = create_stack_from_link(&customer, &link).await.unwrap();
            wait_stack(&customer.cloudformation, &stack_id, "CREATE_COMPLETE")
                .await
                .unwrap_err()
        }
    };
    let (_, genuine) = link(&h, &pid, &key).await;
    let with = |name: &str, value: &str| {
        let mut link = genuine.clone();
        link.stack_name = unique("trackses-refused");
        for (n, v) in &mut link.parameters {
            if n == name {
                *v = value.to_owned();
            }
        }
        link
    };

    let refused = create(with(
        "ConnectionToken",
        &format!("ct_{}", ids::random_hex(20)),
    ))
    .await;
    assert!(refused.contains("not one trackses issued"), "{refused}");
    // A link past its seven days (DynamoDB's TTL may not have removed it yet).
    let (expired, record) = Onboarding::mint(&pid, REGION, Utc::now() - Duration::days(8));
    h.store.put_onboarding(&record).await.unwrap();
    let refused = create(with("ConnectionToken", &expired)).await;
    assert!(refused.contains("or its link expired"), "{refused}");
    let refused = create(with("ExternalId", "trackses-someone-elses-external-id")).await;
    assert!(
        refused.contains("ExternalId is not this trackses project's"),
        "{refused}"
    );
    assert!(
        !refused.contains("someone-elses"),
        "the reason echoes no id: {refused}"
    );

    // A role in another account than the stack's, which no real stack of this template sends:
    // the sample request, as CloudFormation would publish it, with a token trackses did issue.
    let (_, fresh) = link(&h, &pid, &key).await;
    let answer = send_request("foreign-role", &callback_arn, |request| {
        let properties = &mut request["ResourceProperties"];
        properties["ConnectionToken"] = json!(fresh.parameter("ConnectionToken").unwrap());
        properties["ExternalId"] = json!(fresh.parameter("ExternalId").unwrap());
    })
    .await;
    assert_eq!(answer["Status"], "FAILED");
    let reason = answer["Reason"].as_str().unwrap();
    assert!(reason.contains("is not in the stack's account"), "{reason}");
    // The sample's own token was never issued; a Delete of nothing known still succeeds.
    let answer = send_request("wrong-token", &callback_arn, |_| {}).await;
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("not one trackses issued"),
        "{answer}"
    );
    let answer = send_request("delete", &callback_arn, |_| {}).await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");

    assert_eq!(
        connections(&h, &pid, &key).await,
        json!([]),
        "refusals register nothing"
    );
}

/// GIVEN an attacker holding a genuine link of its own project and a victim account whose
/// OrganizationAccountAccessRole trusts trackses' account with no external id, WHEN the attacker
/// publishes a hand-made Create naming the victim's role and a trackses-* topic there, THEN trackses
/// never acts through the role: the connection ends in `error` naming the missing condition, its
/// identities cannot be listed, and the victim's account is unchanged.
#[tokio::test]
async fn a_stack_request_naming_a_role_without_the_external_id_never_acts() {
    let (h, callback_arn) = harness().await;
    let (pid, key) = h.project().await;
    let victim = h.customer(&fresh_account("6001")).await;
    victim
        .create_identity(&format!("ceo@{}.example", unique("victim")))
        .await
        .unwrap();
    let before = snapshot(&victim).await;
    let (_, genuine) = link(&h, &pid, &key).await;
    let account = victim.account_id.clone();
    let answer = send_request("create", &callback_arn, |request| {
        let stack = format!("arn:aws:cloudformation:{REGION}:{account}:stack/innocent/1");
        request["StackId"] = json!(stack);
        let properties = &mut request["ResourceProperties"];
        properties["ConnectionToken"] = json!(genuine.parameter("ConnectionToken").unwrap());
        properties["ExternalId"] = json!(genuine.parameter("ExternalId").unwrap());
        properties["RoleArn"] = json!(format!(
            "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        ));
        properties["TopicArn"] = json!(format!("arn:aws:sns:{REGION}:{account}:trackses-victim"));
        properties["ConfigurationSetName"] = json!("trackses-victim");
    })
    .await;
    let cid = answer["PhysicalResourceId"].as_str().unwrap().to_owned();
    h.wait_status(&pid, &key, &cid, "error").await;
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    assert!(
        connection["last_error"]
            .as_str()
            .unwrap()
            .contains("trust policy must require sts:ExternalId"),
        "{connection}"
    );
    let (status, refused) = h
        .call(Method::GET, &format!("{path}/identities"), &key, None)
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(
        snapshot(&victim).await,
        before,
        "the victim's account is unchanged"
    );
}
