//! Automatic mode's customer key stays where it belongs: sealed to its own connection and project,
//! out of another tenant's reach, and kept off foreign configuration sets by the published IAM
//! policy itself, even with trackses' guard skipped.

mod common;

use common::automatic::{connect, customer_with_key};
use common::*;
use reqwest::Method;

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

/// GIVEN a project with a manual and an automatic connection of the same account and region,
/// WHEN the manual one is deleted, THEN the automatic one still holds the account: a second key
/// for it is refused, as before.
#[tokio::test]
async fn deleting_a_manual_connection_keeps_the_wired_ones_claim() {
    let h = Harness::start().await;
    let (pid, key) = h.project().await;
    let setup = customer_with_key(&h).await;
    let topic = setup
        .customer
        .create_topic(&unique("trackses-manual"), "2")
        .await
        .unwrap();
    let (manual, _) = h.connection(&pid, &key, &topic).await;
    let (status, wired) = connect(&h, &pid, &key, &setup).await;
    assert_eq!(status, 202, "{wired}");
    let (status, _) = h
        .call(
            Method::DELETE,
            &format!("/v1/projects/{pid}/connections/{manual}"),
            &key,
            None,
        )
        .await;
    assert_eq!(status, 202);
    let (status, second) = connect(&h, &pid, &key, &setup).await;
    assert_eq!(status, 409, "{second}");
}
