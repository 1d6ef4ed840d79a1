//! The connect use case against the in-memory store, with the wiring function behind the SDK's
//! own mocks (the same Lambda client and protocol as deployed): GIVEN / WHEN / THEN in each name.

use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_lambda::types::error::ServiceException;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use chrono::Utc;
use customer::crypto::Envelope;
use ingest::IngestStore;
use ingest::memory::MemoryStore;
use model::wiring::{Refusal, Reply};
use model::{Access, ConnectionStatus, Stack};
use wiring_client::WiringClient;

use super::*;

const ROLE: &str = "arn:aws:iam::210987654321:role/trackses-access";
const TOPIC: &str = "arn:aws:sns:eu-west-1:210987654321:orders-events";

/// The wiring function as `rules` answer it (Lambda Invoke), and a KMS key never used here.
fn connector(rules: &[&Rule]) -> Connector {
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, rules);
    let kms = mock_client!(aws_sdk_kms, RuleMode::MatchAny, &[]);
    Connector {
        envelope: Envelope::new(kms, "alias/trackses-secrets"),
        aws: aws_types::SdkConfig::builder().build(),
        wiring: WiringClient::new(lambda, "wiring"),
    }
}

/// Request/response invocations (questions such as a role's proof) answered with `reply`.
fn answers(reply: Reply) -> Rule {
    mock!(aws_sdk_lambda::Client::invoke)
        .match_requests(|r| r.invocation_type() != Some(&InvocationType::Event))
        .then_output(move || {
            InvokeOutput::builder()
                .status_code(200)
                .payload(Blob::new(serde_json::to_vec(&reply).unwrap()))
                .build()
        })
}

/// Asynchronous invocations (wiring, teardown) accepted.
fn accepts_work() -> Rule {
    mock!(aws_sdk_lambda::Client::invoke)
        .match_requests(|r| r.invocation_type() == Some(&InvocationType::Event))
        .then_output(|| InvokeOutput::builder().status_code(202).build())
}

/// Asynchronous invocations refused by Lambda itself (throttled, deleted, …).
fn refuses_work() -> Rule {
    mock!(aws_sdk_lambda::Client::invoke)
        .match_requests(|r| r.invocation_type() == Some(&InvocationType::Event))
        .then_error(|| InvokeError::ServiceException(ServiceException::builder().build()))
}

fn role(region: &str) -> NewConnection {
    NewConnection::Role {
        region: region.into(),
        role_arn: ROLE.into(),
    }
}

fn wiring_connection(registered: Registered) -> Connection {
    match registered {
        Registered::Wiring(connection) => connection,
        Registered::Manual { .. } => panic!("a wired mode registered as manual"),
    }
}

#[tokio::test]
async fn given_a_topic_when_connected_manually_then_it_waits_for_its_proof() {
    let store = MemoryStore::new();
    let new = NewConnection::Manual {
        topic_arn: TOPIC.into(),
    };
    let Registered::Manual {
        connection,
        proof_message,
        proof,
    } = connect(&store, None, "prj_a".into(), new).await.unwrap()
    else {
        panic!("a manual connection needs no wiring");
    };
    let stored = store.connection(&connection.id).unwrap();
    assert_eq!(stored.status, ConnectionStatus::Pending);
    assert_eq!(
        (stored.account_id.as_str(), stored.region.as_str()),
        ("210987654321", "eu-west-1")
    );
    // The proof shown once is the one the store routes by.
    assert_eq!(
        TopicProof::hash_of(&proof_message),
        Some(proof.token_sha256.clone())
    );
    let routed = IngestStore::topic_proof_connection(&store, &proof.token_sha256, Utc::now());
    assert_eq!(routed.await.unwrap().map(|c| c.id), Some(connection.id));
}

