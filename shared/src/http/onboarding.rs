//! Role mode's two HTTP ends: the quick-create link a user asks for, and the callback topic's
//! deliveries (`POST /v1/hooks/cloudformation`), where customer stacks report in.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::api::ApiState;
use super::auth::require_project_key;
use super::connections::ses_region;
use super::problem::Problem;
use crate::customer::account::topic_arn;
use crate::ingest::Disposition;
use crate::model::KeyScope;
use crate::model::Onboarding;
use crate::onboarding::link::{StackParameters, quick_create_url, stack_name};
use crate::onboarding::{CallbackError, CallbackOutcome, StackCallback};
use crate::sns::Envelope;

pub fn routes() -> Router<Arc<ApiState>> {
    Router::new().route("/v1/projects/{pid}/onboarding/role", get(role_link))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkQuery {
    region: String,
}

/// Every call mints a new link (a new connection id and token, valid for seven days): a link
/// serves one stack, and trackses keeps only its token's hash, so it cannot show one twice.
async fn role_link(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(pid): Path<String>,
    query: Result<Query<LinkQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require_project_key(&headers, &state.store, &pid, KeyScope::Admin).await?;
    let Query(LinkQuery { region }) = query.map_err(|e| {
        Problem::bad_request(format!(
            "`region` (one where SES v2 exists) is required: {}",
            e.body_text()
        ))
    })?;
    ses_region(&region)?;
    let links = state.role_links.as_ref().ok_or_else(|| {
        Problem::mode_not_available(
            "this deployment publishes no customer template (TRACKSES_ROLE_TEMPLATE_URL) or has no account id (TRACKSES_ACCOUNT_ID)",
        )
    })?;
    let project = state
        .store
        .get_project(&pid)
        .await?
        .ok_or_else(|| Problem::not_found("project"))?;
    let (token, onboarding) = Onboarding::mint(&pid, &region, Utc::now());
    state.store.put_onboarding(&onboarding).await?;
    let cid = &onboarding.connection_id;
    let webhook_url = state.webhook_url(cid);
    let callback_topic_arn = topic_arn(&region, &links.account_id, &links.callback_topic);
    let stack = stack_name(cid);
    let url = quick_create_url(
        &region,
        &links.template_url,
        &stack,
        &StackParameters {
            trackses_account_id: &links.account_id,
            external_id: &project.external_id,
            webhook_url: &webhook_url,
            connection_token: &token,
            callback_topic_arn: &callback_topic_arn,
        },
    );
    tracing::info!(project_id = %pid, connection_id = %cid, region, "role-mode link issued");
    let body = json!({
        "quick_create_url": url,
        "template_url": links.template_url,
        "stack_name": stack,
        "external_id": project.external_id,
        "trackses_account_id": links.account_id,
        "region": region,
        "connection_id": cid,
        "webhook_url": webhook_url,
        "expires_at": crate::store::attrs::time_string(onboarding.expires_at),
    });
    // The link carries a one-stack token: no cache may keep it.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

struct CallbackState {
    callback: StackCallback,
}

/// The routes only; `http::finish` adds the problem+json fallbacks once, at the edge.
pub fn callback_routes(callback: StackCallback) -> Router {
    Router::new()
        .route("/v1/hooks/cloudformation", post(receive))
        .with_state(Arc::new(CallbackState { callback }))
}

async fn receive(State(state): State<Arc<CallbackState>>, body: Bytes) -> Response {
    let result = match Envelope::from_json(&body) {
        Ok(envelope) => state.callback.handle(&envelope).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(outcome) => {
            let status = match outcome {
                CallbackOutcome::Confirmed => "confirmed",
                CallbackOutcome::Unsubscribed => "unsubscribed",
                CallbackOutcome::Answered { success: true } => "answered-success",
                CallbackOutcome::Answered { success: false } => "answered-failed",
            };
            (StatusCode::OK, Json(json!({"status": status}))).into_response()
        }
        Err(error) => rejection(&error).into_response(),
    }
}

fn rejection(error: &CallbackError) -> Problem {
    match error.disposition() {
        Disposition::Malformed => {
            tracing::warn!(reason = %error, "callback message rejected as malformed");
            Problem::bad_request(error.to_string())
        }
        Disposition::Forbidden => {
            tracing::warn!(reason = %error, "callback message refused");
            Problem::forbidden(error.to_string())
        }
        Disposition::Retry => {
            tracing::error!(error = %error, "callback message failed; SNS delivers it again");
            Problem::unavailable(error)
        }
    }
}
