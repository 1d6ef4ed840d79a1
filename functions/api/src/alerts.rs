//! Alerts over HTTP: a project's channels (where it is told), its rules (what it is told
//! about), its alerts (what happened), and the link an e-mail channel's address confirms with.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use edge::auth::{AdminKey, ReadKey};
use edge::problem::{Problem, json_body};
use forwarding::Job;
use model::alert::{
    BurstOf, CONFIRM_PATH, ChannelStatus, Condition, Level, MAX_CHANNELS_PER_PROJECT,
    MAX_RULES_PER_PROJECT, bounds,
};
use model::{Alert, AlertRule, Channel, ChannelKind, Scope, ids, sha256_hex};
use outbound::SigningSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::projects::Pid;
use crate::state::{ApiState, Shared};
use crate::views::{Items, Page};

pub fn routes() -> OpenApiRouter<Arc<ApiState>> {
    OpenApiRouter::new()
        .routes(routes!(create_channel, list_channels))
        .routes(routes!(delete_channel))
        .routes(routes!(rotate_channel_secret))
        .routes(routes!(create_rule, list_rules))
        .routes(routes!(delete_rule))
        .routes(routes!(list_alerts))
        .routes(routes!(confirmation_page, confirm_channel))
}

/// Alerts one page shows.
const ALERTS_PAGE: usize = 50;
/// RFC 5321's longest address.
const MAX_ADDRESS: usize = 254;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct ChannelPath {
    /// The project id (`prj_…`).
    pid: String,
    /// The channel id (`ch_…`); one of another project gets 404.
    chid: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct RulePath {
    /// The project id (`prj_…`).
    pid: String,
    /// The rule id (`rule_…`); one of another project gets 404.
    rid: String,
}

/// A channel: `webhook` (a JSON POST signed like forwarded events), `slack` (a Slack-compatible
/// incoming webhook), or `email` (from trackses' own SES account, once the address confirms).
#[derive(Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum NewChannel {
    Webhook { url: String },
    Slack { url: String },
    Email { address: String },
}

/// A new channel; a webhook channel's signing secret is shown here only.
#[derive(Serialize, ToSchema)]
struct ChannelCreated {
    channel: Channel,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ChannelSecret {
    secret: String,
}

/// What a rule watches. Rates default to the `early` level (4 % bounces, 0.08 % complaints, one
/// step before AWS's review) over 24 hours once 100 mails were sent; `level: review` is where
/// AWS reviews the account (5 % bounces, 0.1 % complaints).
#[derive(Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum NewCondition {
    BounceRate {
        level: Option<Level>,
        threshold_percent: Option<f64>,
        window_hours: Option<u32>,
        min_sends: Option<u64>,
    },
    ComplaintRate {
        level: Option<Level>,
        threshold_percent: Option<f64>,
        window_hours: Option<u32>,
        min_sends: Option<u64>,
    },
    Burst {
        of: BurstOf,
        count: u64,
        minutes: u32,
    },
    ConnectionHealth,
    Silence {
        quiet_hours: u32,
    },
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewRule {
    /// 1 to 100 characters.
    name: String,
    condition: NewCondition,
    #[serde(default)]
    scope: Scope,
    /// Channels of the project its alerts go to.
    #[serde(default)]
    channel_ids: Vec<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AlertsQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ConfirmQuery {
    /// The token of the confirmation e-mail's link.
    token: String,
}

#[utoipa::path(post, path = "/v1/projects/{pid}/alert-channels", tag = "alerts", params(Pid),
    request_body = NewChannel, security(("project_key" = [])),
    responses((status = 201, description = "The channel (an e-mail one unconfirmed until its address follows the link sent to it) and a webhook channel's secret, shown once", body = ChannelCreated)))]