#[tokio::test]
async fn given_bad_input_when_connecting_then_refused_and_nothing_stored() {
    let store = MemoryStore::new();
    let wiring = connector(&[]);
    let cases = [
        NewConnection::Manual {
            topic_arn: "arn:aws:sqs:eu-west-1:210987654321:q".into(),
        },
        role("mars-north-1"),
        NewConnection::Role {
            region: "eu-west-1".into(),
            role_arn: "arn:aws:iam::210987654321:user/not-a-role".into(),
        },
        NewConnection::Automatic {
            region: "eu-west-1".into(),
            key: AccessKey {
                id: "AKIA short".into(),
                secret: String::from("x").into(),
            },
        },
    ];
    for new in cases {
        let error = connect(&store, Some(&wiring), "prj_a".into(), new).await;
        assert!(
            matches!(
                error,
                Err(ConnectError::InvalidTopic(_)
                    | ConnectError::NotAnSesRegion(_)
                    | ConnectError::InvalidRole(_)
                    | ConnectError::MalformedKey)
            ),
            "{:?}",
            error.err()
        );
    }
    assert!(store.connections().is_empty());
}

#[tokio::test]
async fn given_no_wiring_function_when_a_role_connects_then_the_mode_is_not_available() {
    let store = MemoryStore::new();
    let error = connect(&store, None, "prj_a".into(), role("eu-west-1")).await;
    assert!(matches!(error, Err(ConnectError::ModeNotAvailable)));
    assert!(store.connections().is_empty());
}

#[tokio::test]
async fn given_a_role_that_fails_its_proof_when_connecting_then_refused_and_nothing_stored() {
    let store = MemoryStore::new();
    let refused = answers(Reply::refused(Refusal::Invalid, "the role trusts anyone"));
    let wiring = connector(&[&refused, &accepts_work()]);
    let error = connect(&store, Some(&wiring), "prj_a".into(), role("eu-west-1")).await;
    assert!(
        matches!(&error, Err(ConnectError::Refused { reason: Refusal::Invalid, detail }) if detail == "the role trusts anyone"),
        "{:?}",
        error.err()
    );
    assert!(store.connections().is_empty());
}

#[tokio::test]
async fn given_a_proven_role_when_connected_then_it_is_wired_once_per_account_and_region() {
    let store = MemoryStore::new();
    let (proven, work) = (answers(Reply::Done), accepts_work());
    let wiring = connector(&[&proven, &work]);
    let first = connect(&store, Some(&wiring), "prj_a".into(), role("eu-west-1"));
    let connection = wiring_connection(first.await.unwrap());
    let stored = store.connection(&connection.id).unwrap();
    assert_eq!(stored.status, ConnectionStatus::Wiring);
    assert_eq!(stored.role_arn(), Some(ROLE));
    assert_eq!(
        stored.configuration_set,
        Some(resource_name(&connection.id))
    );
    assert!(
        stored
            .topic_arn()
            .unwrap()
            .ends_with(&resource_name(&connection.id))
    );
    assert_eq!(work.num_calls(), 1, "one wiring run started");

    // The same account and region again in the same project: refused, the first untouched.
    let again = connect(&store, Some(&wiring), "prj_a".into(), role("eu-west-1")).await;
    assert!(
        matches!(again, Err(ConnectError::AlreadyConnected { .. })),
        "{:?}",
        again.err()
    );
    assert_eq!(store.connections(), vec![stored]);
    // Another project may connect the same account: claims are per project.
    let other = connect(&store, Some(&wiring), "prj_b".into(), role("eu-west-1")).await;
    assert!(other.is_ok());
}

#[tokio::test]
async fn given_the_wiring_function_unreachable_when_connecting_then_nothing_stays_behind() {
    let store = MemoryStore::new();
    let wiring = connector(&[&answers(Reply::Done), &refuses_work()]);
    let error = connect(&store, Some(&wiring), "prj_a".into(), role("eu-west-1")).await;
    assert!(
        matches!(error, Err(ConnectError::Unavailable(_))),
        "{:?}",
        error.err()
    );
    assert!(store.connections().is_empty());
    // The claim went with it: the account can be connected once Lambda answers again.
    let healthy = connector(&[&answers(Reply::Done), &accepts_work()]);
    let retried = connect(&store, Some(&healthy), "prj_a".into(), role("eu-west-1")).await;
    assert!(retried.is_ok());
}

