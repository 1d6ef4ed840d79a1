//! Forwarding endpoints over HTTP: registering one (its signing secret shown once), reading,
//! pausing, resuming, replaying, rotating its secret, deleting it, and its dead letters.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use edge::auth::{AdminKey, ReadKey};
use edge::problem::{Problem, json_body};
use forwarding::Job;
use model::endpoint::MAX_ENDPOINTS_PER_PROJECT;
use model::{DeadLetter, Endpoint, EventType, ids};
use outbound::SigningSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::projects::Pid;
use crate::state::{ApiState, Shared};
use crate::views::Items;

pub fn routes() -> OpenApiRouter<Arc<ApiState>> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, delete_endpoint))
        .routes(routes!(pause_endpoint))
        .routes(routes!(resume_endpoint))
        .routes(routes!(replay_endpoint))
        .routes(routes!(rotate_endpoint_secret))
        .routes(routes!(list_dead_letters))
}

/// How long a rotated-out secret keeps signing beside the new one, so receivers can switch.
const ROTATION_OVERLAP: TimeDelta = TimeDelta::hours(24);
/// Dead letters one read returns (newest first).
const DEAD_LETTERS_SHOWN: usize = 100;

/// One endpoint of a project.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct EndpointPath {
    /// The project id (`prj_…`).
    pid: String,
    /// The endpoint id (`ep_…`); one of another project gets 404.
    eid: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewEndpoint {
    /// `https://`, to a public address (a private, loopback, link-local or metadata address is
    /// refused, here and on every delivery after DNS resolution); at most 2,048 characters.
    url: String,
    /// The event types it receives; every type when left out or empty.
    #[serde(default)]
    event_types: Vec<EventType>,
    /// Only this connection's events, when set.
    connection_id: Option<String>,
}

/// A new endpoint and its signing secret: the only time the secret is shown.
#[derive(Serialize, ToSchema)]
struct EndpointCreated {
    endpoint: Endpoint,
    /// Standard Webhooks secret (`whsec_…`) to verify `webhook-signature` with.
    secret: String,
}

/// A rotated secret: the only time it is shown. The previous one signs beside it for 24 hours.
#[derive(Serialize, ToSchema)]
struct SecretRotated {
    secret: String,
    previous_valid_until: DateTime<Utc>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Replay {
    /// Events that arrived from this time on are delivered again (within the retention).
    from: DateTime<Utc>,
    /// Up to this time; now when left out.
    to: Option<DateTime<Utc>>,
}

/// A replay under way: its deliveries are queued page by page.
#[derive(Serialize, ToSchema)]
struct ReplayStarted {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[utoipa::path(post, path = "/v1/projects/{pid}/endpoints", tag = "forwarding", params(Pid),
    request_body = NewEndpoint, security(("project_key" = [])),
    responses((status = 201, description = "The endpoint and its signing secret (shown once)", body = EndpointCreated)))]
async fn create_endpoint(
    State(state): Shared,
    _key: AdminKey,
    Path(Pid { pid }): Path<Pid>,
    body: Bytes,
) -> Result<Response, Problem> {
    let new: NewEndpoint = json_body(&body)?;
    let url = outbound::address::check_url(new.url.trim(), state.endpoint_reach)
        .map_err(|e| Problem::bad_request(format!("`url`: {e}")))?;
    if let Some(cid) = &new.connection_id {
        state.project_connection(&pid, cid).await?;
    }
    let mut event_types = new.event_types;
    event_types.sort();
    event_types.dedup();
    if event_types.contains(&EventType::Unknown) {
        return Err(Problem::bad_request(
            "`event_types`: `unknown` is not a type SES publishes",
        ));
    }
    let endpoint = Endpoint {
        id: ids::endpoint_id(),
        project_id: pid,
        url: url.to_string(),
        event_types,
        connection_id: new.connection_id,
        paused_at: None,
        created_at: Utc::now(),
    };
    let secret = SigningSecret::generate();
    if !state
        .store
        .create_endpoint(&endpoint, &secret.reveal())
        .await?
    {
        return Err(Problem::conflict(format!(
            "a project has at most {MAX_ENDPOINTS_PER_PROJECT} endpoints"
        )));
    }
    tracing::info!(project_id = %endpoint.project_id, endpoint_id = %endpoint.id, "endpoint created");
    let created = EndpointCreated {
        endpoint,
        secret: secret.reveal().to_string(),
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

#[utoipa::path(get, path = "/v1/projects/{pid}/endpoints", tag = "forwarding", params(Pid),
    security(("project_key" = [])), responses((status = 200, body = Items<Endpoint>)))]
async fn list_endpoints(
    State(state): Shared,
    _key: ReadKey,
    Path(Pid { pid }): Path<Pid>,
) -> Result<Json<Items<Endpoint>>, Problem> {
    Ok(Json(Items {
        items: state.store.endpoints(&pid).await?,
    }))
}

#[utoipa::path(get, path = "/v1/projects/{pid}/endpoints/{eid}", tag = "forwarding",
    params(EndpointPath), security(("project_key" = [])), responses((status = 200, body = Endpoint)))]
