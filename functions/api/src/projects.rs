//! The REST API of API.md: projects, keys, events, message timelines, stats, suppressions;
//! connections in `connections`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use customer::trust::masked_external_id;
use edge::auth::{AdminKey, AnyKey, ReadKey, mint_api_key, require_admin};
use edge::problem::{Problem, json_body};
use model::{ApiKeyRecord, ApiKeyView, Event, EventType, KeyScope, Project, StoredEvent, ids};
use store::attrs::time_string;
use store::events::{EventFilter, MessageTimeline, PageFrom};
use store::keys::{CounterScope, Granularity};
use store::projects::RevokeError;
use store::summary::{Summary, summarize};
use store::suppressions::Suppression;

use crate::state::{ApiState, Shared};
use crate::views::{ApiKeyCreated, Health, Items, Page, ProjectCreated, Session};

pub fn routes() -> OpenApiRouter<Arc<ApiState>> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(regions))
        .routes(routes!(session))
        .routes(routes!(create_project))
        .routes(routes!(get_project))
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(delete_api_key))
        .routes(routes!(list_events))
        .routes(routes!(get_message))
        .routes(routes!(get_stats))
        .routes(routes!(list_suppressions))
}

#[utoipa::path(get, path = "/health", tag = "dashboard", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The regions a connection or a role link may name: public, as AWS publishes them too.
#[utoipa::path(get, path = "/v1/regions", tag = "connections",
    responses((status = 200, description = "Every region SES v2 serves", body = Items<String>)))]
async fn regions() -> Json<Items<&'static str>> {
    Json(Items {
        items: model::region::SES_REGIONS.to_vec(),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewProject {
    /// 1 to 100 characters.
    name: String,
}

#[utoipa::path(post, path = "/v1/projects", tag = "projects", request_body = NewProject,
    security(("admin_token" = [])),
    responses((status = 201, description = "The project and its first admin key", body = ProjectCreated)))]
async fn create_project(
    State(state): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    require_admin(&headers, state.admin_token.as_deref())?;
    let NewProject { name } = json_body(&body)?;
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Problem::bad_request("`name` must be 1 to 100 characters"));
    }
    let project = Project {
        id: ids::project_id(),
        name,
        external_id: ids::external_id(),
        created_at: Utc::now(),
    };
    let (api_key, record) = mint_api_key(&project.id, KeyScope::Admin, Some("first key".into()));
    state.store.create_project(&project, &record).await?;
    tracing::info!(project_id = %project.id, "project created");
    Ok((
        StatusCode::CREATED,
        Json(ProjectCreated { project, api_key }),
    )
        .into_response())
}

#[utoipa::path(get, path = "/v1/projects/{pid}", tag = "projects", params(Pid),
    security(("project_key" = [])),
    responses((status = 200, description = "`external_id` masked unless the key is an admin key", body = Project)))]
async fn get_project(State(state): Shared, key: ReadKey) -> Result<Json<Project>, Problem> {
    Ok(Json(project_seen_by(&state, &key.0).await?))
}

/// Signing in with the key alone: which project the key opens and what it may do there.
#[utoipa::path(get, path = "/v1/session", tag = "projects", security(("project_key" = [])),
    responses((status = 200, body = Session)))]
async fn session(State(state): Shared, AnyKey(key): AnyKey) -> Result<Json<Session>, Problem> {
    Ok(Json(Session {
        project: project_seen_by(&state, &key).await?,
        key: ApiKeyView::from(&key),
    }))
}

/// The key's own project as that key may see it.
async fn project_seen_by(state: &ApiState, key: &ApiKeyRecord) -> Result<Project, Problem> {
    let mut project = state
        .store
        .get_project(&key.project_id)
        .await?
        .ok_or_else(|| Problem::not_found("project"))?;
    // Whoever sets up a customer role needs the external id; a read key does not.
    if key.scope != KeyScope::Admin {
        project.external_id = masked_external_id(&project.external_id);
    }
    Ok(project)
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewApiKey {
    /// At most 100 characters.
    label: Option<String>,
    /// `read` unless asked.
    #[serde(default)]
    scope: KeyScope,
}

#[utoipa::path(post, path = "/v1/projects/{pid}/api-keys", tag = "projects", params(Pid),
    request_body(content = Option<NewApiKey>, description = "Optional: no body makes a read key"),
    security(("project_key" = [])),
    responses((status = 201, description = "Needs an admin key", body = ApiKeyCreated)))]
