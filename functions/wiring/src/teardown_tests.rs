//! The teardown use case against the in-memory store, with the customer's SES and SNS and the
//! wiring function itself behind the SDK's mocks (the guard installed as in production).
//! GIVEN / WHEN / THEN in each name.

use aws_sdk_lambda::operation::invoke::InvokeOutput;
use aws_sdk_sesv2::operation::delete_configuration_set::{
    DeleteConfigurationSetError, DeleteConfigurationSetOutput,
};
use aws_sdk_sesv2::operation::get_email_identity::GetEmailIdentityOutput;
use aws_sdk_sesv2::operation::list_email_identities::ListEmailIdentitiesOutput;
use aws_sdk_sesv2::operation::put_email_identity_configuration_set_attributes::PutEmailIdentityConfigurationSetAttributesOutput;
use aws_sdk_sesv2::types::{IdentityInfo, IdentityType};
use aws_sdk_sns::operation::delete_topic::DeleteTopicOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use customer::guard::Guard;
use ingest::memory::MemoryStore;
use model::{Access, ConnectionStatus, Delivery, Source};

use std::time::Duration;

use super::*;

const SET: &str = "trackses-x";
const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:trackses-x";

fn deleting() -> Connection {
    let source = Source {
        account_id: "111122223333".into(),
        region: "eu-west-1".into(),
        delivery: Delivery::Sns {
            topic_arn: TOPIC.into(),
        },
    };
    let access = Access::Automatic {
        access_key_id_last4: "WXYZ".into(),
    };
    let mut c = Connection::new(
        "con_x".into(),
        "prj_a".into(),
        access,
        ConnectionStatus::Deleting,
        source,
    );
    c.configuration_set = Some(SET.into());
    c
}

/// One page of identities (`next` names the page after it): `ours@` uses trackses' set,
/// `theirs@` another.
fn identities(next: Option<&'static str>) -> Rule {
    mock!(aws_sdk_sesv2::Client::list_email_identities).then_output(move || {
        let info = |name: &str| {
            IdentityInfo::builder()
                .identity_name(name)
                .identity_type(IdentityType::EmailAddress)
                .build()
        };
        ListEmailIdentitiesOutput::builder()
            .email_identities(info("ours@example.com"))
            .email_identities(info("theirs@example.com"))
            .set_next_token(next.map(str::to_owned))
            .build()
    })
}

fn lookups() -> Rule {
    mock!(aws_sdk_sesv2::Client::get_email_identity)
        .match_requests(|r| r.email_identity() == Some("ours@example.com"))
        .then_output(|| {
            GetEmailIdentityOutput::builder()
                .configuration_set_name(SET)
                .build()
        })
}

fn their_lookups() -> Rule {
    mock!(aws_sdk_sesv2::Client::get_email_identity)
        .match_requests(|r| r.email_identity() == Some("theirs@example.com"))
        .then_output(|| {
            GetEmailIdentityOutput::builder()
                .configuration_set_name("theirs")
                .build()
        })
}

fn detaches() -> Rule {
    mock!(aws_sdk_sesv2::Client::put_email_identity_configuration_set_attributes)
        .match_requests(|r| r.email_identity() == Some("ours@example.com"))
        .then_output(|| PutEmailIdentityConfigurationSetAttributesOutput::builder().build())
}

fn deletes_set(failing_with: Option<&'static str>) -> Rule {
    match failing_with {
        None => mock!(aws_sdk_sesv2::Client::delete_configuration_set)
            .then_output(|| DeleteConfigurationSetOutput::builder().build()),
        Some(code) => {
            mock!(aws_sdk_sesv2::Client::delete_configuration_set).then_error(move || {
                DeleteConfigurationSetError::generic(
                    ErrorMetadata::builder().code(code).message(code).build(),
                )
            })
        }
    }
}

fn deletes_topic() -> Rule {
    mock!(aws_sdk_sns::Client::delete_topic).then_output(|| DeleteTopicOutput::builder().build())
}

fn hand_off() -> Rule {
    mock!(aws_sdk_lambda::Client::invoke)
        .then_output(|| InvokeOutput::builder().status_code(202).build())
}

fn account(rules: &[&Rule]) -> CustomerAccount {
    CustomerAccount::with_clients(
        mock_client!(aws_sdk_sns, RuleMode::MatchAny, rules, |c| c
            .interceptor(Guard::default())),
        mock_client!(aws_sdk_sesv2, RuleMode::MatchAny, rules, |c| c
            .interceptor(Guard::default())),
        "111122223333",
        "eu-west-1",
    )
}

