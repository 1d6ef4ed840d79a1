//! The connect use case, apart from HTTP: what registering an account takes in each mode, and
//! every way it can fail (`ConnectError`), which the API maps to its answers in one place.
//! Whatever acts in a customer account is the wiring function's; this side checks a key with
//! STS, seals it (KMS encrypt only) and asks.

mod connector;
mod disconnect;
mod error;

use customer::crypto::SecretContext;
use customer::{AccessKey, AccountError, caller};
use ingest::{ConnectionStore, StoreFailure};
use model::connection::TopicProof;
use model::naming::{resource_name, topic_arn};
use model::region::is_ses_region;
use model::role_arn::RoleArn;
use model::topic_arn::TopicArn;
use model::wiring::Command;
use model::{Access, Connection, ConnectionStatus, Delivery, Sealed, Source, ids};

pub use connector::{AskError, Connector};
pub use disconnect::{Disconnected, disconnect};
pub use error::ConnectError;
use error::store_failed;

/// A registration as the user asked for it, parsed.
pub enum NewConnection {
    Manual { topic_arn: String },
    Automatic { region: String, key: AccessKey },
    Role { region: String, role_arn: String },
}

/// What a registration produced.
pub enum Registered {
    /// Pending until its topic is proven; the proof's message is shown once, here.
    Manual {
        connection: Connection,
        proof_message: String,
        proof: TopicProof,
    },
    /// The wiring function was handed the connection.
    Wiring(Connection),
}

/// Registers `new` under project `pid`. On any failure nothing stays behind.
pub async fn connect<S: ConnectionStore>(
    store: &S,
    connector: Option<&Connector>,
    pid: String,
    new: NewConnection,
) -> Result<Registered, ConnectError> {
    match new {
        NewConnection::Manual { topic_arn } => {
            let topic: TopicArn = topic_arn.parse()?;
            let source = Source {
                account_id: topic.account_id().to_owned(),
                region: topic.region().to_owned(),
                delivery: Delivery::Sns {
                    topic_arn: topic.to_string(),
                },
            };
            let connection = Connection::new(
                ids::connection_id(),
                pid,
                Access::Manual,
                ConnectionStatus::Pending,
                source,
            );
            let (proof_message, proof) = TopicProof::mint(connection.created_at);
            store
                .create_connection(&connection, None, Some(&proof))
                .await
                .map_err(store_failed)?;
            tracing::info!(connection_id = %connection.id, topic_arn = %topic, "manual connection registered");
            Ok(Registered::Manual {
                connection,
                proof_message,
                proof,
            })
        }
        NewConnection::Automatic { region, key } => {
            let connector = connector.ok_or(ConnectError::ModeNotAvailable)?;
            automatic(store, connector, pid, &region, &key)
                .await
                .map(Registered::Wiring)
        }
        NewConnection::Role { region, role_arn } => {
            ses_region(&region)?;
            let role: RoleArn = role_arn.parse()?;
            let connector = connector.ok_or(ConnectError::ModeNotAvailable)?;
            let cid = ids::connection_id();
            // A role is registered only once the wiring function proved it admits trackses
            // with this project's external id and with no other (see `customer::trust`).
            let proof = Command::ProveRole {
                project_id: pid.clone(),
                connection_id: cid.clone(),
                role_arn: role.as_str().to_owned(),
                region: region.clone(),
            };
            connector.ask(&proof).await?;
            let source = wired_source(&cid, role.account_id(), &region);
            let access = Access::Role {
                role_arn: role.as_str().to_owned(),
                stack: None,
            };
            let connection = Connection::new(cid, pid, access, ConnectionStatus::Wiring, source);
            register_and_wire(store, connector, connection, None)
                .await
                .map(Registered::Wiring)
        }
    }
}

/// A region a connection or a role link may name.
pub fn ses_region(region: &str) -> Result<(), ConnectError> {
    if is_ses_region(region) {
        Ok(())
    } else {
        Err(ConnectError::NotAnSesRegion(region.to_owned()))
    }
}

/// IAM's shape of an access key pair: checked before anything reaches STS.
fn check_key_shape(key: &AccessKey) -> Result<(), ConnectError> {
    let id_ok =
        (16..=128).contains(&key.id.len()) && key.id.bytes().all(|b| b.is_ascii_alphanumeric());
    let secret_ok =
        (1..=128).contains(&key.secret.len()) && !key.secret.chars().any(char::is_whitespace);
    if id_ok && secret_ok {
        Ok(())
    } else {
        Err(ConnectError::MalformedKey)
    }
}

/// Checks the key, seals it, registers the connection and starts the wiring.
async fn automatic<S: ConnectionStore>(
    store: &S,
    connector: &Connector,
    pid: String,
    region: &str,
    key: &AccessKey,
) -> Result<Connection, ConnectError> {
    ses_region(region)?;
    check_key_shape(key)?;
    let who = caller(&connector.aws, region, key)
        .await
        .map_err(|e| match e {
            AccountError::Transient { .. } => ConnectError::Unavailable(e.to_string()),
            e => ConnectError::KeyRefused(e),
        })?;
    if who.is_root() {
        return Err(ConnectError::RootKey);
    }
    let cid = ids::connection_id();
    let source = wired_source(&cid, &who.account_id, region);
    let access = Access::Automatic {
        access_key_id_last4: key.last4().to_owned(),
    };
    let connection = Connection::new(cid, pid, access, ConnectionStatus::Wiring, source);
    let context = SecretContext {
        project_id: connection.project_id.clone(),
        connection_id: connection.id.clone(),
    };
    let sealed = connector
        .envelope
        .seal(&context, &key.to_plaintext())
        .await
        .map_err(|e| ConnectError::Unavailable(e.to_string()))?;
    register_and_wire(store, connector, connection, Some(&sealed)).await
}

/// Where a connection trackses wires gets its events: the trackses-* topic named after it.
fn wired_source(cid: &str, account_id: &str, region: &str) -> Source {
    Source {
        account_id: account_id.to_owned(),
        region: region.to_owned(),
        delivery: Delivery::Sns {
            topic_arn: topic_arn(region, account_id, &resource_name(cid)),
        },
    }
}

/// Registers the connection (with its sealed key, if any) under its trackses-* configuration set
/// and starts the wiring; if the wiring cannot be started, the registration is taken back.
async fn register_and_wire<S: ConnectionStore>(
    store: &S,
    connector: &Connector,
    mut connection: Connection,
    sealed: Option<&Sealed>,
) -> Result<Connection, ConnectError> {
    connection.configuration_set = Some(resource_name(&connection.id));
    store
        .create_connection(&connection, sealed, None)
        .await
        .map_err(|e| match e.is_already_exists() {
            true => ConnectError::AlreadyConnected {
                account_id: connection.account_id.clone(),
                region: connection.region.clone(),
            },
            false => store_failed(e),
        })?;
    let wire = Command::Wire {
        connection_id: connection.id.clone(),
    };
    if let Err(error) = connector.wiring.start(&wire).await {
        // Not accepted: take back the registration and the sealed key with it.
        store
            .delete_connection(&connection)
            .await
            .map_err(store_failed)?;
        return Err(ConnectError::Unavailable(error.to_string()));
    }
    tracing::info!(connection_id = %connection.id, mode = connection.mode().as_str(), account_id = %connection.account_id, region = %connection.region, "connection registered; wiring started");
    Ok(connection)
}

#[cfg(test)]
mod tests;