async fn create_api_key(
    State(state): Shared,
    _key: AdminKey,
    Path(Pid { pid }): Path<Pid>,
    body: Bytes,
) -> Result<Response, Problem> {
    let NewApiKey { label, scope } = if body.is_empty() {
        NewApiKey::default()
    } else {
        json_body(&body)?
    };
    let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
    if label.as_ref().is_some_and(|l| l.chars().count() > 100) {
        return Err(Problem::bad_request(
            "`label` must be at most 100 characters",
        ));
    }
    let (api_key, record) = mint_api_key(&pid, scope, label);
    state.store.put_api_key(&record).await?;
    tracing::info!(project_id = %pid, key_id = %record.id, scope = scope.as_str(), "API key created");
    let body = ApiKeyCreated {
        key: ApiKeyView::from(&record),
        api_key,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[utoipa::path(get, path = "/v1/projects/{pid}/api-keys", tag = "projects", params(Pid),
    security(("project_key" = [])),
    responses((status = 200, description = "Needs an admin key; never a secret", body = Items<ApiKeyView>)))]
async fn list_api_keys(
    State(state): Shared,
    _key: AdminKey,
    Path(Pid { pid }): Path<Pid>,
) -> Result<Json<Items<ApiKeyView>>, Problem> {
    let keys = state.store.list_api_keys(&pid).await?;
    Ok(Json(Items {
        items: keys.iter().map(ApiKeyView::from).collect(),
    }))
}

#[utoipa::path(delete, path = "/v1/projects/{pid}/api-keys/{kid}", tag = "projects",
    params(Pid, ("kid" = String, Path, description = "The key's id")),
    security(("project_key" = [])),
    responses((status = 204, description = "Revoked (409: the project's last admin key stays)")))]
async fn delete_api_key(
    State(state): Shared,
    _key: AdminKey,
    Path((pid, kid)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let key = match ids::is_key_safe(&kid) {
        true => state.store.get_api_key(&pid, &kid).await?,
        false => None,
    }
    .ok_or_else(|| Problem::not_found("API key"))?;
    match state.store.revoke_api_key(&key).await {
        Ok(()) => {
            tracing::info!(project_id = %pid, key_id = %kid, "API key revoked");
            Ok(StatusCode::NO_CONTENT)
        }
        Err(RevokeError::NotFound) => Err(Problem::not_found("API key")),
        Err(e @ RevokeError::LastAdminKey) => Err(Problem::conflict(e.to_string())),
        Err(RevokeError::Store(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    #[serde(rename = "type")]
    #[param(value_type = Option<EventType>)]
    event_type: Option<String>,
    /// One recipient's events (case-insensitive).
    recipient: Option<String>,
    /// One SES message's events.
    message_id: Option<String>,
    connection_id: Option<String>,
    /// `name:value` of an SES message tag.
    tag: Option<String>,
    /// RFC 3339, on `occurred_at`.
    #[param(value_type = Option<DateTime<Utc>>)]
    from: Option<String>,
    #[param(value_type = Option<DateTime<Utc>>)]
    to: Option<String>,
    /// 1 to 200 (50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Older events: the `next_cursor` of the previous page.
    cursor: Option<String>,
    /// The live tail: events newer than this cursor, oldest first (not with `cursor`).
    after: Option<String>,
}

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 200;

fn parse_limit(value: Option<String>) -> Result<usize, Problem> {
    match value {
        None => Ok(DEFAULT_LIMIT),
        Some(l) => l
            .parse()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| Problem::bad_request(format!("`limit` must be 1 to {MAX_LIMIT}"))),
    }
}

fn parse_time(name: &str, value: Option<String>) -> Result<Option<DateTime<Utc>>, Problem> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| Problem::bad_request(format!("`{name}` must be an RFC 3339 time")))
        })
        .transpose()
}

/// Cursors are event ids (ULIDs); anything else is a client mistake, not a storage question.
fn parse_cursor(name: &str, value: Option<String>) -> Result<Option<String>, Problem> {
    value
        .map(|v| {
            ulid::Ulid::from_string(&v)
                .map(|u| u.to_string())
                .map_err(|_| {
                    Problem::bad_request(format!("`{name}` is not a cursor this API returned"))
                })
        })
        .transpose()
}

impl EventsQuery {
    fn into_request(self) -> Result<(EventFilter, PageFrom, usize), Problem> {
        let event_type = self
            .event_type
            .map(|t| {
                EventType::parse(&t).ok_or_else(|| {
                    let known: Vec<_> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                    Problem::bad_request(format!("`type` must be one of {}", known.join(", ")))
                })
            })
            .transpose()?;
        let tag = match self.tag {
            Some(tag) if !tag.contains(':') => {
                return Err(Problem::bad_request("`tag` must be name:value"));
            }
            tag => tag,
        };
        let limit = parse_limit(self.limit)?;
        if self
            .message_id
            .as_deref()
            .is_some_and(|m| !ids::is_key_safe(m))
        {
            return Err(Problem::bad_request(
                "`message_id` is not an SES message id",
            ));
        }
        let filter = EventFilter {
            event_type,
            recipient: self.recipient.map(|r| r.trim().to_lowercase()),
            message_id: self.message_id,
            connection_id: self.connection_id,
            tag,
            from: parse_time("from", self.from)?,
            to: parse_time("to", self.to)?,
        };
        let page = match (
            parse_cursor("cursor", self.cursor)?,
            parse_cursor("after", self.after)?,
        ) {
            (Some(_), Some(_)) => {
                return Err(Problem::bad_request(
                    "use either `cursor` or `after`, not both",
                ));
            }
            (None, Some(after)) => PageFrom::After(after),
            (cursor, None) => PageFrom::Newest(cursor),
        };
        Ok((filter, page, limit))
    }
}

