//! The live demo of `make dev`: a project with a manual connection in one emulated customer
//! account, an automatic one (a scoped IAM key, wired by trackses) in another and a role one (a
//! stack created from the quick-create link) in a third, set up through the public API, and mail
//! sent through the emulated SES of all three until Ctrl-C: SES publishes the first two accounts'
//! events to their topics, SNS delivers them to the webhook; the role account's stack delivers
//! through EventBridge, and that account pauses its sending once and resumes it, so the
//! connection shows both signals. Its bounces and complaints go on to `make dev`'s receiver, and
//! open the project's two alerts, which go there too.

use std::time::Duration;

use aws_types::SdkConfig;
use serde_json::{Value, json};

use crate::customer::{CustomerAccount, TRACKSES_POLICY};
use crate::receiver::Receiver;
use crate::role_stack::{QuickCreate, create_stack_from_link, wait_stack};

pub const DEMO_ACCOUNT: &str = "111111111111";
/// The account connected in automatic mode.
pub const AUTOMATIC_ACCOUNT: &str = "111111111112";
/// The account connected in role mode, by the stack of the quick-create link.
pub const ROLE_ACCOUNT: &str = "111111111113";
pub const DEMO_REGION: &str = "eu-west-1";

pub struct DemoProject {
    pub project_id: String,
    pub api_key: String,
}

/// Calls the trackses API the way a user's script would.
pub struct ApiClient {
    pub base: String,
    http: reqwest::Client,
}