async fn get_endpoint(
    State(state): Shared,
    _key: ReadKey,
    Path(EndpointPath { pid, eid }): Path<EndpointPath>,
) -> Result<Json<Endpoint>, Problem> {
    Ok(Json(project_endpoint(&state, &pid, &eid).await?))
}

#[utoipa::path(delete, path = "/v1/projects/{pid}/endpoints/{eid}", tag = "forwarding",
    params(EndpointPath), security(("project_key" = [])),
    responses((status = 204, description = "Deleted: its queued deliveries are dropped")))]
async fn delete_endpoint(
    State(state): Shared,
    _key: AdminKey,
    Path(EndpointPath { pid, eid }): Path<EndpointPath>,
) -> Result<StatusCode, Problem> {
    if !ids::is_key_safe(&eid) || !state.store.delete_endpoint(&pid, &eid).await? {
        return Err(Problem::not_found("endpoint"));
    }
    tracing::info!(project_id = %pid, endpoint_id = %eid, "endpoint deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/projects/{pid}/endpoints/{eid}/pause", tag = "forwarding",
    params(EndpointPath), security(("project_key" = [])),
    responses((status = 200, description = "Paused: nothing is delivered until it is resumed", body = Endpoint)))]
async fn pause_endpoint(
    State(state): Shared,
    _key: AdminKey,
    Path(EndpointPath { pid, eid }): Path<EndpointPath>,
) -> Result<Json<Endpoint>, Problem> {
    project_endpoint(&state, &pid, &eid).await?;
    state
        .store
        .set_endpoint_paused(&pid, &eid, Some(Utc::now()))
        .await?;
    Ok(Json(project_endpoint(&state, &pid, &eid).await?))
}

#[utoipa::path(post, path = "/v1/projects/{pid}/endpoints/{eid}/resume", tag = "forwarding",
    params(EndpointPath), security(("project_key" = [])),
    responses((status = 200, description = "Resumed: what arrived while it was paused is delivered", body = Endpoint)))]
async fn resume_endpoint(
    State(state): Shared,
    _key: AdminKey,
    Path(EndpointPath { pid, eid }): Path<EndpointPath>,
) -> Result<Json<Endpoint>, Problem> {
    project_endpoint(&state, &pid, &eid).await?;
    let before = state
        .store
        .set_endpoint_paused(&pid, &eid, None)
        .await?
        .ok_or_else(|| Problem::not_found("endpoint"))?;
    // Resumed first, so that what arrives from now on is forwarded as it lands; the replay
    // covers the pause up to now. Should the queue refuse it, the endpoint is paused again, as
    // it was, and the answer says to retry.
    if let Some(paused_at) = before.paused_at
        && let Err(problem) = enqueue(&state, Job::replay(&pid, &eid, paused_at, Utc::now())).await
    {
        state
            .store
            .set_endpoint_paused(&pid, &eid, Some(paused_at))
            .await?;
        return Err(problem);
    }
    Ok(Json(project_endpoint(&state, &pid, &eid).await?))
}

