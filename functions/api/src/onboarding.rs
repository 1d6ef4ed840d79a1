//! Role mode's two HTTP ends: the quick-create link a user asks for, and the callback topic's
//! deliveries (`POST /v1/hooks/cloudformation`), where customer stacks report in.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use edge::Problem;
use edge::auth::AdminKey;
use model::Onboarding;
use model::naming::topic_arn;
use onboarding::link::{StackParameters, quick_create_url, stack_name};

use crate::projects::Pid;
use crate::state::{ApiState, connect_problem};
use crate::views::RoleLink;

pub fn routes() -> OpenApiRouter<Arc<ApiState>> {
    OpenApiRouter::new().routes(routes!(role_link))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct LinkQuery {
    /// A region SES v2 serves (`GET /v1/regions`), where the stack is made.
    region: String,
    /// How the stack delivers SES's events: `eventbridge` (the default: the account's default
    /// bus forwards them, with its sending-status and advisor events) or `sns` (a topic
    /// subscribed to the connection's webhook URL).
    #[serde(default)]
    #[param(inline)]
    delivery: LinkDelivery,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum LinkDelivery {
    #[default]
    EventBridge,
    Sns,
}

impl LinkDelivery {
    fn as_str(self) -> &'static str {
        match self {
            LinkDelivery::EventBridge => "eventbridge",
            LinkDelivery::Sns => "sns",
        }
    }
}

/// Every call mints a new link (a new connection id and token, valid for seven days): a link
/// serves one stack, and trackses keeps only its token's hash, so it cannot show one twice.
#[utoipa::path(get, path = "/v1/projects/{pid}/onboarding/role", tag = "connections",
    params(Pid, LinkQuery), security(("project_key" = [])),
    responses((status = 200, description = "A new link each call: one stack, seven days (501 where the deployment publishes no template)", body = RoleLink)))]
async fn role_link(
    State(state): State<Arc<ApiState>>,
    _key: AdminKey,
    Path(Pid { pid }): Path<Pid>,
    query: Result<Query<LinkQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(LinkQuery { region, delivery }) = query.map_err(|e| {
        Problem::bad_request(format!(
            "`region` (one where SES v2 exists) is required, and `delivery` is eventbridge or sns: {}",
            e.body_text()
        ))
    })?;
    connect::ses_region(&region).map_err(connect_problem)?;
    let links = state.role_links.as_ref().ok_or_else(|| {
        Problem::mode_not_available(
            "this deployment publishes no customer template (TRACKSES_ROLE_TEMPLATE_URL) or has no account id (TRACKSES_ACCOUNT_ID)",
        )
    })?;
    let event_bus_arn = match (delivery, &links.event_bus_arn) {
        (LinkDelivery::EventBridge, None) => {
            return Err(Problem::mode_not_available(
                "this deployment has no event bus (TRACKSES_EVENT_BUS_ARN): ask for delivery=sns",
            ));
        }
        (_, bus) => bus.as_deref().unwrap_or_default(),
    };
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
            delivery: delivery.as_str(),
            event_bus_arn,
            webhook_url: &webhook_url,
            connection_token: &token,
            callback_topic_arn: &callback_topic_arn,
        },
    );
    tracing::info!(project_id = %pid, connection_id = %cid, region, delivery = delivery.as_str(), "role-mode link issued");
    let body = RoleLink {
        quick_create_url: url,
        template_url: links.template_url.to_string(),
        stack_name: stack,
        external_id: project.external_id,
        trackses_account_id: links.account_id.clone(),
        region,
        connection_id: cid.clone(),
        delivery: delivery.as_str(),
        event_bus_arn: links.event_bus_arn.clone(),
        webhook_url,
        expires_at: store::attrs::time_string(onboarding.expires_at),
    };
    // The link carries a one-stack token: no cache may keep it.
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}
