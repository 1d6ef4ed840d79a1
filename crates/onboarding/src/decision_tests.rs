//! The stack callback's decisions against the in-memory store, with the wiring function behind
//! the SDK's mocks: what a customer stack's Create, Update and Delete do to trackses' state, and
//! what a stack that is not the link's owner cannot do. GIVEN / WHEN / THEN in each name.

use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use chrono::Duration;
use ingest::memory::MemoryStore;
use model::{ConnectionMode, Onboarding, Project};

use super::*;

const TOKEN: &str = "ct_9QmZ4v7LwR2xK8pN3sT6yB1c";
const EXTERNAL_ID: &str = "trackses-org_01J8Z4X7N2Q9-Hk3vP8mW2sR5tY7uA1bC4d";
/// The connection id the samples' Update and Delete name: the link minted it.
const CID: &str = "con_01jq5m3x8rtv2k6n9c4w7b1d0e";

fn sample(name: &str) -> CustomResourceRequest {
    let path = format!(
        "{}/../../events/cloudformation/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    CustomResourceRequest::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn accepts_work() -> Rule {
    mock!(aws_sdk_lambda::Client::invoke)
        .then_output(|| InvokeOutput::builder().status_code(202).build())
}

/// A project whose link (for `region`, expiring `expires_in` from now) the samples' stack uses.
fn callback(work: &Rule, region: &str, expires_in: Duration) -> StackCallback<MemoryStore> {
    let store = MemoryStore::new();
    store.insert_project(Project {
        id: "prj_a".into(),
        name: "Acme".into(),
        external_id: EXTERNAL_ID.into(),
        created_at: Utc::now(),
    });
    store.insert_onboarding(Onboarding {
        token_sha256: sha256_hex(TOKEN),
        project_id: "prj_a".into(),
        connection_id: CID.into(),
        region: region.into(),
        expires_at: Utc::now() + expires_in,
    });
    StackCallback {
        store,
        certs: CertStore::new(None),
        confirmer: Confirmer::new(None),
        responder: Responder::new(None),
        wiring: WiringClient::new(
            mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[work]),
            "wiring",
        ),
        account_id: "123456789012".into(),
        callback_topic: "trackses-cfn-callback".into(),
    }
}

fn linked(work: &Rule) -> StackCallback<MemoryStore> {
    callback(work, "eu-west-1", Duration::days(7))
}

fn with_property(
    request: &CustomResourceRequest,
    name: &str,
    value: &str,
) -> CustomResourceRequest {
    let mut request = request.clone();
    request.resource_properties[name] = serde_json::json!(value);
    request
}

fn refusal(decision: Decision) -> StackRefusal {
    decision.expect_err("refused")
}

#[tokio::test]
async fn given_a_link_when_its_stack_is_created_then_a_role_connection_is_registered_once() {
    let work = accepts_work();
    let callback = linked(&work);
    let create = sample("create");
    assert_eq!(callback.decide(&create).await.unwrap().unwrap(), CID);
    let connection = callback.store.connection(CID).unwrap();
    assert_eq!(connection.mode(), ConnectionMode::Role);
    assert_eq!(connection.status, ConnectionStatus::Wiring);
    let stack = connection.stack().unwrap();
    assert_eq!(stack.stack_id, create.stack_id);
    assert_eq!(
        stack.token_sha256.as_deref(),
        Some(sha256_hex(TOKEN).as_str())
    );
    assert_eq!(
        work.num_calls(),
        1,
        "the role is checked through the wiring function"
    );

    // SNS delivers at least once: the same stack's Create again gets the same answer.
    assert_eq!(callback.decide(&create).await.unwrap().unwrap(), CID);
    assert_eq!(callback.store.connections().len(), 1);
}