#[utoipa::path(post, path = "/v1/projects/{pid}/endpoints/{eid}/replay", tag = "forwarding",
    params(EndpointPath), request_body = Replay, security(("project_key" = [])),
    responses((status = 202, description = "Every matching event of the span is delivered again, with its own id", body = ReplayStarted)))]
async fn replay_endpoint(
    State(state): Shared,
    _key: AdminKey,
    Path(EndpointPath { pid, eid }): Path<EndpointPath>,
    body: Bytes,
) -> Result<Response, Problem> {
    let Replay { from, to } = json_body(&body)?;
    let now = Utc::now();
    let to = to.unwrap_or(now).min(now);
    if from > to {
        return Err(Problem::bad_request(
            "`from` must be before `to` and not in the future",
        ));
    }
    project_endpoint(&state, &pid, &eid).await?;
    enqueue(&state, Job::replay(&pid, &eid, from, to)).await?;
    tracing::info!(project_id = %pid, endpoint_id = %eid, %from, %to, "replay started");
    Ok((StatusCode::ACCEPTED, Json(ReplayStarted { from, to })).into_response())
}

#[utoipa::path(post, path = "/v1/projects/{pid}/endpoints/{eid}/rotate-secret", tag = "forwarding",
    params(EndpointPath), security(("project_key" = [])),
    responses((status = 200, description = "The new secret (shown once)", body = SecretRotated)))]
async fn rotate_endpoint_secret(
    State(state): Shared,
    _key: AdminKey,
    Path(EndpointPath { pid, eid }): Path<EndpointPath>,
) -> Result<Json<SecretRotated>, Problem> {
    project_endpoint(&state, &pid, &eid).await?;
    let secret = SigningSecret::generate();
    let previous_valid_until = Utc::now() + ROTATION_OVERLAP;
    let rotated = state
        .store
        .rotate_endpoint_secret(&pid, &eid, &secret.reveal(), previous_valid_until)
        .await?;
    if !rotated {
        return Err(Problem::not_found("endpoint"));
    }
    tracing::info!(project_id = %pid, endpoint_id = %eid, "endpoint secret rotated");
    Ok(Json(SecretRotated {
        secret: secret.reveal().to_string(),
        previous_valid_until,
    }))
}

#[utoipa::path(get, path = "/v1/projects/{pid}/endpoints/{eid}/dead-letters", tag = "forwarding",
    params(EndpointPath), security(("project_key" = [])),
    responses((status = 200, description = "Events the endpoint never accepted, newest first (kept 14 days)", body = Items<DeadLetter>)))]
async fn list_dead_letters(
    State(state): Shared,
    _key: ReadKey,
    Path(EndpointPath { pid, eid }): Path<EndpointPath>,
) -> Result<Json<Items<DeadLetter>>, Problem> {
    project_endpoint(&state, &pid, &eid).await?;
    Ok(Json(Items {
        items: state
            .store
            .dead_letters(&pid, &eid, DEAD_LETTERS_SHOWN)
            .await?,
    }))
}

async fn project_endpoint(state: &ApiState, pid: &str, eid: &str) -> Result<Endpoint, Problem> {
    if !ids::is_key_safe(eid) {
        return Err(Problem::not_found("endpoint"));
    }
    state
        .store
        .endpoint(pid, eid)
        .await?
        .ok_or_else(|| Problem::not_found("endpoint"))
}

async fn enqueue(state: &ApiState, job: Job) -> Result<(), Problem> {
    crate::state::enqueue(state.jobs.as_ref(), job).await
}
