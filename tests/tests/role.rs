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

/// A project whose role connection, in a fresh customer account, is wired and active.
struct Connected {
    pid: String,
    key: String,
    customer: local::customer::CustomerAccount,
    created: Value,
}

impl Connected {
    async fn new(h: &Harness, account_prefix: &str) -> Connected {
        let (pid, key) = h.project().await;
        let external_id = h.external_id(&pid, &key).await;
        let customer = h.customer(&fresh_account(account_prefix)).await;
        let role_arn = trusting_role(&customer, "TrackSesAccess", &external_id).await;
        let (status, created) = connect(h, &pid, &key, &role_arn).await;
        assert_eq!(status, 202, "{created}");
        h.wait_status(&pid, &key, created["id"].as_str().unwrap(), "active")
            .await;
        Connected {
            pid,
            key,
            customer,
            created,
        }
    }

    fn cid(&self) -> &str {
        self.created["id"].as_str().unwrap()
    }
}

#[tokio::test]
async fn a_role_trusting_the_external_id_is_wired_verified_and_torn_down() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let external_id = h.external_id(&pid, &key).await;
    let customer = h.customer(&fresh_account("5000")).await;
    let sender = format!("hello@{}.example", unique("role"));
    customer.create_identity(&sender).await.unwrap();
    let role_arn = trusting_role(&customer, "TrackSesAccess", &external_id).await;

    let (status, created) = connect(&h, &pid, &key, &role_arn).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["mode"], "role");
    assert_eq!(created["role_arn"], role_arn.as_str());
    assert_eq!(created["account_id"], customer.account_id.as_str());
    let cid = created["id"].as_str().unwrap();
    let path = format!("/v1/projects/{pid}/connections/{cid}");
    h.wait_status(&pid, &key, cid, "active").await;
    // Proven once, at registration (ours, a random external id, none), and the credentials
    // kept: the wiring that followed did not prove the role again.
    let base = std::env::var("AWS_ENDPOINT_URL").unwrap();
    let requests: Vec<Value> = reqwest::get(format!("{base}/_trackses/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let assumed = requests
        .iter()
        .filter(|r| r["action"] == "sts:AssumeRole" && r["resources"]["RoleArn"] == role_arn)
        .count();
    assert_eq!(
        assumed, 4,
        "three for the proof, one for the kept credentials"
    );

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
    h.wait_events(&pid, &key, &format!("message_id={message_id}"), 2)
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
        (h.status(Method::GET, &path, &key).await == 404).then_some(())
    })
    .await;
}

/// GIVEN an attacker project and a victim account whose roles trust trackses' account without
/// demanding the attacker's external id (no condition at all, the account's
/// OrganizationAccountAccessRole, another project's external id) or a role in trackses' own
/// account, WHEN the attacker registers each, THEN 400 in words, nothing is registered and the
/// victim's account is unchanged.
#[tokio::test]
async fn an_attacker_cannot_register_a_role_that_does_not_demand_its_external_id() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let external_id = h.external_id(&pid, &key).await;
    let victim = h.customer(&fresh_account("5001")).await;
    victim
        .create_identity(&format!("ceo@{}.example", unique("victim")))
        .await
        .unwrap();
    let open = role_trusting_trackses(&victim, "HandWritten", None).await;
    let other = trusting_role(&victim, "OtherProject", "someone-elses-external-id").await;
    let organization = format!(
        "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
        victim.account_id
    );
    let before = snapshot(&victim).await;

    for (role_arn, says) in [
        (open, "trust policy must require sts:ExternalId"),
        (organization, "trust policy must require sts:ExternalId"),
        (other, "cannot assume the role"),
        (
            format!("arn:aws:iam::{TRACKSES_ACCOUNT}:role/Admin"),
            "trackses' own AWS account",
        ),
    ] {
        let (status, problem) = connect(&h, &pid, &key, &role_arn).await;
        assert_eq!(status, 400, "{role_arn}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{role_arn}: {detail}");
        assert!(
            !problem.to_string().contains(&external_id[13..]),
            "the external id is shown masked only: {problem}"
        );
    }
    let (_, listed) = h
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/connections"),
            &key,
            None,
        )
        .await;
    assert_eq!(listed["items"], json!([]), "nothing was registered");
    assert_eq!(
        snapshot(&victim).await,
        before,
        "the victim's account is unchanged"
    );

    for bad in [
        "arn:aws:iam::123:role/x",
        "arn:aws:iam::210987654321:user/x",
    ] {
        let (status, problem) = connect(&h, &pid, &key, bad).await;
        assert_eq!(status, 400, "{problem}");
    }
}

/// GIVEN a connected role whose trust policy the customer later loosened (no condition), WHEN
/// trackses next reaches the account in a new container, THEN it refuses to act through it.
#[tokio::test]
async fn a_role_loosened_after_connecting_is_no_longer_used() {
    let h = Harness::start().await;
    let Connected {
        pid,
        key,
        customer,
        created,
    } = Connected::new(&h, "5002").await;
    let cid = created["id"].as_str().unwrap();

    let loosened = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{TRACKSES_ACCOUNT}:root")},
        "Action": "sts:AssumeRole",
    }]});
    customer
        .iam
        .update_assume_role_policy()
        .role_name("TrackSesAccess")
        .policy_document(loosened.to_string())
        .send()
        .await
        .unwrap();
    // A second trackses (a new container) has no proof cached for the role.
    let fresh = Harness::start().await;
    let (status, verified) = fresh
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/connections/{cid}/verify"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["verified"], false);
    assert!(
        verified["problems"][0]
            .as_str()
            .unwrap()
            .contains("must require sts:ExternalId"),
        "{verified}"
    );
    let (status, refused) = fresh
        .call(
            Method::GET,
            &format!("/v1/projects/{pid}/connections/{cid}/identities"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 409, "{refused}");
}

/// GIVEN a role connection wired while SNS delivered under the public URL, WHEN the deployment
/// gives the webhook its own function URL, THEN new connections are handed webhook URLs under
/// it, and the earlier subscription still verifies (it keeps delivering to the HTTP API route).
#[tokio::test]
async fn a_subscription_made_before_the_function_url_still_verifies() {
    let before = Harness::start().await;
    let connected = Connected::new(&before, "5100").await;
    let (pid, key, cid) = (&connected.pid, &connected.key, connected.cid());

    let function_url = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/";
    let public_url = before.config.public_url.clone();
    let after = Harness::start_with(|config| {
        config.public_url = public_url;
        config.webhook_url = Some(function_url.parse().unwrap());
    })
    .await;
    let (status, verified) = after
        .call(
            Method::POST,
            &format!("/v1/projects/{pid}/connections/{cid}/verify"),
            key,
            None,
        )
        .await;
    assert_eq!(status, 200, "{verified}");
    assert_eq!(verified["verified"], true, "{verified}");
    let topic = connected
        .customer
        .create_topic(&unique("trackses-new"), "2")
        .await
        .unwrap();
    let (new_cid, webhook_url) = after.connection(pid, key, &topic).await;
    assert_eq!(webhook_url, format!("{function_url}v1/hooks/sns/{new_cid}"));
}