#[utoipa::path(get, path = "/v1/projects/{pid}/events", tag = "events", params(Pid, EventsQuery),
    security(("project_key" = [])),
    responses((status = 200, description = "Newest first; with `after`, oldest first", body = Page<Event>)))]
async fn list_events(
    State(state): Shared,
    _key: ReadKey,
    Path(Pid { pid }): Path<Pid>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<StoredEvent>>, Problem> {
    let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    let (filter, page, limit) = query.into_request()?;
    let page = state.store.list_events(&pid, &filter, &page, limit).await?;
    Ok(Json(Page {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/v1/projects/{pid}/messages/{mid}", tag = "events",
    params(Pid, ("mid" = String, Path, description = "The SES message id")),
    security(("project_key" = [])),
    responses((status = 200, description = "Each recipient's status and events, oldest first", body = MessageTimeline)))]
async fn get_message(
    State(state): Shared,
    _key: ReadKey,
    Path((pid, mid)): Path<(String, String)>,
) -> Result<Json<MessageTimeline>, Problem> {
    if !ids::is_key_safe(&mid) {
        return Err(Problem::not_found("message"));
    }
    let timeline = state
        .store
        .message_timeline(&pid, &mid)
        .await?
        .ok_or_else(|| Problem::not_found("message"))?;
    Ok(Json(timeline))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// RFC 3339 (default: 30 days, or 24 hours by hour, before `to`).
    #[param(value_type = Option<DateTime<Utc>>)]
    from: Option<String>,
    /// RFC 3339 (default: now).
    #[param(value_type = Option<DateTime<Utc>>)]
    to: Option<String>,
    /// `day` (default; at most 366 days) or `hour` (at most 31 days).
    granularity: Option<String>,
    /// One connection's counters instead of the project's.
    connection_id: Option<String>,
}

/// Sending health from the project's counters, which follow the stored events a counter window
/// behind (10 s by default).
#[utoipa::path(get, path = "/v1/projects/{pid}/stats", tag = "events", params(Pid, StatsQuery),
    security(("project_key" = [])),
    responses((status = 200, description = "Totals, series, rates and their status against AWS's thresholds", body = Summary)))]
async fn get_stats(
    State(state): Shared,
    _key: ReadKey,
    Path(Pid { pid }): Path<Pid>,
    query: Result<Query<StatsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Summary>, Problem> {
    let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    // Defaults and caps keep every view to a bounded number of counter reads.
    let (granularity, default_span, max_span) = match query.granularity.as_deref() {
        None | Some("day") => (Granularity::Day, TimeDelta::days(30), TimeDelta::days(366)),
        Some("hour") => (Granularity::Hour, TimeDelta::hours(24), TimeDelta::days(31)),
        Some(_) => return Err(Problem::bad_request("`granularity` must be hour or day")),
    };
    let to = parse_time("to", query.to)?.unwrap_or_else(Utc::now);
    let from = parse_time("from", query.from)?.unwrap_or(to - default_span);
    if from > to || to - from > max_span {
        return Err(Problem::bad_request(format!(
            "`from` must precede `to`, at most {} days apart at this granularity",
            max_span.num_days()
        )));
    }
    let scope = match &query.connection_id {
        Some(cid) => {
            state.project_connection(&pid, cid).await?;
            CounterScope::Connection(cid)
        }
        None => CounterScope::Project,
    };
    let (from, to) = (time_string(from), time_string(to));
    let read = state
        .store
        .counters(
            &pid,
            scope,
            granularity,
            granularity.bucket(&from),
            granularity.bucket(&to),
        )
        .await?;
    Ok(Json(summarize(&read.buckets)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1 to 200 (50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    limit: Option<String>,
}

#[utoipa::path(get, path = "/v1/projects/{pid}/suppressions", tag = "events", params(Pid, PageQuery),
    security(("project_key" = [])),
    responses((status = 200, description = "Recipients with a Permanent bounce or a complaint, in address order", body = Page<Suppression>)))]
async fn list_suppressions(
    State(state): Shared,
    _key: ReadKey,
    Path(Pid { pid }): Path<Pid>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<Suppression>>, Problem> {
    let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    let limit = parse_limit(query.limit)?;
    // The cursor is the last recipient of the previous page.
    if query
        .cursor
        .as_deref()
        .is_some_and(|c| c.is_empty() || c.len() > 320)
    {
        return Err(Problem::bad_request(
            "`cursor` is not a cursor this API returned",
        ));
    }
    let (items, next_cursor) = state
        .store
        .suppressions(&pid, query.cursor.as_deref(), limit)
        .await?;
    Ok(Json(Page { items, next_cursor }))
}

/// The project every `/v1/projects/{pid}/…` route names.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Pid {
    /// The project id (`prj_…`); a key of another project gets 404.
    pub pid: String,
}