async fn create_channel(
    State(state): Shared,
    _key: AdminKey,
    Path(Pid { pid }): Path<Pid>,
    body: Bytes,
) -> Result<Response, Problem> {
    let new: NewChannel = json_body(&body)?;
    let checked_url = |url: &str| {
        outbound::address::check_url(url.trim(), state.endpoint_reach)
            .map(|url| url.to_string())
            .map_err(|e| Problem::bad_request(format!("`url`: {e}")))
    };
    let (kind, secret) = match new {
        NewChannel::Webhook { url } => (
            ChannelKind::Webhook {
                url: checked_url(&url)?,
            },
            Some(SigningSecret::generate()),
        ),
        NewChannel::Slack { url } => (
            ChannelKind::Slack {
                url: checked_url(&url)?,
            },
            None,
        ),
        NewChannel::Email { address } => (
            ChannelKind::Email {
                address: checked_address(&address)?,
            },
            None,
        ),
    };
    let email = matches!(kind, ChannelKind::Email { .. });
    if email && state.mail.is_none() {
        return Err(Problem::mode_not_available(
            "this deployment sends no e-mail",
        ));
    }
    let channel = Channel {
        id: ids::channel_id(),
        project_id: pid.clone(),
        kind,
        status: if email {
            ChannelStatus::Unconfirmed
        } else {
            ChannelStatus::Active
        },
        created_at: Utc::now(),
    };
    let written = secret.as_ref().map(|s| s.reveal());
    if !state
        .store
        .create_channel(&channel, written.as_deref().map(|s| s.as_str()))
        .await?
    {
        return Err(Problem::conflict(format!(
            "a project has at most {MAX_CHANNELS_PER_PROJECT} alert channels"
        )));
    }
    if email {
        let confirm = Job::Confirm {
            project_id: pid,
            channel_id: channel.id.clone(),
        };
        crate::state::enqueue(state.mail.as_ref(), confirm).await?;
    }
    tracing::info!(project_id = %channel.project_id, channel_id = %channel.id, "alert channel created");
    let created = ChannelCreated {
        channel,
        secret: secret.map(|s| s.reveal().to_string()),
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// An address SES will take: one `@`, no spaces or controls (no header injection), a dot in
/// its domain.
fn checked_address(address: &str) -> Result<String, Problem> {
    let address = address.trim();
    let fits = address.len() <= MAX_ADDRESS
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if fits {
        Ok(address.to_owned())
    } else {
        Err(Problem::bad_request("`address` must be one e-mail address"))
    }
}

#[utoipa::path(get, path = "/v1/projects/{pid}/alert-channels", tag = "alerts", params(Pid),
    security(("project_key" = [])),
    responses((status = 200, description = "The channels; a Slack URL (its own secret) shown by its host only", body = Items<Channel>)))]
async fn list_channels(
    State(state): Shared,
    _key: ReadKey,
    Path(Pid { pid }): Path<Pid>,
) -> Result<Json<Items<Channel>>, Problem> {
    let mut items = state.store.channels(&pid).await?;
    for channel in &mut items {
        if let ChannelKind::Slack { url } = &mut channel.kind {
            *url = masked(url);
        }
    }
    Ok(Json(Items { items }))
}

/// A Slack incoming webhook's URL is its secret (whoever has it may post to the channel): read
/// back, only its host is shown.
fn masked(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => format!(
            "{}://{}/…",
            parsed.scheme(),
            parsed.host_str().unwrap_or_default()
        ),
        Err(_) => "…".to_owned(),
    }
}

#[utoipa::path(delete, path = "/v1/projects/{pid}/alert-channels/{chid}", tag = "alerts",
    params(ChannelPath), security(("project_key" = [])), responses((status = 204, description = "Deleted")))]
async fn delete_channel(
    State(state): Shared,
    _key: AdminKey,
    Path(ChannelPath { pid, chid }): Path<ChannelPath>,
) -> Result<StatusCode, Problem> {
    if !ids::is_key_safe(&chid) || !state.store.delete_channel(&pid, &chid).await? {
        return Err(Problem::not_found("channel"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/projects/{pid}/alert-channels/{chid}/rotate-secret", tag = "alerts",
    params(ChannelPath), security(("project_key" = [])),
    responses((status = 200, description = "A webhook channel's new secret (shown once); the old one stops signing at once", body = ChannelSecret)))]
async fn rotate_channel_secret(
    State(state): Shared,
    _key: AdminKey,
    Path(ChannelPath { pid, chid }): Path<ChannelPath>,
) -> Result<Json<ChannelSecret>, Problem> {
    let secret = SigningSecret::generate();
    if !ids::is_key_safe(&chid)
        || !state
            .store
            .rotate_channel_secret(&pid, &chid, &secret.reveal())
            .await?
    {
        return Err(Problem::not_found("webhook channel"));
    }
    Ok(Json(ChannelSecret {
        secret: secret.reveal().to_string(),
    }))
}

#[utoipa::path(post, path = "/v1/projects/{pid}/alert-rules", tag = "alerts", params(Pid),
    request_body = NewRule, security(("project_key" = [])),
    responses((status = 201, description = "The rule: counted rules (rates, bursts) count from now; health and silence run on the schedule", body = AlertRule)))]
