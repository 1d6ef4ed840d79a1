//! Role mode (manual registration) through the API, against the emulated AWS, whose STS enforces
//! trust policies: the role trusts trackses' account under the project's external id.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn connect(h: &Harness, pid: &str, key: &str, role_arn: &str) -> (u16, Value) {
    h.call(
        Method::POST,
        &format!("/v1/projects/{pid}/connections"),
        key,
        Some(json!({"mode": "role", "region": REGION, "role_arn": role_arn})),
    )
    .await
}

async fn set_production(account: &str, production: bool) {
    let base = std::env::var("AWS_ENDPOINT_URL").unwrap();
    reqwest::Client::new()
        .post(format!("{base}/_trackses/ses/account"))
        .json(&json!({"account_id": account, "region": REGION, "production": production}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

#[tokio::test]
async fn a_role_trusting_the_external_id_is_wired_verified_and_torn_down() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let (_, project) = h
        .call(Method::GET, &format!("/v1/projects/{pid}"), &key, None)
        .await;
    let external_id = project["external_id"].as_str().unwrap();
    let customer = h.customer(&fresh_account("5000")).await;
    let sender = format!("hello@{}.example", unique("role"));
    customer.create_identity(&sender).await.unwrap();
    let role_arn = trusting_role(&customer, "TrackSesAccess", external_id).await;

    let (status, created) = connect(&h, &pid, &key, &role_arn).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["mode"], "role");
    assert_eq!(created["role_arn"], role_arn.as_str());
    assert_eq!(created["account_id"], customer.account_id.as_str());
    let cid = created["id"].as_str().unwrap();
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    h.wait_status(&pid, &key, cid, "active").await;

    // Verify: the sandbox, then production, as SES GetAccount reports them.
    let (status, verified) = h
        .call(Method::POST, &format!("{path}/verify"), &key, None)
        .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["verified"], true, "{verified}");
    assert_eq!(verified["problems"], json!([]));
    assert_eq!(verified["sending"]["production_access"], false);
    assert_eq!(verified["sending"]["max_24_hour_send"], 200.0);
    set_production(&customer.account_id, true).await;
    let (_, verified) = h
        .call(Method::POST, &format!("{path}/verify"), &key, None)
        .await;
    assert_eq!(verified["sending"]["production_access"], true, "{verified}");
    assert_eq!(verified["sending"]["max_24_hour_send"], 50000.0);

    // Identities through the assumed role, and mail that shows up.
    let (status, attached) = h
        .call(
            Method::PUT,
            &format!("{path}/identities/{sender}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{attached}");
    let message_id = customer
        .send_email(&sender, &["success@simulator.amazonses.com"], "Via role")
        .await
        .unwrap();
    eventually("events through the role connection", || async {
        let events = h
            .events(&pid, &key, &format!("message_id={message_id}"))
            .await;
        (events.len() == 2).then_some(())
    })
    .await;

    // A deleted topic is a problem verify names.
    customer
        .sns
        .delete_topic()
        .topic_arn(created["topic_arn"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (_, verified) = h
        .call(Method::POST, &format!("{path}/verify"), &key, None)
        .await;
    assert_eq!(verified["verified"], false);
    assert!(
        verified["problems"][0]
            .as_str()
            .unwrap()
            .contains("no longer exists"),
        "{verified}"
    );

    let (status, _) = h.call(Method::DELETE, &path, &key, None).await;
    assert_eq!(status, 202);
    eventually("the connection to disappear", || async {
        (h.call(Method::GET, &path, &key, None).await.0 == 404).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_role_without_the_external_id_is_refused_in_words() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let customer = h.customer(&fresh_account("5000")).await;
    let role_arn = trusting_role(&customer, "TrackSesAccess", "someone-elses-external-id").await;
    let (status, created) = connect(&h, &pid, &key, &role_arn).await;
    assert_eq!(status, 202, "{created}");
    let cid = created["id"].as_str().unwrap();
    h.wait_status(&pid, &key, cid, "error").await;
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    let (_, connection) = h.call(Method::GET, &path, &key, None).await;
    assert!(
        connection["last_error"]
            .as_str()
            .unwrap()
            .contains("external id"),
        "{connection}"
    );
    let (status, verified) = h
        .call(Method::POST, &format!("{path}/verify"), &key, None)
        .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["verified"], false);
    assert_eq!(
        verified["problems"].as_array().unwrap().len(),
        1,
        "{verified}"
    );

    for bad in [
        "arn:aws:iam::123:role/x",
        "arn:aws:iam::210987654321:user/x",
    ] {
        let (status, problem) = connect(&h, &pid, &key, bad).await;
        assert_eq!(status, 400, "{problem}");
    }
}
