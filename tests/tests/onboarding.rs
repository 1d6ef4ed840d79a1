//! Role mode through the quick-create link, against the emulated AWS: the link, the customer's
//! stack created from it (templateURL and parameters as the console passes them), the stack's
//! custom resource reporting to trackses' callback topic, and the connection turning active with
//! no other call. The emulator's STS enforces the role's trust policy.

mod common;

use chrono::{Duration, Utc};
use common::*;
use local::role_stack::{
    QuickCreate, create_stack_from_link, deploy_callback_topic, output, wait_stack,
};
use model::{Onboarding, ids};
use reqwest::Method;
use serde_json::{Value, json};

fn emulator() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap()
}

/// A trackses instance with its own callback topic (deployed from callback-topic.yaml and
/// confirmed by the instance itself), so tests do not share one.
async fn harness() -> (Harness, String) {
    let topic = unique("trackses-cb");
    let name = topic.clone();
    let h = Harness::start_with(|config| config.callback_topic = name).await;
    let base = h.api.base.clone();
    let arn = deploy_callback_topic(
        &h.aws,
        REGION,
        &topic,
        &format!("{base}/v1/hooks/cloudformation"),
    )
    .await
    .unwrap();
    let sns = aws_sdk_sns::Client::new(&h.aws);
    eventually("the callback subscription confirmed", || async {
        let subs = sns
            .list_subscriptions_by_topic()
            .topic_arn(&arn)
            .send()
            .await
            .unwrap();
        subs.subscriptions()
            .iter()
            .any(|s| s.subscription_arn().is_some_and(|a| a.starts_with("arn:")))
            .then_some(())
    })
    .await;
    (h, arn)
}

async fn link(h: &Harness, pid: &str, key: &str) -> (Value, QuickCreate) {
    let (status, body) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/onboarding/role?region={REGION}"),
            key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let parsed = QuickCreate::parse(body["quick_create_url"].as_str().unwrap()).unwrap();
    (body, parsed)
}

async fn connections(h: &Harness, pid: &str, key: &str) -> Value {
    let path = format!("/v1/projects/{pid}/connections");
    let (status, listed) = h.call(Method::GET, &path, key, None).await;
    assert_eq!(status, 200, "{listed}");
    listed["items"].clone()
}

async fn answers() -> Vec<Value> {
    reqwest::get(format!("{}/_trackses/cloudformation/responses", emulator()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Acts as CloudFormation with a sample request (`events/cloudformation/<name>.json`), adjusted
/// by `adjust`, published to `callback_arn`; returns the recorded answer.
async fn send_request(name: &str, callback_arn: &str, adjust: impl FnOnce(&mut Value)) -> Value {
    let path = format!(
        "{}/../events/cloudformation/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut request: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let request_id = ids::random_hex(16);
    request["RequestId"] = json!(request_id);
    request["ServiceToken"] = json!(callback_arn);
    request["ResourceProperties"]["ServiceToken"] = json!(callback_arn);
    adjust(&mut request);
    reqwest::Client::new()
        .post(format!("{}/_trackses/cloudformation/requests", emulator()))
        .json(&request)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let answer = eventually("the request answered", || async {
        answers()
            .await
            .into_iter()
            .find(|a| a["request_id"] == request_id.as_str())
    })
    .await;
    assert_eq!(answer["problem"], Value::Null, "{answer}");
    answer["response"].clone()
}

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

#[tokio::test]
async fn the_link_needs_a_project_key_and_an_ses_region() {
    let (h, _) = harness().await;
    let (pid, key) = h.project().await;
    let (other, other_key) = h.project().await;
    let path = format!("/v1/projects/{pid}/onboarding/role");
    let (status, problem) = h
        .call(
            Method::GET,
            &format!("{path}?region=eu-south-2"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("SES v2"));
    let (status, problem) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(status, 400, "{problem}");
    let (status, _) = h
        .call(
            Method::GET,
            &format!("{path}?region={REGION}"),
            &other_key,
            None,
        )
        .await;
    assert_eq!(status, 404, "a key of {other} sees no other project");
    // Each call is a new link for one stack; the external id is the project's, and trackses' own.
    let (first, first_link) = link(&h, &pid, &key).await;
    let (second, second_link) = link(&h, &pid, &key).await;
    assert_ne!(first["connection_id"], second["connection_id"]);
    assert_ne!(
        first_link.parameter("ConnectionToken"),
        second_link.parameter("ConnectionToken")
    );
    assert_eq!(first["external_id"], second["external_id"]);
    let (status, problem) = h
        .call(
            Method::POST,
            "/v1/projects",
            &h.admin_token,
            Some(json!({"name": "mine", "external_id": "trackses-chosen-by-me"})),
        )
        .await;
    assert_eq!(
        status, 400,
        "a client cannot choose an external id: {problem}"
    );
    let (status, _) = h
        .call(
            Method::PATCH,
            &format!("/v1/projects/{pid}"),
            &key,
            Some(json!({"external_id": "trackses-chosen-by-me"})),
        )
        .await;
    assert_eq!(status, 405, "nor change it");
    let response = reqwest::Client::new()
        .get(format!("{}{path}?region={REGION}", h.api.base))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn a_stack_connection_deleted_in_trackses_is_forgotten_and_its_stack_still_deletes() {
    let (h, _) = harness().await;
    let (pid, key) = h.project().await;
    let (onboarding, link) = link(&h, &pid, &key).await;
    let cid = onboarding["connection_id"].as_str().unwrap();
    let customer = h.customer(&fresh_account("6100")).await;
    let stack_id = create_stack_from_link(&customer, &link).await.unwrap();
    wait_stack(&customer.cloudformation, &stack_id, "CREATE_COMPLETE")
        .await
        .unwrap();
    h.wait_status(&pid, &key, cid, "active").await;

    let path = format!("/v1/projects/{pid}/connections/{cid}");
    let (status, deleted) = h.call(Method::DELETE, &path, &key, None).await;
    assert_eq!(status, 202, "{deleted}");
    assert_eq!(deleted["status"], "deleted");
    assert!(
        deleted["detail"].as_str().unwrap().contains(&stack_id),
        "{deleted}"
    );
    let (status, _) = h.call(Method::GET, &path, &key, None).await;
    assert_eq!(status, 404);
    // trackses deleted nothing of the stack's: its topic is still there.
    let topics = customer.sns.list_topics().send().await.unwrap();
    assert!(
        topics
            .topics()
            .iter()
            .any(|t| t.topic_arn().is_some_and(|a| a.contains(":trackses-"))),
        "the stack's topic stays until the stack goes"
    );

    customer
        .cloudformation
        .delete_stack()
        .stack_name(&stack_id)
        .send()
        .await
        .unwrap();
    let answer = eventually("the stack's Delete answered", || async {
        answers().await.into_iter().find(|a| {
            a["request_type"] == "Delete" && a["response"]["StackId"] == stack_id.as_str()
        })
    })
    .await;
    assert_eq!(answer["problem"], Value::Null, "{answer}");
    assert_eq!(answer["response"]["Status"], "SUCCESS");
    assert_eq!(answer["response"]["PhysicalResourceId"], cid);
}