async fn create_rule(
    State(state): Shared,
    _key: AdminKey,
    Path(Pid { pid }): Path<Pid>,
    body: Bytes,
) -> Result<Response, Problem> {
    let new: NewRule = json_body(&body)?;
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Problem::bad_request("`name` must be 1 to 100 characters"));
    }
    let condition = checked_condition(new.condition)?;
    let scope = new.scope;
    if let Some(cid) = &scope.connection_id {
        state.project_connection(&pid, cid).await?;
    }
    if scope
        .identity
        .as_ref()
        .is_some_and(|i| i.is_empty() || i.len() > MAX_ADDRESS)
    {
        return Err(Problem::bad_request(
            "`scope.identity` must be an address or a domain",
        ));
    }
    if scope
        .tag
        .as_ref()
        .is_some_and(|t| !t.contains(':') || t.len() > 512)
    {
        return Err(Problem::bad_request("`scope.tag` must be `name:value`"));
    }
    if !condition.is_counted() && (scope.identity.is_some() || scope.tag.is_some()) {
        return Err(Problem::bad_request(
            "health and silence rules are scoped by connection only",
        ));
    }
    let channels = state.store.channels(&pid).await?;
    let mut channel_ids = new.channel_ids;
    channel_ids.sort();
    channel_ids.dedup();
    if let Some(unknown) = channel_ids
        .iter()
        .find(|id| !channels.iter().any(|c| &c.id == *id))
    {
        return Err(Problem::bad_request(format!(
            "`channel_ids`: {unknown} is not a channel of this project"
        )));
    }
    let rule = AlertRule {
        id: ids::alert_rule_id(),
        project_id: pid,
        name,
        condition,
        scope,
        channel_ids,
        created_at: Utc::now(),
    };
    if !state.store.create_alert_rule(&rule).await? {
        return Err(Problem::conflict(format!(
            "a project has at most {MAX_RULES_PER_PROJECT} alert rules"
        )));
    }
    tracing::info!(project_id = %rule.project_id, rule_id = %rule.id, "alert rule created");
    Ok((StatusCode::CREATED, Json(rule)).into_response())
}

fn checked_condition(new: NewCondition) -> Result<Condition, Problem> {
    let within = |what: &str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(Problem::bad_request(format!(
                "`condition.{what}` is out of bounds"
            )))
        }
    };
    let rate = |level: Option<Level>,
                threshold: Option<f64>,
                window: Option<u32>,
                min_sends: Option<u64>,
                default: fn(Level) -> f64| {
        let threshold_percent = threshold.unwrap_or_else(|| default(level.unwrap_or(Level::Early)));
        let window_hours = window.unwrap_or(24);
        let min_sends = min_sends.unwrap_or(100);
        within(
            "threshold_percent",
            threshold_percent > 0.0 && threshold_percent <= 100.0,
        )?;
        within("window_hours", bounds::WINDOW_HOURS.contains(&window_hours))?;
        within("min_sends", bounds::MIN_SENDS.contains(&min_sends))?;
        Ok::<_, Problem>((threshold_percent, window_hours, min_sends))
    };
    Ok(match new {
        NewCondition::BounceRate {
            level,
            threshold_percent,
            window_hours,
            min_sends,
        } => {
            let (threshold_percent, window_hours, min_sends) = rate(
                level,
                threshold_percent,
                window_hours,
                min_sends,
                Level::bounce_percent,
            )?;
            Condition::BounceRate {
                threshold_percent,
                window_hours,
                min_sends,
            }
        }
        NewCondition::ComplaintRate {
            level,
            threshold_percent,
            window_hours,
            min_sends,
        } => {
            let (threshold_percent, window_hours, min_sends) = rate(
                level,
                threshold_percent,
                window_hours,
                min_sends,
                Level::complaint_percent,
            )?;
            Condition::ComplaintRate {
                threshold_percent,
                window_hours,
                min_sends,
            }
        }
        NewCondition::Burst { of, count, minutes } => {
            within("count", bounds::BURST_COUNT.contains(&count))?;
            within("minutes", bounds::BURST_MINUTES.contains(&minutes))?;
            Condition::Burst { of, count, minutes }
        }
        NewCondition::ConnectionHealth => Condition::ConnectionHealth,
        NewCondition::Silence { quiet_hours } => {
            within("quiet_hours", bounds::QUIET_HOURS.contains(&quiet_hours))?;
            Condition::Silence { quiet_hours }
        }
    })
}

