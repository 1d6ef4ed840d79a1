//! The live demo of `make dev`: a project with a manual connection in an emulated customer
//! account, wired through the public API, and SES traffic flowing into it until Ctrl-C.

use std::time::Duration;

use aws_config::SdkConfig;
use chrono::Utc;
use serde_json::{Value, json};
use shared::model::EventType;

use crate::customer::CustomerAccount;
use crate::ses_traffic::{Mail, event_json};

pub const DEMO_ACCOUNT: &str = "111111111111";
pub const DEMO_REGION: &str = "eu-west-1";

pub struct DemoProject {
    pub project_id: String,
    pub api_key: String,
    pub connection_id: String,
    pub topic_arn: String,
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
    let connection = api
        .expect(
            reqwest::Method::POST,
            &format!("/v1/projects/{project_id}/connections"),
            &api_key,
            json!({"mode": "manual", "topic_arn": topic_arn}),
            201,
        )
        .await?;
    let connection_id = connection["id"]
        .as_str()
        .ok_or("no connection id")?
        .to_owned();
    let webhook_url = connection["webhook_url"].as_str().ok_or("no webhook url")?;
    customer.subscribe_https(&topic_arn, webhook_url).await?;
    Ok(DemoProject {
        project_id,
        api_key,
        connection_id,
        topic_arn,
    })
}

/// Recipients and what happens to their mail, like the SES mailbox simulator.
const AUDIENCE: [&str; 6] = [
    "ana@example.com",
    "bob@example.com",
    "bounce@simulator.amazonses.com",
    "carla@example.com",
    "complaint@simulator.amazonses.com",
    "ooto@simulator.amazonses.com",
];

/// The events one email goes through, by its recipient and a counter for variety.
fn story(recipient: &str, n: usize) -> Vec<EventType> {
    use EventType::*;
    match recipient {
        r if r.starts_with("bounce@") => vec![Send, Bounce],
        r if r.starts_with("complaint@") => vec![Send, Delivery, Complaint],
        r if r.starts_with("ooto@") => vec![Send, DeliveryDelay, Delivery],
        _ if n.is_multiple_of(3) => vec![Send, Delivery, Open, Click],
        _ if n % 3 == 1 => vec![Send, Delivery, Open],
        _ => vec![Send, Delivery],
    }
}

/// Publishes one email's story every `pace`, for `emails` emails (None: until stopped).
pub async fn traffic(
    aws: &SdkConfig,
    topic_arn: &str,
    pace: Duration,
    emails: Option<usize>,
) -> Result<(), String> {
    let customer = CustomerAccount::assume(aws, DEMO_ACCOUNT, DEMO_REGION).await?;
    let mut n = 0;
    while emails.is_none_or(|max| n < max) {
        let recipient = AUDIENCE[n % AUDIENCE.len()].to_owned();
        let mail = Mail::new(
            vec![recipient.clone()],
            &format!("Your weekly digest #{n}"),
            "weekly-digest",
        );
        let steps = story(&recipient, n);
        let names: Vec<_> = steps.iter().map(|t| t.as_str()).collect();
        tracing::info!(recipient = %recipient, events = %names.join(" → "), "demo email");
        for event_type in steps {
            let document = event_json(
                event_type,
                &mail,
                std::slice::from_ref(&recipient),
                Utc::now(),
            );
            if let Err(e) = customer.publish_ses_event(topic_arn, &document).await {
                tracing::warn!(error = %e, "demo publish failed");
            }
            tokio::time::sleep(pace / 4).await;
        }
        n += 1;
    }
    Ok(())
}