#[tokio::test]
async fn given_a_used_link_when_another_stack_presents_its_token_then_refused_and_nothing_changes()
{
    let work = accepts_work();
    let callback = linked(&work);
    callback.decide(&sample("create")).await.unwrap().unwrap();
    let before = callback.store.connections();
    let mut thief = sample("create");
    thief.stack_id = thief.stack_id.replace("5d3c8f40", "00000000");
    let refused = refusal(callback.decide(&thief).await.unwrap());
    assert!(matches!(refused, StackRefusal::LinkUsed), "{refused}");
    assert_eq!(callback.store.connections(), before);
}

#[tokio::test]
async fn given_a_create_that_does_not_match_its_link_then_refused_and_nothing_stored() {
    let work = accepts_work();
    let create = sample("create");
    let cases = [
        (
            linked(&work),
            with_property(&create, "ExternalId", "trackses-someone-else"),
        ),
        (
            linked(&work),
            with_property(&create, "ConnectionToken", "ct_notissuedbytrackses0000"),
        ),
        (
            callback(&work, "eu-west-1", -Duration::minutes(1)),
            create.clone(),
        ),
        (
            callback(&work, "us-east-1", Duration::days(7)),
            create.clone(),
        ),
    ];
    let mut reasons = Vec::new();
    for (callback, request) in cases {
        reasons.push(refusal(callback.decide(&request).await.unwrap()).to_string());
        assert!(callback.store.connections().is_empty());
    }
    assert!(reasons[0].starts_with("ExternalId is not"), "{reasons:?}");
    assert!(
        reasons[1].starts_with("the ConnectionToken is not one trackses issued"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with("the ConnectionToken is not one trackses issued"),
        "{reasons:?}"
    );
    assert!(
        reasons[3].starts_with("the link was made for us-east-1"),
        "{reasons:?}"
    );
    assert_eq!(
        work.num_calls(),
        0,
        "no role is checked for a refused stack"
    );
}

#[tokio::test]
async fn given_a_stack_connection_when_its_stack_updates_then_only_the_token_holder_changes_it() {
    let work = accepts_work();
    let callback = linked(&work);
    callback.decide(&sample("create")).await.unwrap().unwrap();
    let update = sample("update");

    let other_token = with_property(&update, "ConnectionToken", "ct_aDifferentTokenValue00000");
    let refused = refusal(callback.decide(&other_token).await.unwrap());
    assert!(matches!(refused, StackRefusal::TokenChanged), "{refused}");
    let other_topic = with_property(
        &update,
        "TopicArn",
        "arn:aws:sns:eu-west-1:210987654321:trackses-another",
    );
    let refused = refusal(callback.decide(&other_topic).await.unwrap());
    assert!(
        matches!(refused, StackRefusal::DeliveryChanged(_)),
        "{refused}"
    );
    let unchanged = callback.store.connection(CID).unwrap();
    assert_eq!(
        unchanged.role_arn(),
        sample("create")
            .properties()
            .ok()
            .map(|p| p.role_arn)
            .as_deref()
    );

    assert_eq!(callback.decide(&update).await.unwrap().unwrap(), CID);
    let updated = callback.store.connection(CID).unwrap();
    assert_eq!(
        updated.role_arn(),
        Some(update.properties().unwrap().role_arn.as_str())
    );
    assert_eq!(updated.status, ConnectionStatus::Wiring);
}

#[tokio::test]
async fn given_a_stack_connection_when_deleted_then_only_its_own_stack_removes_it() {
    let work = accepts_work();
    let callback = linked(&work);
    callback.decide(&sample("create")).await.unwrap().unwrap();
    let delete = sample("delete");

    let forged = with_property(&delete, "ConnectionToken", "ct_aDifferentTokenValue00000");
    let refused = refusal(callback.decide(&forged).await.unwrap());
    assert!(matches!(refused, StackRefusal::NotTheOwner), "{refused}");
    assert!(callback.store.connection(CID).is_some());

    assert_eq!(callback.decide(&delete).await.unwrap().unwrap(), CID);
    assert!(callback.store.connection(CID).is_none());
    // Deleting again (a redelivery, or a stack whose connection trackses already forgot)
    // succeeds, so the customer can always delete the stack.
    assert_eq!(callback.decide(&delete).await.unwrap().unwrap(), CID);
}
