//! Connections over HTTP: registering an account (the `connect` use case), reading them, tearing
//! them down, and the identities of a wired account, which the wiring function looks up.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use connect::{ConnectError, Disconnected, Registered, disconnect};
use customer::AccessKey;
use edge::auth::{AdminKey, ReadKey};
use edge::problem::{Problem, json_body};
use model::ConnectionMode;
use model::wiring::{Command, IdentityView, Reply, Verification};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use crate::projects::Pid;
use crate::state::{ApiState, Shared, connect_problem};
use crate::views::{
    ConnectionView, Disconnection, Forgotten, IdentityAttached, IdentityDetached, Items, Page,
    TopicProof,
};

pub fn routes() -> OpenApiRouter<Arc<ApiState>> {
    OpenApiRouter::new()
        .routes(routes!(create_connection, list_connections))
        .routes(routes!(get_connection, delete_connection))
        .routes(routes!(list_identities))
        .routes(routes!(verify_connection))
        .routes(routes!(attach_identity, detach_identity))
}

/// One connection of a project.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct ConnectionPath {
    /// The project id (`prj_…`).
    pid: String,
    /// The connection id (`con_…`); one of another project gets 404.
    cid: String,
}

/// One SES identity of a connection's account.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct IdentityPath {
    /// The project id (`prj_…`).
    pid: String,
    /// The connection id (`con_…`).
    cid: String,
    /// An email address or a domain.
    identity: String,
}

/// By mode: `manual` (you wired it; trackses gets a webhook URL), `automatic` (a scoped IAM key
/// trackses keeps sealed and wires with), `role` (a role trusting trackses under the project's
/// external id).
#[derive(Deserialize, ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
enum NewConnection {
    Manual {
        topic_arn: String,
    },
    Automatic {
        region: String,
        access_key_id: String,
        #[schema(value_type = String, format = Password)]
        secret_access_key: Zeroizing<String>,
    },
    Role {
        region: String,
        role_arn: String,
    },
}

impl From<NewConnection> for connect::NewConnection {
    fn from(new: NewConnection) -> connect::NewConnection {
        match new {
            NewConnection::Manual { topic_arn } => connect::NewConnection::Manual { topic_arn },
            NewConnection::Automatic {
                region,
                access_key_id,
                secret_access_key,
            } => connect::NewConnection::Automatic {
                region,
                key: AccessKey {
                    id: access_key_id,
                    secret: secret_access_key,
                },
            },
            NewConnection::Role { region, role_arn } => {
                connect::NewConnection::Role { region, role_arn }
            }
        }
    }
}

#[utoipa::path(post, path = "/v1/projects/{pid}/connections", tag = "connections", params(Pid),
    request_body = NewConnection, security(("project_key" = [])),
    responses(
        (status = 201, description = "A manual connection, with its topic proof (shown once)", body = ConnectionView),
        (status = 202, description = "An automatic or role connection, being wired", body = ConnectionView)))]
async fn create_connection(
    State(state): Shared,
    _key: AdminKey,
    Path(Pid { pid }): Path<Pid>,
    body: Bytes,
) -> Result<Response, Problem> {
    let new = json_body::<NewConnection>(&body)?.into();
    let registered = connect::connect(&state.store, state.connector.as_ref(), pid, new)
        .await
        .map_err(connect_problem)?;
    Ok(match registered {
        Registered::Manual {
            connection,
            proof_message,
            proof,
        } => {
            let mut view = state.view(&connection);
            // Shown once: the webhook's subscription confirmation proves the topic by itself;
            // the direct SNS → Lambda path needs this published to the topic once.
            view.topic_proof = Some(TopicProof {
                message: proof_message,
                expires_at: proof.expires_at,
            });
            (StatusCode::CREATED, Json(view)).into_response()
        }
        Registered::Wiring(connection) => {
            (StatusCode::ACCEPTED, Json(state.view(&connection))).into_response()
        }
    })
}

#[utoipa::path(get, path = "/v1/projects/{pid}/connections", tag = "connections", params(Pid),
    security(("project_key" = [])), responses((status = 200, body = Items<ConnectionView>)))]
