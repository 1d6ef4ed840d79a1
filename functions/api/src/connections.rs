//! Connections over HTTP: registering an account (the `connect` use case), reading them, tearing
//! them down, and the identities of a wired account, which the wiring function looks up.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use connect::{ConnectError, Disconnected, Registered, disconnect};
use customer::AccessKey;
use edge::auth::{AdminKey, ReadKey};
use edge::problem::{Problem, json_body};
use model::ConnectionMode;
use model::wiring::{Command, Reply};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::state::{ApiState, Shared, connect_problem};

pub fn routes() -> axum::Router<Arc<ApiState>> {
    axum::Router::new()
        .route(
            "/v1/projects/{pid}/connections",
            post(create_connection).get(list_connections),
        )
        .route(
            "/v1/projects/{pid}/connections/{cid}",
            get(get_connection).delete(delete_connection),
        )
        .route(
            "/v1/projects/{pid}/connections/{cid}/identities",
            get(list_identities),
        )
        .route(
            "/v1/projects/{pid}/connections/{cid}/verify",
            post(verify_connection),
        )
        .route(
            "/v1/projects/{pid}/connections/{cid}/identities/{identity}",
            put(attach_identity).delete(detach_identity),
        )
}

#[derive(Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
enum NewConnection {
    Manual {
        topic_arn: String,
    },
    Automatic {
        region: String,
        access_key_id: String,
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

async fn create_connection(
    State(state): Shared,
    _key: AdminKey,
    Path(pid): Path<String>,
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
            view["topic_proof"] = json!({
                "message": proof_message,
                "expires_at": proof.expires_at,
            });
            (StatusCode::CREATED, Json(view)).into_response()
        }
        Registered::Wiring(connection) => {
            (StatusCode::ACCEPTED, Json(state.view(&connection))).into_response()
        }
    })
}

async fn list_connections(
    State(state): Shared,
    _key: ReadKey,
    Path(pid): Path<String>,
) -> Result<Json<serde_json::Value>, Problem> {
    let connections = state.store.list_connections(&pid).await?;
    let items: Vec<_> = connections.iter().map(|c| state.view(c)).collect();
    Ok(Json(json!({"items": items})))
}

async fn get_connection(
    State(state): Shared,
    _key: ReadKey,
    Path((pid, cid)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, Problem> {
    let connection = state.project_connection(&pid, &cid).await?;
    Ok(Json(state.view(&connection)))
}

async fn delete_connection(
    State(state): Shared,
    _key: AdminKey,
    Path((pid, cid)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let connection = state.project_connection(&pid, &cid).await?;
    let body = match disconnect(&state.store, state.connector.as_ref(), connection)
        .await
        .map_err(connect_problem)?
    {
        Disconnected::Forgotten { remaining } => {
            let mut body = json!({"id": cid, "status": "deleted"});
            if let Some(detail) = remaining {
                body["detail"] = json!(detail);
            }
            body
        }
        Disconnected::TearingDown(connection) => state.view(&connection),
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// Sends a request/response command about a connection of the project and maps the reply.
async fn ask(
    state: &ApiState,
    (pid, cid): (&str, &str),
    identity: Option<&str>,
    command: impl FnOnce(String) -> Command,
) -> Result<Json<serde_json::Value>, Problem> {
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
    let reply = connector
        .ask(&command(connection.id))
        .await
        .map_err(|e| connect_problem(e.into()))?;
    match reply {
        Reply::Identities { items, next_cursor } => {
            Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
        }
        Reply::Attached {
            identity,
            configuration_set,
            replaced,
        } => Ok(Json(json!({
            "identity": identity,
            "configuration_set": configuration_set,
            "attached": true,
            "replaced": replaced,
        }))),
        Reply::Detached { identity } => Ok(Json(json!({"identity": identity, "attached": false}))),
        Reply::Verified(verification) => {
            Ok(Json(serde_json::to_value(verification).unwrap_or_default()))
        }
        Reply::Done | Reply::Refused { .. } => Err(Problem::unavailable(
            &"the wiring function answered `done` to a question",
        )),
    }
}

async fn verify_connection(
    State(state): Shared,
    _key: AdminKey,
    Path((pid, cid)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, Problem> {
    ask(&state, (&pid, &cid), None, |connection_id| {
        Command::Verify { connection_id }
    })
    .await
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentitiesQuery {
    cursor: Option<String>,
}

/// A page of identities; `cursor` is SES's NextToken, passed through untouched (SES decides
/// whether it is one of its own), but never longer or stranger than a token SES hands out.
async fn list_identities(
    State(state): Shared,
    _key: AdminKey,
    Path((pid, cid)): Path<(String, String)>,
    query: Result<Query<IdentitiesQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, Problem> {
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
    ask(&state, (&pid, &cid), None, |connection_id| {
        Command::ListIdentities {
            connection_id,
            cursor,
        }
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Attach {
    #[serde(default)]
    replace: bool,
}

async fn attach_identity(
    State(state): Shared,
    _key: AdminKey,
    Path((pid, cid, identity)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, Problem> {
    let Attach { replace } = if body.is_empty() {
        Attach::default()
    } else {
        json_body(&body)?
    };
    let name = identity.clone();
    ask(&state, (&pid, &cid), Some(&name), |connection_id| {
        Command::Attach {
            connection_id,
            identity,
            replace,
        }
    })
    .await
}

async fn detach_identity(
    State(state): Shared,
    _key: AdminKey,
    Path((pid, cid, identity)): Path<(String, String, String)>,
) -> Result<Json<serde_json::Value>, Problem> {
    let name = identity.clone();
    ask(&state, (&pid, &cid), Some(&name), |connection_id| {
        Command::Detach {
            connection_id,
            identity,
        }
    })
    .await
}