#[tokio::test]
async fn given_a_manual_or_stack_connection_when_disconnected_then_it_is_forgotten_at_once() {
    let store = MemoryStore::new();
    let manual = NewConnection::Manual {
        topic_arn: TOPIC.into(),
    };
    let Registered::Manual { connection, .. } =
        connect(&store, None, "prj_a".into(), manual).await.unwrap()
    else {
        panic!("manual");
    };
    let gone = disconnect(&store, None, connection.clone()).await.unwrap();
    assert!(matches!(gone, Disconnected::Forgotten { remaining: None }));
    assert!(store.connection(&connection.id).is_none());

    let mut stacked = connection;
    stacked.id = "con_stack".into();
    stacked.access = Access::Role {
        role_arn: ROLE.into(),
        stack: Some(Stack {
            stack_id: "arn:aws:cloudformation:eu-west-1:210987654321:stack/s/1".into(),
            token_sha256: Some("digest".into()),
        }),
    };
    store.insert_connection(stacked.clone());
    let Disconnected::Forgotten {
        remaining: Some(remaining),
    } = disconnect(&store, None, stacked).await.unwrap()
    else {
        panic!("a stack's connection is forgotten, its stack named");
    };
    assert!(remaining.contains("stack/s/1"), "{remaining}");
    assert!(store.connection("con_stack").is_none());
}

#[tokio::test]
async fn given_a_wired_connection_when_disconnected_then_one_teardown_starts_or_none_changes() {
    let store = MemoryStore::new();
    let (proven, work) = (answers(Reply::Done), accepts_work());
    let wiring = connector(&[&proven, &work]);
    let registered = connect(&store, Some(&wiring), "prj_a".into(), role("eu-west-1"));
    let connection = wiring_connection(registered.await.unwrap());
    let tearing = disconnect(&store, Some(&wiring), connection.clone())
        .await
        .unwrap();
    assert!(
        matches!(&tearing, Disconnected::TearingDown(c) if c.status == ConnectionStatus::Deleting)
    );
    assert_eq!(work.num_calls(), 2, "the wiring run, then one teardown");
    // Asked again while it runs: no second teardown.
    let deleting = store.connection(&connection.id).unwrap();
    disconnect(&store, Some(&wiring), deleting).await.unwrap();
    assert_eq!(work.num_calls(), 2);

    // Lambda refusing the teardown leaves the connection as it was.
    let other = connect(&store, Some(&wiring), "prj_b".into(), role("eu-west-1"));
    let other = wiring_connection(other.await.unwrap());
    let broken = connector(&[&refuses_work()]);
    let error = disconnect(&store, Some(&broken), other.clone()).await;
    assert!(
        matches!(error, Err(ConnectError::Unavailable(_))),
        "{:?}",
        error.err()
    );
    assert_eq!(
        store.connection(&other.id).unwrap().status,
        ConnectionStatus::Wiring
    );
}

#[tokio::test]
async fn given_a_manual_and_a_wired_connection_of_one_account_when_the_manual_goes_then_the_claim_stays()
 {
    let store = MemoryStore::new();
    let (proven, work) = (answers(Reply::Done), accepts_work());
    let wiring = connector(&[&proven, &work]);
    let manual = NewConnection::Manual {
        topic_arn: TOPIC.into(),
    };
    let Registered::Manual { connection, .. } =
        connect(&store, None, "prj_a".into(), manual).await.unwrap()
    else {
        panic!("manual");
    };
    connect(&store, Some(&wiring), "prj_a".into(), role("eu-west-1"))
        .await
        .unwrap();
    disconnect(&store, None, connection).await.unwrap();
    // The role connection still holds the account and region for the project.
    let again = connect(&store, Some(&wiring), "prj_a".into(), role("eu-west-1")).await;
    assert!(
        matches!(again, Err(ConnectError::AlreadyConnected { .. })),
        "{:?}",
        again.err()
    );
}
