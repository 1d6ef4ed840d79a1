//! Automatic mode through the API only, against the emulated AWS: a customer account with a
//! scoped IAM user holding exactly the published `docs/customer-iam-policy.json`, foreign resources trackses
//! must not touch, wiring, identities, live events, teardown, and no secret anywhere.

mod common;

use common::*;
use local::customer::CustomerAccount;
use model::ids;
use reqwest::Method;
use serde_json::{Value, json};

/// A fresh emulated account per test, so no other test's resources show up in its snapshots.
fn fresh_account() -> String {
    let digits: String = ids::random_hex(4)
        .bytes()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    format!("4000{digits}")
}

struct Setup {
    customer: CustomerAccount,
    key_id: String,
    secret: String,
    domain: String,
}

/// A customer account holding foreign resources, and a scoped key for trackses.
async fn customer_with_key(h: &Harness) -> Setup {
    let account = fresh_account();
    let customer = h.customer(&account).await;
    let domain = format!("{}.example", unique("shop"));
    let orders = customer.create_topic("orders", "1").await.unwrap();
    customer
        .publish_ses_events_to(&format!("news@{domain}"), "marketing", &orders)
        .await
        .unwrap();
    customer
        .create_identity(&format!("hello@{domain}"))
        .await
        .unwrap();
    let (key_id, secret) = customer
        .scoped_access_key("trackses", local::customer::TRACKSES_POLICY)
        .await
        .unwrap();
    Setup {
        customer,
        key_id,
        secret,
        domain,
    }
}

async fn connect(h: &Harness, pid: &str, key: &str, setup: &Setup) -> (u16, Value) {
    h.call(
        Method::POST,
        &format!("/v1/projects/{pid}/connections"),
        key,
        Some(json!({
            "mode": "automatic",
            "region": REGION,
            "access_key_id": setup.key_id,
            "secret_access_key": setup.secret,
        })),
    )
    .await
}

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
        (h.call(Method::GET, &path, &key, None).await.0 == 404).then_some(())
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
        "mode": "automatic", "region": "eu-south-2",
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
    let customer = h.customer(&fresh_account()).await;
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