async fn list_connections(
    State(state): Shared,
    _key: ReadKey,
    Path(Pid { pid }): Path<Pid>,
) -> Result<Json<Items<ConnectionView>>, Problem> {
    let connections = state.store.list_connections(&pid).await?;
    Ok(Json(Items {
        items: connections.iter().map(|c| state.view(c)).collect(),
    }))
}

#[utoipa::path(get, path = "/v1/projects/{pid}/connections/{cid}", tag = "connections",
    params(ConnectionPath), security(("project_key" = [])),
    responses((status = 200, body = ConnectionView)))]
async fn get_connection(
    State(state): Shared,
    _key: ReadKey,
    Path(ConnectionPath { pid, cid }): Path<ConnectionPath>,
) -> Result<Json<ConnectionView>, Problem> {
    let connection = state.project_connection(&pid, &cid).await?;
    Ok(Json(state.view(&connection)))
}

#[utoipa::path(delete, path = "/v1/projects/{pid}/connections/{cid}", tag = "connections",
    params(ConnectionPath), security(("project_key" = [])),
    responses((status = 202, description = "Forgotten at once (manual, or made by a customer's stack), or being torn down", body = Disconnection)))]
async fn delete_connection(
    State(state): Shared,
    _key: AdminKey,
    Path(ConnectionPath { pid, cid }): Path<ConnectionPath>,
) -> Result<Response, Problem> {
    let connection = state.project_connection(&pid, &cid).await?;
    let body = match disconnect(&state.store, state.connector.as_ref(), connection)
        .await
        .map_err(connect_problem)?
    {
        Disconnected::Forgotten { remaining } => Disconnection::Forgotten(Forgotten {
            id: cid,
            status: "deleted",
            detail: remaining,
        }),
        Disconnected::TearingDown(connection) => {
            Disconnection::TearingDown(Box::new(state.view(&connection)))
        }
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Sends a request/response command about a connection of the project; the wiring function's
/// reply, or its refusal as a problem.
async fn ask(
    state: &ApiState,
    (pid, cid): (&str, &str),
    identity: Option<&str>,
    command: impl FnOnce(String) -> Command,
) -> Result<Reply, Problem> {
    if let Some(identity) = identity {
        identity_name(identity)?;
    }
    let connection = state.project_connection(pid, cid).await?;
    if connection.mode() == ConnectionMode::Manual {
        return Err(Problem::conflict(
            "trackses holds no access to this account: the connection is in manual mode",
        ));
    }
    let connector = state
        .connector
        .as_ref()
        .ok_or_else(|| connect_problem(ConnectError::ModeNotAvailable))?;
    connector
        .ask(&command(connection.id))
        .await
        .map_err(|e| connect_problem(e.into()))
}

/// The wiring function answered another question than the one asked. Only the kind of answer is
/// told: its content may name the customer's identities.
fn unexpected(reply: Reply) -> Problem {
    let kind = match reply {
        Reply::Done => "done",
        Reply::Identities { .. } => "identities",
        Reply::Attached { .. } => "attached",
        Reply::Detached { .. } => "detached",
        Reply::Verified(_) => "verified",
        Reply::Refused { .. } => "refused",
    };
    Problem::unavailable(&format!("the wiring function answered `{kind}`"))
}

#[utoipa::path(post, path = "/v1/projects/{pid}/connections/{cid}/verify", tag = "connections",
    params(ConnectionPath), security(("project_key" = [])),
    responses((status = 200, description = "SES sending state, and what is missing (`problems`)", body = Verification)))]
async fn verify_connection(
    State(state): Shared,
    _key: AdminKey,
    Path(ConnectionPath { pid, cid }): Path<ConnectionPath>,
) -> Result<Json<Verification>, Problem> {
    match ask(&state, (&pid, &cid), None, |connection_id| {
        Command::Verify { connection_id }
    })
    .await?
    {
        Reply::Verified(verification) => Ok(Json(verification)),
        other => Err(unexpected(other)),
    }
}

