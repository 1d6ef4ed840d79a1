//! Role mode through the quick-create link, against the emulated AWS: the link, the customer's
//! stack created from it (templateURL and parameters as the console passes them), the stack's
//! custom resource reporting to trackses' callback topic, and the connection turning active with
//! no other call; then the stack's updates (forged ones refused) and its deletion. The emulator's
//! STS enforces the role's trust policy.

mod common;

use common::onboarding::{answers, connections, emulator, harness, link, send_request};
use common::*;
use local::role_stack::{create_stack_from_link, output, wait_stack};
use model::ids;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn a_stack_from_the_link_connects_itself_verifies_and_goes_with_the_stack() {
    let logs = LogCapture::global();
    let (h, callback_arn) = harness().await;
    let (pid, key) = h.project().await;
    let (_, project) = h
        .call(Method::GET, &format!("/v1/projects/{pid}"), &key, None)
        .await;
    let external_id = project["external_id"].as_str().unwrap().to_owned();

    let (onboarding, link) = link(&h, &pid, &key).await;
    let cid = onboarding["connection_id"].as_str().unwrap();
    assert_eq!(onboarding["external_id"], external_id.as_str());
    assert_eq!(onboarding["trackses_account_id"], TRACKSES_ACCOUNT);
    assert_eq!(onboarding["region"], REGION);
    let template_url = h.config.role_template_url.as_ref().unwrap().as_str();
    assert_eq!(onboarding["template_url"], template_url);
    assert_eq!(link.region, REGION);
    assert_eq!(link.template_url, template_url);
    assert_eq!(link.stack_name, onboarding["stack_name"].as_str().unwrap());
    assert_eq!(link.parameter("TrackSesAccountId"), Some(TRACKSES_ACCOUNT));
    assert_eq!(link.parameter("ExternalId"), Some(external_id.as_str()));
    assert_eq!(
        link.parameter("CallbackTopicArn"),
        Some(callback_arn.as_str())
    );
    let webhook_url = format!("{}/v1/hooks/sns/{cid}", h.api.base);
    assert_eq!(link.parameter("WebhookUrl"), Some(webhook_url.as_str()));
    let token = link.parameter("ConnectionToken").unwrap().to_owned();
    assert!(token.starts_with("ct_") && token.len() >= 40, "{token}");
    // Nothing is a connection before a stack reports in.
    assert_eq!(connections(&h, &pid, &key).await, json!([]));

    // The customer clicks the link and "Create stack"; nothing else.
    let customer = h.customer(&fresh_account("6000")).await;
    let sender = format!("hello@{}.example", unique("stack"));
    customer.create_identity(&sender).await.unwrap();
    let clicked = std::time::Instant::now();
    let stack_id = create_stack_from_link(&customer, &link).await.unwrap();
    let stack = wait_stack(&customer.cloudformation, &stack_id, "CREATE_COMPLETE")
        .await
        .unwrap();
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    h.wait_status(&pid, &key, cid, "active").await;
    eprintln!(
        "onboarding: \"Create stack\" to an active connection in {:?}",
        clicked.elapsed()
    );
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(connection["mode"], "role");
    assert_eq!(connection["account_id"], customer.account_id.as_str());
    assert_eq!(connection["region"], REGION);
    assert_eq!(connection["stack_id"], stack_id.as_str());
    assert_eq!(
        connection["role_arn"],
        output(&stack, "RoleArn").unwrap().as_str()
    );
    assert_eq!(
        connection["topic_arn"],
        output(&stack, "TopicArn").unwrap().as_str()
    );
    let set = output(&stack, "ConfigurationSetName").unwrap();
    assert_eq!(connection["configuration_set"], set.as_str());
    assert_eq!(connection["webhook_url"], webhook_url.as_str());
    let create_answer = answers()
        .await
        .into_iter()
        .find(|a| a["response"]["StackId"] == stack_id.as_str())
        .expect("the stack's request was answered");
    assert_eq!(create_answer["problem"], Value::Null);
    assert_eq!(create_answer["response"]["Status"], "SUCCESS");
    assert_eq!(create_answer["response"]["PhysicalResourceId"], cid);

    // Verify through the assumed role: the sandbox and its quota.
    let (status, verified) = h
        .call(Method::POST, &format!("{path}/verify"), &key, None)
        .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["verified"], true, "{verified}");
    assert_eq!(verified["sending"]["production_access"], false);
    assert_eq!(verified["sending"]["max_24_hour_send"], 200.0);
    assert_eq!(verified["sending"]["max_send_rate"], 1.0);

    // The stack's configuration set attached through the role; mail shows up.
    let (status, attached) = h
        .call(
            Method::PUT,
            &format!("{path}/identities/{sender}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{attached}");
    assert_eq!(attached["configuration_set"], set.as_str());
    let message_id = customer
        .send_email(&sender, &["success@simulator.amazonses.com"], "Via stack")
        .await
        .unwrap();
    let delivered = format!("message_id={message_id}&type=delivery");
    h.wait_events(&pid, &key, &delivered, 1).await;

    // Wiring, verify and attach ran on one assumed-role session, as the session name says.
    let requests: Vec<Value> = reqwest::get(format!("{}/_trackses/requests", emulator()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let role_arn = connection["role_arn"].as_str().unwrap();
    let assumed = requests
        .iter()
        .filter(|r| r["action"] == "sts:AssumeRole" && r["resources"]["RoleArn"] == role_arn)
        .count();
    // Once per container: the trust proof (the project's external id, a random one, none)
    // and then the credentials kept for every later command.
    assert_eq!(
        assumed, 4,
        "the role is proven once and its credentials are kept between commands"
    );
    let session = format!(
        "assumed-role/{}/trackses-{cid}",
        role_arn.rsplit('/').next().unwrap()
    );
    assert!(
        requests.iter().any(
            |r| r["action"] == "ses:PutEmailIdentityConfigurationSetAttributes"
                && r["arn"].as_str().unwrap().ends_with(&session)
        ),
        "the attach ran as {session}"
    );

    // The stack updated with a replaced role: the connection takes it and is checked again.
    let properties = json!({
        "ServiceToken": callback_arn,
        "ConnectionToken": token,
        "RoleArn": role_arn,
        "TopicArn": connection["topic_arn"],
        "ConfigurationSetName": set,
        "ExternalId": external_id,
    });
    let new_role = trusting_role(&customer, &unique("trackses-replaced-Role"), &external_id).await;
    let update = |role: String, token: String| {
        let (stack_id, properties) = (stack_id.clone(), properties.clone());
        move |request: &mut Value| {
            request["StackId"] = json!(stack_id);
            request["PhysicalResourceId"] = json!(cid);
            request["OldResourceProperties"] = properties.clone();
            request["ResourceProperties"] = properties;
            request["ResourceProperties"]["RoleArn"] = json!(role);
            request["ResourceProperties"]["ConnectionToken"] = json!(token);
        }
    };
    let answer = send_request(
        "update",
        &callback_arn,
        update(new_role.clone(), token.clone()),
    )
    .await;
    assert_eq!(answer["Status"], "SUCCESS", "{answer}");
    assert_eq!(
        answer["PhysicalResourceId"], cid,
        "an update is no replacement"
    );
    h.wait_status(&pid, &key, cid, "active").await;
    let (_, updated) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(updated["role_arn"], new_role.as_str());
    let (_, verified) = h
        .call(Method::POST, &format!("{path}/verify"), &key, None)
        .await;
    assert_eq!(
        verified["verified"], true,
        "verified through the new role: {verified}"
    );
    let answer = send_request(
        "update",
        &callback_arn,
        update(new_role.clone(), format!("ct_{}", ids::random_hex(20))),
    )
    .await;
    assert_eq!(answer["Status"], "FAILED");
    assert!(
        answer["Reason"]
            .as_str()
            .unwrap()
            .contains("ConnectionToken cannot change")
    );

    // GIVEN an attacker who knows the stack's ids (the customer's console shows them) but not its
    // token, WHEN it sends an Update whose old and new properties agree on a forged token, and a
    // Delete with a forged token, THEN both are refused and the connection is unchanged.
    let forged = format!("ct_{}", ids::random_hex(20));
    let attacker_role = format!("arn:aws:iam::{}:role/attacker", customer.account_id);
    let forge = update(attacker_role, forged.clone());
    let forged_old = forged.clone();
    let answer = send_request("update", &callback_arn, move |request| {
        forge(request);
        request["OldResourceProperties"]["ConnectionToken"] = json!(forged_old);
    })
    .await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    let delete = update(new_role.clone(), forged);
    let answer = send_request("delete", &callback_arn, delete).await;
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    assert!(
        answer["Reason"].as_str().unwrap().contains("not the one"),
        "{answer}"
    );
    let (status, unchanged) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (unchanged["role_arn"].as_str(), unchanged["status"].as_str()),
        (Some(new_role.as_str()), Some("active"))
    );

    // A link serves one stack: another account using it is refused.
    let other = h.customer(&fresh_account("6000")).await;
    let second = create_stack_from_link(&other, &link).await.unwrap();
    let refused = wait_stack(&other.cloudformation, &second, "CREATE_COMPLETE")
        .await
        .unwrap_err();
    assert!(
        refused.contains("already used by another stack"),
        "{refused}"
    );

    // Deleting the stack removes the connection; the events stay.
    customer
        .cloudformation
        .delete_stack()
        .stack_name(&stack_id)
        .send()
        .await
        .unwrap();
    eventually("the connection gone with its stack", || async {
        let (status, _) = h.call(Method::GET, &path, &key, None).await;
        (status == 404).then_some(())
    })
    .await;
    assert_eq!(
        h.events(&pid, &key, &format!("message_id={message_id}"))
            .await
            .len(),
        2
    );

    // Neither the token nor the external id reached a log line.
    let logs = logs.text();
    assert!(
        logs.contains("role connection registered by its stack"),
        "{logs}"
    );
    assert!(
        !logs.contains(&token),
        "the connection token leaked into the logs"
    );
    assert!(
        !logs.contains(&external_id),
        "the external id leaked into the logs"
    );
}
