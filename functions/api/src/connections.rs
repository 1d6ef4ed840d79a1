//! Connections: registering an account (manual topic or automatic key), reading them, tearing
//! them down, and the identities of a wired account. Whatever acts in a customer account is the
//! wiring function's; this side seals the key and asks.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use customer::crypto::SecretContext;
use customer::{AccessKey, AccountError, caller};
use edge::auth::{AdminKey, ReadKey};
use edge::problem::{Problem, json_body};
use model::connection::{TopicProof, Transition};
use model::naming::{resource_name, topic_arn};
use model::role_arn::{InvalidRoleArn, RoleArn};
use model::wiring::{Command, Reply};
use model::{Connection, ConnectionMode, ConnectionStatus, Sealed, TopicArn};
use store::StoreError;

use crate::connector::Connector;
use crate::state::{ApiState, Shared, ses_region};

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

fn connector(state: &ApiState) -> Result<&Connector, Problem> {
    state.connector.as_ref().ok_or_else(|| {
        Problem::mode_not_available(
            "this deployment has no KMS key or wiring function configured for automatic mode",
        )
    })
}

async fn create_connection(
    State(state): Shared,
    _key: AdminKey,
    Path(pid): Path<String>,
    body: Bytes,
) -> Result<Response, Problem> {
    let (connection, status) = match json_body::<NewConnection>(&body)? {
        NewConnection::Manual { topic_arn } => {
            let connection = manual(pid, &topic_arn)?;
            let (proof_message, proof) = TopicProof::mint(connection.created_at);
            state
                .store
                .create_connection(&connection, None, Some(&proof))
                .await?;
            tracing::info!(connection_id = %connection.id, topic_arn = %connection.topic_arn, "manual connection registered");
            let mut view = state.view(&connection);
            // Shown once: the webhook's subscription confirmation proves the topic by itself;
            // the direct SNS → Lambda path needs this published to the topic once.
            view["topic_proof"] = json!({
                "message": proof_message,
                "expires_at": proof.expires_at,
            });
            return Ok((StatusCode::CREATED, Json(view)).into_response());
        }
        NewConnection::Automatic {
            region,
            access_key_id,
            secret_access_key,
        } => {
            let key = AccessKey {
                id: access_key_id,
                secret: secret_access_key,
            };
            let connection = automatic(&state, pid, &region, &key).await?;
            (connection, StatusCode::ACCEPTED)
        }
        NewConnection::Role { region, role_arn } => {
            ses_region(&region)?;
            let role: RoleArn = role_arn
                .parse()
                .map_err(|e: InvalidRoleArn| Problem::bad_request(e.to_string()))?;
            let mut connection =
                Connection::new(pid, ConnectionMode::Role, ConnectionStatus::Wiring);
            prove_role(&state, &connection, &role, &region).await?;
            connection.account_id = role.account_id().to_owned();
            connection.role_arn = Some(role.as_str().to_owned());
            let connection = register_and_wire(&state, connection, &region, None).await?;
            (connection, StatusCode::ACCEPTED)
        }
    };
    Ok((status, Json(state.view(&connection))).into_response())
}

fn manual(pid: String, topic_arn: &str) -> Result<Connection, Problem> {
    let topic: TopicArn = topic_arn
        .parse()
        .map_err(|e: model::topic_arn::InvalidTopicArn| Problem::bad_request(e.to_string()))?;
    Ok(Connection {
        account_id: topic.account_id().to_owned(),
        region: topic.region().to_owned(),
        topic_arn: topic.to_string(),
        ..Connection::new(pid, ConnectionMode::Manual, ConnectionStatus::Pending)
    })
}

fn check_key_shape(key: &AccessKey) -> Result<(), Problem> {
    let id_ok =
        (16..=128).contains(&key.id.len()) && key.id.bytes().all(|b| b.is_ascii_alphanumeric());
    let secret_ok =
        (1..=128).contains(&key.secret.len()) && !key.secret.chars().any(char::is_whitespace);
    if id_ok && secret_ok {
        Ok(())
    } else {
        Err(Problem::bad_request(
            "`access_key_id` and `secret_access_key` must be an IAM access key pair as AWS shows it",
        ))
    }
}

/// A role is registered only once the wiring function proved it admits trackses with this
/// project's external id and with no other (see `customer::trust`).
async fn prove_role(
    state: &ApiState,
    connection: &Connection,
    role: &RoleArn,
    region: &str,
) -> Result<(), Problem> {
    let command = Command::ProveRole {
        project_id: connection.project_id.clone(),
        connection_id: connection.id.clone(),
        role_arn: role.as_str().to_owned(),
        region: region.to_owned(),
    };
    connector(state)?.ask(&command).await.map(drop)
}

