//! Throttling and permission errors, which the emulator cannot produce, through the SDK's
//! own mocks: the same clients, guard and classification as in production.
use super::*;

#[test]
fn topics_default_to_the_published_https_retry_policy() {
    let policy: serde_json::Value = serde_json::from_str(&https_delivery_policy()).unwrap();
    let retry: serde_json::Value = serde_json::from_str(HTTPS_RETRY_POLICY).unwrap();
    assert!(retry["numRetries"].is_u64(), "{retry}");
    assert_eq!(policy["http"]["defaultHealthyRetryPolicy"], retry);
}

#[test]
fn the_event_destination_asks_for_every_published_type() {
    let types = published_event_types();
    assert_eq!(types.len(), model::EventType::published().count());
    assert!(
        types
            .iter()
            .all(|t| EventType::values().contains(&t.as_str())),
        "{types:?}"
    );
}
use aws_sdk_sesv2::operation::get_email_identity::{GetEmailIdentityError, GetEmailIdentityOutput};
use aws_sdk_sesv2::operation::list_email_identities::{
    ListEmailIdentitiesError, ListEmailIdentitiesOutput,
};
use aws_sdk_sesv2::types::error::{BadRequestException, NotFoundException};
use aws_sdk_sesv2::types::{IdentityInfo, IdentityType};
use aws_sdk_sns::operation::create_topic::{CreateTopicError, CreateTopicOutput};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

fn sns_error(code: &str) -> CreateTopicError {
    CreateTopicError::generic(ErrorMetadata::builder().code(code).message(code).build())
}

fn account(rules: &[&Rule]) -> CustomerAccount {
    account_with(RuleMode::Sequential, rules)
}

fn account_with(mode: RuleMode, rules: &[&Rule]) -> CustomerAccount {
    CustomerAccount {
        sns: mock_client!(aws_sdk_sns, mode, rules, |c| c
            .interceptor(Guard::default())
            .retry_config(RetryConfig::standard().with_max_attempts(3))),
        ses: mock_client!(aws_sdk_sesv2, mode, rules, |c| c
            .interceptor(Guard::default())),
        account_id: "111122223333".into(),
        region: "eu-west-1".into(),
    }
}

fn topic_ok() -> CreateTopicOutput {
    CreateTopicOutput::builder()
        .topic_arn("arn:aws:sns:eu-west-1:111122223333:trackses-x")
        .build()
}