/// An identity is an email address or a domain; anything else cannot be one.
fn identity_name(identity: &str) -> Result<(), Problem> {
    let ok = (1..=320).contains(&identity.len())
        && identity
            .chars()
            .all(|c| c.is_alphanumeric() || "@.-_+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Problem::bad_request(format!(
            "{identity:?} is not an email address or domain"
        )))
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct IdentitiesQuery {
    /// The `next_cursor` of the previous page (up to 100 identities a page).
    cursor: Option<String>,
}

/// A page of identities; `cursor` is SES's NextToken, passed through untouched (SES decides
/// whether it is one of its own), but never longer or stranger than a token SES hands out.
#[utoipa::path(get, path = "/v1/projects/{pid}/connections/{cid}/identities", tag = "connections",
    params(ConnectionPath, IdentitiesQuery), security(("project_key" = [])),
    responses((status = 200, description = "One page of the account's SES identities, sorted", body = Page<IdentityView>)))]
async fn list_identities(
    State(state): Shared,
    _key: AdminKey,
    Path(ConnectionPath { pid, cid }): Path<ConnectionPath>,
    query: Result<Query<IdentitiesQuery>, QueryRejection>,
) -> Result<Json<Page<IdentityView>>, Problem> {
    const MAX_CURSOR: usize = 2048;
    let Query(IdentitiesQuery { cursor }) =
        query.map_err(|e| Problem::bad_request(e.body_text()))?;
    if cursor.as_deref().is_some_and(|c| {
        c.is_empty() || c.len() > MAX_CURSOR || !c.bytes().all(|b| b.is_ascii_graphic())
    }) {
        return Err(Problem::bad_request(
            "`cursor` is not a cursor this API returned",
        ));
    }
    match ask(&state, (&pid, &cid), None, |connection_id| {
        Command::ListIdentities {
            connection_id,
            cursor,
        }
    })
    .await?
    {
        Reply::Identities { items, next_cursor } => Ok(Json(Page { items, next_cursor })),
        other => Err(unexpected(other)),
    }
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct Attach {
    /// Replace a configuration set the identity already uses (refused otherwise).
    #[serde(default)]
    replace: bool,
}

#[utoipa::path(put, path = "/v1/projects/{pid}/connections/{cid}/identities/{identity}", tag = "connections",
    params(IdentityPath), request_body(content = Option<Attach>, description = "Optional"),
    security(("project_key" = [])),
    responses((status = 200, body = IdentityAttached)))]
async fn attach_identity(
    State(state): Shared,
    _key: AdminKey,
    Path(IdentityPath { pid, cid, identity }): Path<IdentityPath>,
    body: Bytes,
) -> Result<Json<IdentityAttached>, Problem> {
    let Attach { replace } = if body.is_empty() {
        Attach::default()
    } else {
        json_body(&body)?
    };
    let name = identity.clone();
    match ask(&state, (&pid, &cid), Some(&name), |connection_id| {
        Command::Attach {
            connection_id,
            identity,
            replace,
        }
    })
    .await?
    {
        Reply::Attached {
            identity,
            configuration_set,
            replaced,
        } => Ok(Json(IdentityAttached {
            identity,
            configuration_set,
            attached: true,
            replaced,
        })),
        other => Err(unexpected(other)),
    }
}

#[utoipa::path(delete, path = "/v1/projects/{pid}/connections/{cid}/identities/{identity}", tag = "connections",
    params(IdentityPath), security(("project_key" = [])),
    responses((status = 200, body = IdentityDetached)))]
async fn detach_identity(
    State(state): Shared,
    _key: AdminKey,
    Path(IdentityPath { pid, cid, identity }): Path<IdentityPath>,
) -> Result<Json<IdentityDetached>, Problem> {
    let name = identity.clone();
    match ask(&state, (&pid, &cid), Some(&name), |connection_id| {
        Command::Detach {
            connection_id,
            identity,
        }
    })
    .await?
    {
        Reply::Detached { identity } => Ok(Json(IdentityDetached {
            identity,
            attached: false,
        })),
        other => Err(unexpected(other)),
    }
}