#[utoipa::path(get, path = "/v1/projects/{pid}/alert-rules", tag = "alerts", params(Pid),
    security(("project_key" = [])), responses((status = 200, body = Items<AlertRule>)))]
async fn list_rules(
    State(state): Shared,
    _key: ReadKey,
    Path(Pid { pid }): Path<Pid>,
) -> Result<Json<Items<AlertRule>>, Problem> {
    Ok(Json(Items {
        items: state.store.alert_rules(&pid).await?,
    }))
}

#[utoipa::path(delete, path = "/v1/projects/{pid}/alert-rules/{rid}", tag = "alerts",
    params(RulePath), security(("project_key" = [])),
    responses((status = 204, description = "Deleted: its open alerts resolve on the next sweep")))]
async fn delete_rule(
    State(state): Shared,
    _key: AdminKey,
    Path(RulePath { pid, rid }): Path<RulePath>,
) -> Result<StatusCode, Problem> {
    if !ids::is_key_safe(&rid) || !state.store.delete_alert_rule(&pid, &rid).await? {
        return Err(Problem::not_found("alert rule"));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/projects/{pid}/alerts", tag = "alerts", params(Pid, AlertsQuery),
    security(("project_key" = [])),
    responses((status = 200, description = "The project's alerts, newest first: open ones have no `resolved_at`", body = Page<Alert>)))]
async fn list_alerts(
    State(state): Shared,
    _key: ReadKey,
    Path(Pid { pid }): Path<Pid>,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Json<Page<Alert>>, Problem> {
    let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    if query
        .cursor
        .as_deref()
        .is_some_and(|c| !ids::is_key_safe(c))
    {
        return Err(Problem::bad_request("`cursor` is not one this API gave"));
    }
    let (items, next_cursor) = state
        .store
        .alerts(&pid, query.cursor.as_deref(), ALERTS_PAGE)
        .await?;
    Ok(Json(Page { items, next_cursor }))
}

/// What an e-mail channel's confirmation link opens: a page asking to confirm, which changes
/// nothing (mail scanners open links; only a person presses the button).
#[utoipa::path(get, path = "/v1/hooks/channels/confirm", tag = "hooks", params(ConfirmQuery),
    responses((status = 200, description = "A page with the button that confirms the address", content_type = "text/html")))]
async fn confirmation_page(
    query: Result<Query<ConfirmQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(ConfirmQuery { token }) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    let token = well_formed(&token).ok_or_else(unknown_confirmation)?;
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>trackses</title>\
         <p>A trackses project asked to send its alerts to this address.</p>\
         <form method=post action=\"{CONFIRM_PATH}\"><input type=hidden name=token value=\"{token}\">\
         <button type=submit>Receive its alerts</button></form>"
    );
    Ok(html(page))
}

/// The button of the confirmation page: public (the token is the proof), once.
#[utoipa::path(post, path = "/v1/hooks/channels/confirm", tag = "hooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "`token=<the link's token>`"),
    responses((status = 200, description = "A page saying the address now receives the project's alerts", content_type = "text/html")))]
async fn confirm_channel(State(state): Shared, body: Bytes) -> Result<Response, Problem> {
    let token = url::form_urlencoded::parse(&body)
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let token = well_formed(&token).ok_or_else(unknown_confirmation)?;
    let confirmed = state
        .store
        .confirm_channel(&sha256_hex(token), Utc::now())
        .await?;
    let channel = confirmed.ok_or_else(unknown_confirmation)?;
    tracing::info!(project_id = %channel.project_id, channel_id = %channel.id, "alert channel confirmed");
    Ok(html(
        "<!doctype html><meta charset=utf-8><title>trackses</title>\
             <p>Confirmed: this address now receives the project's alerts.</p>"
            .to_owned(),
    ))
}

/// A token as the mail function makes them (64 hex digits), or none: nothing else reaches the
/// store or the page.
fn well_formed(token: &str) -> Option<&str> {
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

fn unknown_confirmation() -> Problem {
    Problem::not_found("confirmation (the link is wrong, used, or over two days old)")
}

/// A page of its own: nothing runs in it, and its form posts only here.
fn html(page: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; form-action 'self'",
            ),
        ],
        page,
    )
        .into_response()
}