#[tokio::test]
async fn throttling_is_retried_with_backoff_then_succeeds() {
    let rule = mock!(aws_sdk_sns::Client::create_topic)
        .sequence()
        .error(|| sns_error("Throttling"))
        .times(2)
        .output(topic_ok)
        .build();
    let arn = account(&[&rule]).create_topic("trackses-x").await.unwrap();
    assert!(arn.ends_with(":trackses-x"));
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn persistent_throttling_is_transient() {
    let rule = mock!(aws_sdk_sns::Client::create_topic)
        .sequence()
        .error(|| sns_error("Throttling"))
        .repeatedly()
        .build();
    let error = account(&[&rule])
        .create_topic("trackses-x")
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn a_missing_permission_is_named_and_not_retried() {
    let rule = mock!(aws_sdk_sns::Client::create_topic)
        .sequence()
        .error(|| sns_error("AuthorizationError"))
        .repeatedly()
        .build();
    let error = account(&[&rule])
        .create_topic("trackses-x")
        .await
        .unwrap_err();
    assert_eq!(
        error,
        AccountError::Denied {
            permission: "sns:CreateTopic"
        }
    );
    assert!(error.to_string().contains("customer-iam-policy.json"));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_revoked_key_says_so() {
    let rule =
        mock!(aws_sdk_sns::Client::create_topic).then_error(|| sns_error("InvalidClientTokenId"));
    let error = account(&[&rule])
        .create_topic("trackses-x")
        .await
        .unwrap_err();
    assert_eq!(error, AccountError::InvalidCredentials);
}

/// The read that decides a detach and the write are one call: a set that is not ours by
/// the time of the read is never cleared.
#[tokio::test]
async fn detach_clears_only_the_set_it_just_read_as_ours() {
    use aws_sdk_sesv2::operation::get_email_identity::GetEmailIdentityOutput;
    use aws_sdk_sesv2::operation::put_email_identity_configuration_set_attributes::PutEmailIdentityConfigurationSetAttributesOutput as PutOutput;
    for (current, want, puts) in [
        ("marketing", Detach::OtherSet("marketing".into()), 0),
        ("trackses-1", Detach::Detached, 1),
    ] {
        let get = mock!(aws_sdk_sesv2::Client::get_email_identity).then_output(move || {
            GetEmailIdentityOutput::builder()
                .configuration_set_name(current)
                .build()
        });
        let put = mock!(aws_sdk_sesv2::Client::put_email_identity_configuration_set_attributes)
            .then_output(|| PutOutput::builder().build());
        let found = account(&[&get, &put])
            .detach("news@example.com", "trackses-1")
            .await
            .unwrap();
        assert_eq!(found, want);
        assert_eq!(put.num_calls(), puts, "{current}");
    }
}

#[tokio::test]
async fn the_guard_stops_calls_before_they_leave() {
    use aws_smithy_http_client::test_util::capture_request;
    let (http, sent) = capture_request(None);
    let ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::Config::builder()
            .with_test_defaults_v2()
            .http_client(http)
            .interceptor(Guard::default())
            .build(),
    );
    let result = ses.send_email().from_email_address("a@b.c").send().await;
    let refused = AccountError::from_sdk("ses:SendEmail", result.unwrap_err());
    assert!(matches!(refused, AccountError::Refused(_)), "{refused}");
    sent.expect_no_request();

    let sns_with = |http| {
        aws_sdk_sns::Client::from_conf(
            aws_sdk_sns::Config::builder()
                .with_test_defaults_v2()
                .http_client(http)
                .interceptor(Guard::default())
                .build(),
        )
    };
    let (http, sent) = capture_request(None);
    let result = sns_with(http).create_topic().name("orders").send().await;
    let refused = AccountError::from_sdk("sns:CreateTopic", result.unwrap_err());
    assert!(matches!(refused, AccountError::Refused(_)), "{refused}");
    sent.expect_no_request();
    // The same client does send what the guard allows.
    let (http, sent) = capture_request(None);
    let _ = sns_with(http)
        .create_topic()
        .name("trackses-x")
        .send()
        .await;
    sent.expect_request();
}

fn listed(names: &[&str], next_token: Option<&str>) -> ListEmailIdentitiesOutput {
    ListEmailIdentitiesOutput::builder()
        .set_email_identities(Some(
            names
                .iter()
                .map(|n| IdentityInfo::builder().identity_name(*n).build())
                .collect(),
        ))
        .set_next_token(next_token.map(str::to_owned))
        .build()
}

/// GetEmailIdentity as SES answers it: `gone@x` was deleted after the listing, `a@x` uses
/// a trackses set, the rest none.
fn looked_up() -> Rule {
    mock!(aws_sdk_sesv2::Client::get_email_identity).then_compute_response(|request| match request
        .email_identity()
    {
        Some("gone@x") => MockResponse::Error(GetEmailIdentityError::NotFoundException(
            NotFoundException::builder().build(),
        )),
        name => MockResponse::Output(
            GetEmailIdentityOutput::builder()
                .identity_type(IdentityType::EmailAddress)
                .verified_for_sending_status(true)
                .set_configuration_set_name((name == Some("a@x")).then(|| "trackses-1".to_owned()))
                .build(),
        ),
    })
}

#[tokio::test]
async fn a_page_is_one_listing_looked_up_sorted_with_the_next_token() {
    let list = mock!(aws_sdk_sesv2::Client::list_email_identities)
        .match_requests(|r| r.next_token() == Some("T1") && r.page_size() == Some(PAGE_SIZE))
        .then_output(|| listed(&["c@x", "gone@x", "a@x", "b@x"], Some("T2")));
    let get = looked_up();
    let page = account_with(RuleMode::MatchAny, &[&list, &get])
        .identity_page(Some("T1"))
        .await
        .unwrap();
    let names: Vec<_> = page
        .identities
        .iter()
        .map(|i| i.identity.as_str())
        .collect();
    assert_eq!(names, ["a@x", "b@x", "c@x"]);
    assert_eq!(
        page.identities[0].configuration_set.as_deref(),
        Some("trackses-1")
    );
    assert_eq!(page.identities[1].configuration_set, None);
    assert_eq!(page.next_token.as_deref(), Some("T2"));
    assert_eq!((list.num_calls(), get.num_calls()), (1, 4));
}

#[tokio::test]
async fn a_token_ses_refuses_is_said_to_be_one() {
    let list = mock!(aws_sdk_sesv2::Client::list_email_identities).then_error(|| {
        ListEmailIdentitiesError::BadRequestException(
            BadRequestException::builder()
                .message("Invalid token")
                .build(),
        )
    });
    let account = account_with(RuleMode::MatchAny, &[&list]);
    let refused = account.identity_page(Some("stale")).await.unwrap_err();
    assert_eq!(refused, AccountError::InvalidNextToken);
    // Without a token, a bad request is not about one.
    let failed = account.identity_page(None).await.unwrap_err();
    assert!(matches!(failed, AccountError::Failed { .. }), "{failed}");
}