impl ApiClient {
    pub fn new(base: impl Into<String>) -> ApiClient {
        ApiClient {
            base: base.into(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Registers `topic_arn` as a manual connection of the project: its id and webhook URL.
    pub async fn connect_manual(
        &self,
        project_id: &str,
        api_key: &str,
        topic_arn: &str,
    ) -> Result<(String, String), String> {
        let connection = self
            .expect(
                reqwest::Method::POST,
                &format!("/v1/projects/{project_id}/connections"),
                api_key,
                json!({"mode": "manual", "topic_arn": topic_arn}),
                201,
            )
            .await?;
        let field = |name: &str| {
            connection[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no {name} in {connection}"))
        };
        Ok((field("id")?, field("webhook_url")?))
    }

    async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Value,
        want: u16,
    ) -> Result<Value, String> {
        let (status, value) = self.call(method, path, token, Some(body)).await?;
        if status == want {
            Ok(value)
        } else {
            Err(format!("{path} answered {status}: {value}"))
        }
    }
}

pub async fn set_up(
    api: &ApiClient,
    admin_token: &str,
    aws: &SdkConfig,
    receiver: &Receiver,
    receiver_url: &str,
) -> Result<DemoProject, String> {
    let created = api
        .expect(
            reqwest::Method::POST,
            "/v1/projects",
            admin_token,
            json!({"name": "Demo sender"}),
            201,
        )
        .await?;
    let project_id = created["project"]["id"]
        .as_str()
        .ok_or("no project id")?
        .to_owned();
    let api_key = created["api_key"].as_str().ok_or("no api key")?.to_owned();
    let customer = CustomerAccount::assume(aws, DEMO_ACCOUNT, DEMO_REGION).await?;
    let topic_arn = customer
        .create_topic(&format!("trackses-demo-{}", &project_id[4..12]), "2")
        .await?;
    let (connection_id, webhook_url) = api
        .connect_manual(&project_id, &api_key, &topic_arn)
        .await?;
    customer.subscribe_https(&topic_arn, &webhook_url).await?;
    wait_until_active(
        api,
        &format!("/v1/projects/{project_id}/connections/{connection_id}"),
        &api_key,
    )
    .await?;
    customer
        .publish_ses_events_to(
            DEMO_SENDER,
            &format!("trackses-demo-{}", &project_id[4..12]),
            &topic_arn,
        )
        .await?;
    connect_automatic(api, aws, &project_id, &api_key).await?;
    connect_role(api, aws, &project_id, &api_key).await?;
    alert_and_forward(api, &project_id, &api_key, receiver, receiver_url).await?;
    Ok(DemoProject {
        project_id,
        api_key,
    })
}

/// What a user who wants to hear about trouble does: an endpoint for bounces and complaints, a
/// webhook channel, and two rules the demo's audience (one bounce and one complaint in six
/// mails) crosses within a minute: the bounce rate at AWS's review level, and a complaint burst.
async fn alert_and_forward(
    api: &ApiClient,
    project_id: &str,
    api_key: &str,
    receiver: &Receiver,
    receiver_url: &str,
) -> Result<(), String> {
    let base = format!("/v1/projects/{project_id}");
    let endpoint = json!({"url": receiver_url, "event_types": ["bounce", "complaint"]});
    let created = api
        .expect(
            reqwest::Method::POST,
            &format!("{base}/endpoints"),
            api_key,
            endpoint,
            201,
        )
        .await?;
    receiver.trust(created["secret"].as_str().unwrap_or_default());
    let channel = json!({"type": "webhook", "url": receiver_url});
    let created = api
        .expect(
            reqwest::Method::POST,
            &format!("{base}/alert-channels"),
            api_key,
            channel,
            201,
        )
        .await?;
    receiver.trust(created["secret"].as_str().unwrap_or_default());
    let channel_ids = [created["channel"]["id"].clone()];
    for (name, condition) in [
        (
            "Bounce rate at AWS's review level",
            json!({"kind": "bounce_rate", "level": "review", "window_hours": 1, "min_sends": 10}),
        ),
        (
            "Complaint burst",
            json!({"kind": "burst", "of": "complaints", "count": 3, "minutes": 10}),
        ),
    ] {
        let rule = json!({"name": name, "condition": condition, "channel_ids": channel_ids});
        api.expect(
            reqwest::Method::POST,
            &format!("{base}/alert-rules"),
            api_key,
            rule,
            201,
        )
        .await?;
    }
    Ok(())
}

/// What a user of automatic mode does: an IAM user with trackses' policy, its key pasted into
/// trackses, and one click to attach the sending identity.
async fn connect_automatic(
    api: &ApiClient,
    aws: &SdkConfig,
    project_id: &str,
    api_key: &str,
) -> Result<(), String> {
    let customer = CustomerAccount::assume(aws, AUTOMATIC_ACCOUNT, DEMO_REGION).await?;
    customer.create_identity(AUTOMATIC_SENDER).await?;
    let (key_id, secret) = customer
        .scoped_access_key(&format!("trackses-{}", &project_id[4..12]), TRACKSES_POLICY)
        .await?;
    let connection = api
        .expect(
            reqwest::Method::POST,
            &format!("/v1/projects/{project_id}/connections"),
            api_key,
            json!({"mode": "automatic", "region": DEMO_REGION,
                   "access_key_id": key_id, "secret_access_key": secret}),
            202,
        )
        .await?;
    let cid = connection["id"].as_str().ok_or("no connection id")?;
    attach_when_active(api, project_id, api_key, cid, AUTOMATIC_SENDER).await
}

/// What a user of role mode does: open the quick-create link, click "Create stack", then attach
/// the sending identity to the stack's configuration set.
async fn connect_role(
    api: &ApiClient,
    aws: &SdkConfig,
    project_id: &str,
    api_key: &str,
) -> Result<(), String> {
    let customer = CustomerAccount::assume(aws, ROLE_ACCOUNT, DEMO_REGION).await?;
    customer.create_identity(ROLE_SENDER).await?;
    let (status, onboarding) = api
        .call(
            reqwest::Method::GET,
            &format!("/v1/projects/{project_id}/onboarding/role?region={DEMO_REGION}"),
            api_key,
            None,
        )
        .await?;
    if status != 200 {
        return Err(format!("onboarding/role answered {status}: {onboarding}"));
    }
    let link = QuickCreate::parse(
        onboarding["quick_create_url"]
            .as_str()
            .ok_or("no quick-create link")?,
    )?;
    let stack_id = create_stack_from_link(&customer, &link).await?;
    wait_stack(&customer.cloudformation, &stack_id, "CREATE_COMPLETE").await?;
    let cid = onboarding["connection_id"]
        .as_str()
        .ok_or("no connection id")?;
    attach_when_active(api, project_id, api_key, cid, ROLE_SENDER).await
}

/// The user's one click once the connection is live: trackses' set on the sending identity.
async fn attach_when_active(
    api: &ApiClient,
    project_id: &str,
    api_key: &str,
    cid: &str,
    sender: &str,
) -> Result<(), String> {
    let path = format!("/v1/projects/{project_id}/connections/{cid}");
    wait_until_active(api, &path, api_key).await?;
    api.expect(
        reqwest::Method::PUT,
        &format!("{path}/identities/{sender}"),
        api_key,
        json!({}),
        200,
    )
    .await?;
    Ok(())
}

/// Until the connection at `path` is active. SNS drops what is published before the
/// subscription is confirmed, as AWS does.
pub async fn wait_until_active(api: &ApiClient, path: &str, api_key: &str) -> Result<(), String> {
    for _ in 0..100 {
        let (_, connection) = api.call(reqwest::Method::GET, path, api_key, None).await?;
        if connection["status"] == "active" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{path} never became active"))
}

pub const DEMO_SENDER: &str = "news@demo.trackses.test";
pub const AUTOMATIC_SENDER: &str = "hello@auto.trackses.test";
pub const ROLE_SENDER: &str = "team@role.trackses.test";

/// Ordinary recipients, and the SES mailbox simulator's bounce, complaint and out-of-office.
const AUDIENCE: [&str; 6] = [
    "ana@example.com",
    "bob@example.com",
    "bounce@simulator.amazonses.com",
    "carla@example.com",
    "complaint@simulator.amazonses.com",
    "ooto@simulator.amazonses.com",
];

/// Asks the emulated SES to report that a recipient opened (and clicked in) a message: no real
/// mailbox will, here.
pub async fn engage(emulator: &str, message_id: &str, kind: &str) -> Result<(), String> {
    reqwest::Client::new()
        .post(format!("{emulator}/_trackses/ses/engagement"))
        .json(&json!({"message_id": message_id, "type": kind, "link": "https://demo.trackses.test/offer"}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// While the role account's sending is paused (by its owner, as AWS would on a review).
const ROLE_PAUSED: std::ops::Range<usize> = 12..24;

/// Whether the role account's sending changes before email `n`: paused at the start of
/// `ROLE_PAUSED`, resumed at its end.
fn role_sending_at(n: usize) -> Option<bool> {
    match n {
        _ if n == ROLE_PAUSED.start => Some(false),
        _ if n == ROLE_PAUSED.end => Some(true),
        _ => None,
    }
}

async fn pause_or_resume(customer: &CustomerAccount, enabled: bool) -> Result<(), String> {
    customer
        .ses
        .put_account_sending_attributes()
        .sending_enabled(enabled)
        .send()
        .await
        .map_err(|e| {
            format!(
                "PutAccountSendingAttributes: {}",
                aws_sdk_sesv2::error::DisplayErrorContext(&e)
            )
        })?;
    tracing::info!(account = %customer.account_id, enabled, "demo role account's sending changed");
    Ok(())
}

/// Sends one email through SES every `pace`, for `emails` emails (None: until stopped); some of
/// the ordinary recipients open it, fewer click.
pub async fn traffic(
    aws: &SdkConfig,
    emulator: &str,
    pace: Duration,
    emails: Option<usize>,
) -> Result<(), String> {
    // Two emails from each account in turn, so each sees every kind of recipient.
    let senders = [
        (
            CustomerAccount::assume(aws, DEMO_ACCOUNT, DEMO_REGION).await?,
            DEMO_SENDER,
        ),
        (
            CustomerAccount::assume(aws, AUTOMATIC_ACCOUNT, DEMO_REGION).await?,
            AUTOMATIC_SENDER,
        ),
        (
            CustomerAccount::assume(aws, ROLE_ACCOUNT, DEMO_REGION).await?,
            ROLE_SENDER,
        ),
    ];
    let mut n = 0;
    while emails.is_none_or(|max| n < max) {
        let recipient = AUDIENCE[n % AUDIENCE.len()];
        let (customer, sender) = &senders[(n / 2) % senders.len()];
        if let Some(enabled) = role_sending_at(n) {
            pause_or_resume(&senders[2].0, enabled).await?;
        }
        if *sender == ROLE_SENDER && ROLE_PAUSED.contains(&n) {
            // SES refuses to send for a paused account.
            n += 1;
            continue;
        }
        let message_id = customer
            .send_email(sender, &[recipient], &format!("Your weekly digest #{n}"))
            .await?;
        let engagement: &[&str] = match n % 3 {
            _ if !recipient.ends_with("@example.com") => &[],
            0 => &["open", "click"],
            1 => &["open"],
            _ => &[],
        };
        tracing::info!(recipient, opens_and_clicks = ?engagement, "demo email sent through SES");
        for kind in engagement {
            tokio::time::sleep(pace / 4).await;
            if let Err(e) = engage(emulator, &message_id, kind).await {
                tracing::warn!(error = %e, "demo engagement failed");
            }
        }
        tokio::time::sleep(pace).await;
        n += 1;
    }
    Ok(())
}