#[tokio::test]
async fn a_sealed_key_moved_to_another_connection_does_not_open() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let (other_pid, other_key) = h.project().await;
    let first = customer_with_key(&h).await;
    let second = customer_with_key(&h).await;
    let (_, a) = connect(&h, &pid, &key, &first).await;
    let (_, b) = connect(&h, &other_pid, &other_key, &second).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    h.wait_status(&pid, &key, a, "active").await;
    h.wait_status(&other_pid, &other_key, b, "active").await;
    let identities = format!("/v1/projects/{other_pid}/connections/{b}/identities");
    let (status, listed) = h.call(Method::GET, &identities, &other_key, None).await;
    assert_eq!(status, 200, "{listed}");

    // Copy A's sealed key over B's, as someone with table access might.
    let secret_of = |cid: &str| {
        let client = h.store_client();
        let table = h.store.table().to_owned();
        let cid = cid.to_owned();
        async move {
            client
                .get_item()
                .table_name(table)
                .key(
                    "pk",
                    aws_sdk_dynamodb::types::AttributeValue::S(format!("C#{cid}")),
                )
                .key(
                    "sk",
                    aws_sdk_dynamodb::types::AttributeValue::S("SECRET".into()),
                )
                .send()
                .await
                .unwrap()
                .item
                .unwrap()
        }
    };
    let mut moved = secret_of(a).await;
    moved.insert(
        "pk".into(),
        aws_sdk_dynamodb::types::AttributeValue::S(format!("C#{b}")),
    );
    h.store_client()
        .put_item()
        .table_name(h.store.table())
        .set_item(Some(moved))
        .send()
        .await
        .unwrap();
    let (status, problem) = h.call(Method::GET, &identities, &other_key, None).await;
    assert_eq!(status, 503, "{problem}");
    // Tenant isolation on the new routes: A's key never reaches B's connection.
    for (method, suffix) in [
        (Method::GET, "/identities"),
        (Method::PUT, "/identities/hello@example.com"),
        (Method::DELETE, "/identities/hello@example.com"),
        (Method::DELETE, ""),
    ] {
        let (status, _) = h
            .call(
                method,
                &format!("/v1/projects/{other_pid}/connections/{b}{suffix}"),
                &key,
                None,
            )
            .await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn sealed_secrets_open_only_for_their_owner_and_untouched() {
    use customer::crypto::{CryptoError, Envelope, SecretContext};
    let h = Harness::start().await;
    let envelope = Envelope::new(
        aws_sdk_kms::Client::new(&h.aws),
        h.config.kms_key_id.clone().unwrap(),
    );
    let owner = SecretContext {
        project_id: "prj_a".into(),
        connection_id: "con_a".into(),
    };
    let sealed = envelope.seal(&owner, b"secret material").await.unwrap();
    assert_eq!(
        envelope.open(&owner, &sealed).await.unwrap().as_slice(),
        b"secret material"
    );
    assert!(
        !sealed
            .ciphertext
            .windows(b"secret material".len())
            .any(|w| w == b"secret material")
    );
    let other_connection = SecretContext {
        connection_id: "con_b".into(),
        ..owner.clone()
    };
    let other_project = SecretContext {
        project_id: "prj_b".into(),
        ..owner.clone()
    };
    for context in [&other_connection, &other_project] {
        assert!(matches!(
            envelope.open(context, &sealed).await,
            Err(CryptoError::Integrity)
        ));
    }
    let mut flipped = sealed.clone();
    flipped.ciphertext[0] ^= 1;
    let mut renonced = sealed.clone();
    renonced.nonce[0] ^= 1;
    let mut rewrapped = sealed.clone();
    rewrapped.wrapped_key[10] ^= 1;
    for tampered in [&flipped, &renonced, &rewrapped] {
        assert!(envelope.open(&owner, tampered).await.is_err());
    }
    // Two seals of the same secret share neither data key nor nonce.
    let again = envelope.seal(&owner, b"secret material").await.unwrap();
    assert_ne!(again.nonce, sealed.nonce);
    assert_ne!(again.wrapped_key, sealed.wrapped_key);
}

/// GIVEN the customer's scoped key in the hands of someone who skips trackses' guard entirely,
/// WHEN it tries to delete, repoint or add a destination to the customer's own `marketing` set,
/// THEN IAM itself refuses each (the published policy names only `trackses-*` sets) and the
/// set is unchanged.
#[tokio::test]
async fn the_published_policy_itself_keeps_the_key_off_foreign_sets() {
    let h = Harness::start().await;
    let setup = customer_with_key(&h).await;
    let unguarded = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&h.aws)
            .region(aws_sdk_sesv2::config::Region::new(REGION))
            .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
                &setup.key_id,
                &setup.secret,
                None,
                None,
                "unguarded",
            ))
            .build(),
    );
    let denied = |e: &dyn aws_sdk_sesv2::error::ProvideErrorMetadata| {
        e.code() == Some("AccessDeniedException")
    };
    let delete = unguarded
        .delete_configuration_set()
        .configuration_set_name("marketing")
        .send()
        .await
        .unwrap_err();
    assert!(denied(&delete.into_service_error()), "delete");
    let repoint = unguarded
        .put_email_identity_configuration_set_attributes()
        .email_identity(format!("hello@{}", setup.domain))
        .configuration_set_name("marketing")
        .send()
        .await
        .unwrap_err();
    assert!(denied(&repoint.into_service_error()), "repoint");
    let destination = unguarded
        .create_configuration_set_event_destination()
        .configuration_set_name("marketing")
        .event_destination_name("exfiltrate")
        .event_destination(
            aws_sdk_sesv2::types::EventDestinationDefinition::builder()
                .enabled(true)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(denied(&destination.into_service_error()), "destination");
    let set = setup
        .customer
        .ses
        .get_configuration_set_event_destinations()
        .configuration_set_name("marketing")
        .send()
        .await
        .unwrap();
    assert_eq!(set.event_destinations().len(), 1, "the set is as it was");
}
