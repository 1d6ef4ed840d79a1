//! What every API route shares: the state built once per cold start, and the helpers that read
//! it the same way on every route.

use std::sync::Arc;

use axum::extract::State;
use edge::Problem;
use model::region::is_ses_region;
use model::{Connection, ids};
use onboarding::link::RoleLinks;
use serde::Serialize;
use store::Store;
use url::Url;

use connect::Connector;

pub struct ApiState {
    pub store: Store,
    pub admin_token: Option<String>,
    pub public_url: Url,
    /// Automatic mode's side of the API; `None` where it is not configured.
    pub connector: Option<Connector>,
    /// Role mode's quick-create links; `None` where the deployment publishes no template.
    pub role_links: Option<RoleLinks>,
}

pub type Shared = State<Arc<ApiState>>;

impl edge::auth::KeyStore for ApiState {
    fn key_store(&self) -> &Store {
        &self.store
    }
}

/// A connection as the API shows it: never a secret.
#[derive(Serialize)]
struct ConnectionView<'a> {
    #[serde(flatten)]
    connection: &'a Connection,
    webhook_url: String,
}

impl ApiState {
    /// Where SNS must deliver for `cid`.
    pub fn webhook_url(&self, cid: &str) -> String {
        model::connection::webhook_url(&self.public_url, cid)
    }

    pub fn view(&self, connection: &Connection) -> serde_json::Value {
        let view = ConnectionView {
            connection,
            webhook_url: self.webhook_url(&connection.id),
        };
        serde_json::to_value(view).unwrap_or_default()
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

/// A region the API accepts for a connection or a link.
pub fn ses_region(region: &str) -> Result<(), Problem> {
    if is_ses_region(region) {
        Ok(())
    } else {
        Err(Problem::bad_request(format!(
            "`region` {region:?} is not a region where SES v2 exists"
        )))
    }
}
