//! Automatic mode through the API only, against the emulated AWS: a customer account with a
//! scoped IAM user holding exactly the published `docs/customer-iam-policy.json`, foreign resources trackses
//! must not touch, wiring, identities, live events, teardown, and no secret anywhere; refusals
//! that change nothing, and a key without the policy.

mod common;

use common::automatic::{connect, customer_with_key};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn emulator_requests(query: &str) -> Vec<Value> {
    let base = std::env::var("AWS_ENDPOINT_URL").unwrap();
    reqwest::get(format!("{base}/_trackses/requests?{query}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn connect_wire_attach_send_teardown_leaves_the_account_as_it_was() {
    let logs = LogCapture::global();
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let setup = customer_with_key(&h).await;
    let customer = &setup.customer;
    let before = snapshot(customer).await;

    let (status, created) = connect(&h, &pid, &key, &setup).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["mode"], "automatic");
    assert_eq!(created["status"], "wiring");
    assert_eq!(created["account_id"], customer.account_id.as_str());
    assert_eq!(
        created["access_key_id_last4"],
        &setup.key_id[setup.key_id.len() - 4..]
    );
    let cid = created["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    h.wait_status(&pid, &key, &cid, "active").await;

    // What wiring made, as the customer sees it.
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    let topic = connection["topic_arn"].as_str().unwrap().to_owned();
    let set = connection["configuration_set"].as_str().unwrap().to_owned();
    assert!(set.starts_with("trackses-"), "{connection}");
    assert_eq!(topic.rsplit(':').next(), Some(set.as_str()));
    assert!(connection["last_error"].is_null(), "{connection}");
    let attributes = customer
        .sns
        .get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let attributes = attributes.attributes().unwrap();
    assert_eq!(attributes["SignatureVersion"], "2");
    let policy: Value = serde_json::from_str(&attributes["Policy"]).unwrap();
    assert_eq!(
        policy["Statement"][0]["Principal"]["Service"],
        "ses.amazonaws.com"
    );
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceAccount"],
        customer.account_id.as_str()
    );
    // SNS retries deliveries to trackses for 20 to 48 minutes, not SNS's default minute.
    let delivery: Value = serde_json::from_str(&attributes["DeliveryPolicy"]).unwrap();
    let retry: Value =
        serde_json::from_str(include_str!("../../cloudformation/https-retry-policy.json")).unwrap();
    assert_eq!(delivery["http"]["defaultHealthyRetryPolicy"], retry);
    let destinations = customer
        .ses
        .get_configuration_set_event_destinations()
        .configuration_set_name(&set)
        .send()
        .await
        .unwrap();
    let destination = &destinations.event_destinations()[0];
    assert_eq!(destination.matching_event_types().len(), 10);
    assert_eq!(
        destination.sns_destination().unwrap().topic_arn(),
        topic.as_str()
    );
    let subscriptions = customer
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let subscription = &subscriptions.subscriptions()[0];
    assert_eq!(subscription.endpoint(), connection["webhook_url"].as_str());
    assert!(subscription.subscription_arn().unwrap().starts_with("arn:"));

    // Identities: listed with their sets; a foreign set is not replaced without consent.
    let news = format!("news@{}", setup.domain);
    let hello = format!("hello@{}", setup.domain);
    let (status, identities) = h
        .call(Method::GET, &format!("{path}/identities"), &key, None)
        .await;
    assert_eq!(status, 200, "{identities}");
    let find = |items: &Value, name: &str| {
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["identity"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(find(&identities, &news)["configuration_set"], "marketing");
    assert_eq!(find(&identities, &news)["attached"], false);
    assert_eq!(find(&identities, &hello)["verified"], true);
    let (status, refused) = h
        .call(
            Method::PUT,
            &format!("{path}/identities/{news}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["detail"].as_str().unwrap().contains("marketing"));
    let (status, attached) = h
        .call(
            Method::PUT,
            &format!("{path}/identities/{hello}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{attached}");
    assert_eq!(attached["configuration_set"], set.as_str());
    assert!(attached["replaced"].is_null());
    let (status, missing) = h
        .call(
            Method::PUT,
            &format!("{path}/identities/nobody@{}", setup.domain),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 404, "{missing}");

    // Mail sent through the emulated SES shows up through the API.
    let message_id = customer
        .send_email(&hello, &["success@simulator.amazonses.com"], "Wired")
        .await
        .unwrap();
    eventually("send and delivery through the wired account", || async {
        let events = h
            .events(&pid, &key, &format!("message_id={message_id}"))
            .await;
        (events.len() == 2).then_some(())
    })
    .await;
    let (_, timeline) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/messages/{message_id}"),
            &key,
            None,
        )
        .await;
    assert_eq!(timeline["recipients"][0]["status"], "delivered");

    // Teardown: 202, then gone, and the account is as it was.
    let (status, deleting) = h.call(Method::DELETE, &path, &key, None).await;
    assert_eq!(
        (status, deleting["status"].as_str()),
        (202, Some("deleting"))
    );
    eventually("the connection to disappear", || async {
        (h.status(Method::GET, &path, &key).await == 404).then_some(())
    })
    .await;
    assert_eq!(snapshot(customer).await, before);
    let (status, _) = h.call(Method::DELETE, &path, &key, None).await;
    assert_eq!(status, 404, "a second delete finds nothing to do");

    // Every call trackses made with the key was one the policy allows; none sends mail.
    let calls = emulator_requests(&format!("access_key_id={}", setup.key_id)).await;
    let allowed: Vec<String> = serde_json::from_str::<Value>(local::customer::TRACKSES_POLICY)
        .unwrap()["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_owned())
        .chain(["sts:GetCallerIdentity".to_owned()])
        .collect();
    assert!(calls.len() >= 10, "{calls:?}");
    for call in &calls {
        let action = call["action"].as_str().unwrap();
        assert!(!action.starts_with("ses:Send"), "{call}");
        assert!(allowed.iter().any(|a| a == action), "{call}");
        // The one refusal: looking up the identity that does not exist.
        let status = call["status"].as_u64().unwrap();
        assert!(
            status < 400 || (action == "ses:GetEmailIdentity" && status == 404),
            "{call}"
        );
    }

    // The secret: not in a log line, a response, or any table attribute.
    let scan = h
        .store_client()
        .scan()
        .table_name(h.store.table())
        .send()
        .await
        .unwrap();
    let table = format!("{:?}", scan.items());
    let logs = logs.text();
    assert!(
        logs.contains("connection registered; wiring started"),
        "the capture sees the flow: {logs}"
    );
    let seen =
        format!("{logs}\n{created}\n{connection}\n{identities}\n{attached}\n{deleting}\n{table}");
    assert!(
        !seen.contains(&setup.secret),
        "the secret access key leaked"
    );
    for (i, line) in seen.lines().enumerate() {
        assert!(
            !line.contains(&setup.key_id),
            "the full access key id leaked in line {i}: {line}"
        );
    }
}

#[tokio::test]
async fn refusals_change_nothing() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let setup = customer_with_key(&h).await;
    let path = format!("/v1/projects/{pid}/connections");
    let post = |body: Value| h.call(Method::POST, &path, &key, Some(body));

    let (status, problem) = post(json!({
        "mode": "automatic", "region": "ap-east-1",
        "access_key_id": setup.key_id, "secret_access_key": setup.secret,
    }))
    .await;
    assert_eq!(status, 400, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("SES v2"));
    let (status, _) = post(json!({
        "mode": "automatic", "region": REGION,
        "access_key_id": "short", "secret_access_key": setup.secret,
    }))
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        h.call(Method::GET, &path, &key, None).await.1["items"],
        json!([])
    );

    // One connection per account and region in a project.
    let (status, first) = connect(&h, &pid, &key, &setup).await;
    assert_eq!(status, 202, "{first}");
    let (status, second) = connect(&h, &pid, &key, &setup).await;
    assert_eq!(status, 409, "{second}");
    assert_eq!(
        h.call(Method::GET, &path, &key, None).await.1["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_key_without_the_policy_ends_in_an_error_that_names_the_permission() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(&fresh_account("4000")).await;
    let (key_id, secret) = customer
        .scoped_access_key("too-narrow", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:ListTopics","Resource":"*"}]}"#)
        .await
        .unwrap();
    let (status, created) = h
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/connections"),
            &key,
            Some(json!({"mode": "automatic", "region": REGION,
                        "access_key_id": key_id, "secret_access_key": secret})),
        )
        .await;
    assert_eq!(status, 202, "{created}");
    let cid = created["id"].as_str().unwrap();
    h.wait_status(&pid, &key, cid, "error").await;
    let (_, connection) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/connections/{cid}"),
            &key,
            None,
        )
        .await;
    let error = connection["last_error"].as_str().unwrap();
    assert!(error.contains("sns:CreateTopic"), "{error}");
    assert!(error.contains("iam-policy.json"), "{error}");
}
