//! What every API route shares: the state built once per cold start, and the helpers that read
//! it the same way on every route.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use edge::Problem;
use model::wiring::Refusal;
use model::{Connection, ids};
use onboarding::link::RoleLinks;
use store::Store;
use url::Url;

use connect::{ConnectError, Connector};

use crate::views::ConnectionView;

pub struct ApiState {
    pub store: Store,
    pub admin_token: Option<String>,
    /// Where new subscriptions deliver (`Config::webhook_bases`).
    pub webhook_base: Url,
    /// Automatic mode's side of the API; `None` where it is not configured.
    pub connector: Option<Connector>,
    /// Role mode's quick-create links; `None` where the deployment publishes no template.
    pub role_links: Option<RoleLinks>,
    /// Where replays go; `None` where the deployment has no deliveries queue.
    pub jobs: Option<forwarding::JobQueue>,
    /// Where e-mail channels' confirmations go; `None` where the deployment sends no e-mail.
    pub mail: Option<forwarding::JobQueue>,
    /// Which endpoint URLs are accepted (`outbound::Reach`).
    pub endpoint_reach: outbound::Reach,
}

pub type Shared = State<Arc<ApiState>>;

impl edge::auth::KeyStore for ApiState {
    fn key_store(&self) -> &Store {
        &self.store
    }
}

impl ApiState {
    /// Where SNS must deliver for `cid`.
    pub fn webhook_url(&self, cid: &str) -> String {
        model::connection::webhook_url(&self.webhook_base, cid)
    }

    pub fn view(&self, connection: &Connection) -> ConnectionView {
        ConnectionView {
            connection: connection.clone(),
            webhook_url: connection
                .topic_arn()
                .map(|_| self.webhook_url(&connection.id)),
            topic_proof: None,
        }
    }

    pub async fn project_connection(&self, pid: &str, cid: &str) -> Result<Connection, Problem> {
        if !ids::is_key_safe(cid) {
            return Err(Problem::not_found("connection"));
        }
        self.store
            .get_connection(cid)
            .await?
            .filter(|c| c.project_id == pid)
            .ok_or_else(|| Problem::not_found("connection"))
    }
}

/// Puts `job` on `queue`, which the deployment may not have.
pub async fn enqueue(
    queue: Option<&forwarding::JobQueue>,
    job: forwarding::Job,
) -> Result<(), Problem> {
    let queue =
        queue.ok_or_else(|| Problem::mode_not_available("this deployment has no such queue"))?;
    match queue.send(std::slice::from_ref(&job)).await[..] {
        [true] => Ok(()),
        _ => Err(Problem::unavailable(&"a queue refused a job")),
    }
}

/// The one mapping of the use case's failures to answers.
pub fn connect_problem(error: ConnectError) -> Problem {
    match error {
        ConnectError::NotAnSesRegion(_)
        | ConnectError::InvalidTopic(_)
        | ConnectError::InvalidRole(_)
        | ConnectError::MalformedKey
        | ConnectError::KeyRefused(_)
        | ConnectError::RootKey => Problem::bad_request(error.to_string()),
        ConnectError::AlreadyConnected { .. } => Problem::conflict(error.to_string()),
        ConnectError::ModeNotAvailable => Problem::mode_not_available(error.to_string()),
        ConnectError::Refused { reason, detail } => refusal(reason, detail),
        ConnectError::Unavailable(cause) => Problem::unavailable(&cause),
        ConnectError::Store(e) => Problem::unavailable(&e),
    }
}

fn refusal(reason: Refusal, detail: String) -> Problem {
    match reason {
        Refusal::Invalid => Problem::bad_request(detail),
        Refusal::NotFound => Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail),
        Refusal::Conflict => Problem::conflict(detail),
    }
}