/// One teardown invocation of `connection` with `budget` to walk identity pages, the wiring
/// function itself answering as `lambda` says.
async fn tear_down(
    store: &MemoryStore,
    account: Result<CustomerAccount, AccountError>,
    connection: &Connection,
    lambda: &Rule,
    budget: Duration,
) -> Result<Reply, WiringError> {
    let itself = WiringClient::new(
        mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[lambda]),
        "wiring",
    );
    let teardown = Teardown {
        store,
        itself: &itself,
        deadline: Instant::now() + budget,
    };
    teardown.run(account, connection, None).await
}

fn store_with(connection: &Connection) -> MemoryStore {
    let store = MemoryStore::new();
    store.insert_connection(connection.clone());
    store
}

#[tokio::test]
async fn given_a_deleting_connection_when_torn_down_then_only_trackses_resources_go_and_it_is_forgotten()
 {
    let connection = deleting();
    let store = store_with(&connection);
    let (page, ours, theirs, detach) = (identities(None), lookups(), their_lookups(), detaches());
    let (set, topic, lambda) = (deletes_set(None), deletes_topic(), hand_off());
    let account = account(&[&page, &ours, &theirs, &detach, &set, &topic]);
    let reply = tear_down(
        &store,
        Ok(account),
        &connection,
        &lambda,
        Duration::from_secs(40),
    )
    .await
    .unwrap();
    assert_eq!(reply, Reply::Done);
    assert_eq!(
        detach.num_calls(),
        1,
        "only the identity using trackses' set is detached"
    );
    assert_eq!((set.num_calls(), topic.num_calls()), (1, 1));
    assert_eq!(lambda.num_calls(), 0);
    assert!(store.connection("con_x").is_none());
}

#[tokio::test]
async fn given_a_spent_budget_when_more_pages_remain_then_the_rest_is_handed_on_and_nothing_deleted()
 {
    let connection = deleting();
    let store = store_with(&connection);
    let (page, ours, theirs, detach) = (
        identities(Some("page-2")),
        lookups(),
        their_lookups(),
        detaches(),
    );
    let (set, topic) = (deletes_set(None), deletes_topic());
    let lambda = mock!(aws_sdk_lambda::Client::invoke)
        .match_requests(|r| {
            let payload = r
                .payload()
                .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned());
            payload.is_some_and(|p| p.contains(r#""resume_from":"page-2""#) && p.contains("con_x"))
        })
        .then_output(|| InvokeOutput::builder().status_code(202).build());
    let account = account(&[&page, &ours, &theirs, &detach, &set, &topic]);
    tear_down(&store, Ok(account), &connection, &lambda, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        lambda.num_calls(),
        1,
        "the next page goes to a fresh invocation"
    );
    assert_eq!((set.num_calls(), topic.num_calls()), (0, 0));
    assert_eq!(
        store.connection("con_x").unwrap().status,
        ConnectionStatus::Deleting
    );
}

#[tokio::test]
async fn given_a_refusal_or_a_throttle_when_tearing_down_then_the_connection_says_why() {
    for (code, status, retried) in [
        ("AccessDeniedException", ConnectionStatus::Error, false),
        ("TooManyRequestsException", ConnectionStatus::Deleting, true),
    ] {
        let connection = deleting();
        let store = store_with(&connection);
        let (page, ours, theirs, detach) =
            (identities(None), lookups(), their_lookups(), detaches());
        let (set, topic, lambda) = (deletes_set(Some(code)), deletes_topic(), hand_off());
        let account = account(&[&page, &ours, &theirs, &detach, &set, &topic]);
        let budget = Duration::from_secs(40);
        let result = tear_down(&store, Ok(account), &connection, &lambda, budget).await;
        // A transient failure fails the invocation, so Lambda retries it.
        assert_eq!(result.is_err(), retried, "{code}");
        let stopped = store.connection("con_x").unwrap();
        assert_eq!(stopped.status, status, "{code}");
        let said = stopped.last_error.unwrap();
        assert!(
            said.starts_with("teardown stopped:") && said.contains(SET),
            "{said}"
        );
        assert_eq!(topic.num_calls(), 0, "nothing after the step that failed");
    }
}

#[tokio::test]
async fn given_an_unreachable_account_when_tearing_down_then_nothing_is_forgotten() {
    let connection = deleting();
    let store = store_with(&connection);
    let lambda = hand_off();
    let unreachable = Err(AccountError::CannotAssumeRole);
    let budget = Duration::from_secs(40);
    tear_down(&store, unreachable, &connection, &lambda, budget)
        .await
        .unwrap();
    let kept = store.connection("con_x").unwrap();
    assert_eq!(kept.status, ConnectionStatus::Error);
    assert!(kept.last_error.unwrap().starts_with("teardown stopped:"));
}
