//! Customer accounts in the emulator: fresh ones, roles trusting trackses, and a snapshot of what
//! trackses must leave as it found it.

use std::collections::BTreeMap;

use local::customer::CustomerAccount;
use model::ids;
use serde_json::{Value, json};

use super::TRACKSES_ACCOUNT;

/// A customer account no other test uses: `prefix` (four digits) and eight random ones.
pub fn fresh_account(prefix: &str) -> String {
    let digits: String = ids::random_hex(4)
        .bytes()
        .map(|b| char::from(b'0' + b % 10))
        .collect();
    format!("{prefix}{digits}")
}

/// A role named `name` in `customer` trusting trackses' account under `external_id`, as the
/// customer template makes it.
pub async fn trusting_role(customer: &CustomerAccount, name: &str, external_id: &str) -> String {
    role_trusting_trackses(
        customer,
        name,
        Some(json!({"StringEquals": {"sts:ExternalId": external_id}})),
    )
    .await
}

/// A role trusting trackses' account under `condition`, or under none: the hand-written trust
/// policy that makes any trackses project a confused deputy.
pub async fn role_trusting_trackses(
    customer: &CustomerAccount,
    name: &str,
    condition: Option<Value>,
) -> String {
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{TRACKSES_ACCOUNT}:root")},
        "Action": "sts:AssumeRole",
    });
    if let Some(condition) = condition {
        statement["Condition"] = condition;
    }
    let trust = json!({"Version": "2012-10-17", "Statement": [statement]});
    let arn = customer
        .iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn;
    // What the role may do once assumed: the published policy, as the customer template grants.
    customer
        .iam
        .put_role_policy()
        .role_name(name)
        .policy_name("trackses")
        .policy_document(local::customer::TRACKSES_POLICY)
        .send()
        .await
        .unwrap();
    arn
}

/// What trackses must leave as it found it: topics, subscriptions, configuration sets and each
/// identity's configuration set.
pub async fn snapshot(customer: &CustomerAccount) -> BTreeMap<String, String> {
    let mut state = BTreeMap::new();
    for topic in customer.sns.list_topics().send().await.unwrap().topics() {
        state.insert(
            format!("topic {}", topic.topic_arn().unwrap()),
            String::new(),
        );
    }
    for sub in customer
        .sns
        .list_subscriptions()
        .send()
        .await
        .unwrap()
        .subscriptions()
    {
        state.insert(
            format!("subscription {}", sub.topic_arn().unwrap()),
            sub.endpoint().unwrap_or_default().to_owned(),
        );
    }
    for set in customer
        .ses
        .list_configuration_sets()
        .send()
        .await
        .unwrap()
        .configuration_sets()
    {
        state.insert(format!("set {set}"), String::new());
    }
    let identities = customer.ses.list_email_identities().send().await.unwrap();
    for identity in identities.email_identities() {
        let name = identity.identity_name().unwrap();
        let detail = customer
            .ses
            .get_email_identity()
            .email_identity(name)
            .send()
            .await
            .unwrap();
        state.insert(
            format!("identity {name}"),
            detail
                .configuration_set_name()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    state
}