/// Checks the key, seals it, registers the connection and starts the wiring; on any failure
/// nothing stays behind.
async fn automatic(
    state: &ApiState,
    pid: String,
    region: &str,
    key: &AccessKey,
) -> Result<Connection, Problem> {
    let connector = connector(state)?;
    ses_region(region)?;
    check_key_shape(key)?;
    let who = caller(&connector.aws, region, key)
        .await
        .map_err(|e| match e {
            AccountError::Transient { .. } => Problem::unavailable(&e),
            e => Problem::bad_request(e.to_string()),
        })?;
    if who.is_root() {
        return Err(Problem::bad_request(
            "this is the account's root access key, which can do anything: create an IAM user with trackses' policy (customer-iam-policy.json) and use its key",
        ));
    }
    let mut connection = Connection::new(pid, ConnectionMode::Automatic, ConnectionStatus::Wiring);
    connection.account_id = who.account_id;
    connection.access_key_id_last4 = Some(key.last4().to_owned());
    let context = SecretContext {
        project_id: connection.project_id.clone(),
        connection_id: connection.id.clone(),
    };
    let sealed = connector
        .envelope
        .seal(&context, &key.to_plaintext())
        .await
        .map_err(|e| Problem::unavailable(&e))?;
    register_and_wire(state, connection, region, Some(&sealed)).await
}

/// Names the connection's trackses-* resources, registers it (with its sealed key, if any) and
/// starts the wiring; if the wiring cannot be started, nothing stays behind.
async fn register_and_wire(
    state: &ApiState,
    mut connection: Connection,
    region: &str,
    sealed: Option<&Sealed>,
) -> Result<Connection, Problem> {
    let connector = connector(state)?;
    let name = resource_name(&connection.id);
    connection.topic_arn = topic_arn(region, &connection.account_id, &name);
    connection.configuration_set = Some(name);
    connection.region = region.to_owned();
    state
        .store
        .create_connection(&connection, sealed, None)
        .await
        .map_err(|e| match e {
            StoreError::AlreadyExists => Problem::conflict(format!(
                "account {} in {region} is already connected to this project; use that connection or delete it first",
                connection.account_id
            )),
            e => e.into(),
        })?;
    let wire = Command::Wire {
        connection_id: connection.id.clone(),
    };
    if let Err(error) = connector.wiring.start(&wire).await {
        // Not accepted: take back the registration and the sealed key with it.
        state.store.delete_connection(&connection).await?;
        return Err(Problem::unavailable(&error));
    }
    tracing::info!(connection_id = %connection.id, mode = connection.mode.as_str(), account_id = %connection.account_id, region, "connection registered; wiring started");
    Ok(connection)
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

/// A manual connection owns nothing in the customer's account: forgetting it is the teardown,
/// and its topic stops being accepted at once; a stack's connection is forgotten too. Any other
/// connection is torn down by the wiring function and disappears when that is done.
async fn delete_connection(
    State(state): Shared,
    _key: AdminKey,
    Path((pid, cid)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let mut connection = state.project_connection(&pid, &cid).await?;
    // Nothing of trackses' in the account (manual), or the customer's stack owns it all and
    // deleting the stack removes it (its Delete request then finds nothing to forget).
    let forget = match (connection.mode, &connection.stack_id) {
        (ConnectionMode::Manual, _) => Some(None),
        (_, Some(stack_id)) => Some(Some(format!(
            "delete the CloudFormation stack {stack_id} to remove the role, topic and configuration set trackses used"
        ))),
        _ => None,
    };
    if let Some(detail) = forget {
        state.store.delete_connection(&connection).await?;
        let mut body = json!({"id": cid, "status": "deleted"});
        if let Some(detail) = detail {
            body["detail"] = json!(detail);
        }
        return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
    }
    let connector = connector(&state)?;
    let previous = connection.status;
    let now = Utc::now();
    let started = state
        .store
        .transition(&cid, Transition::TeardownStarted, Some(None), now)
        .await?;
    // A teardown under way is not started twice; one that stopped on an error it reported
    // (`last_error`) may be, which is how the user retries it.
    let stalled =
        connection.status == ConnectionStatus::Deleting && connection.last_error.is_some();
    if !started && !stalled {
        return Ok((StatusCode::ACCEPTED, Json(state.view(&connection))).into_response());
    }
    if let Err(error) = connector
        .wiring
        .start(&Command::Teardown {
            connection_id: cid.clone(),
            resume_from: None,
        })
        .await
    {
        state
            .store
            .transition(
                &cid,
                Transition::TeardownNotStarted(previous),
                None,
                Utc::now(),
            )
            .await?;
        return Err(Problem::unavailable(&error));
    }
    connection.status = ConnectionStatus::Deleting;
    connection.last_error = None;
    connection.updated_at = now;
    Ok((StatusCode::ACCEPTED, Json(state.view(&connection))).into_response())
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
    if connection.mode == ConnectionMode::Manual {
        return Err(Problem::conflict(
            "trackses holds no access to this account: the connection is in manual mode",
        ));
    }
    let connector = connector(state)?;
    let reply = connector.ask(&command(connection.id)).await?;
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
