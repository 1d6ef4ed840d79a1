//! Removing a connection: forgotten at once where trackses owns nothing in the account, else a
//! teardown handed to the wiring function.

use chrono::Utc;
use ingest::ConnectionStore;
use model::connection::Transition;
use model::wiring::Command;
use model::{Access, Connection, ConnectionStatus};

use crate::{ConnectError, Connector, store_failed};

pub enum Disconnected {
    /// Gone now; for a stack's connection, what the user deletes to remove the rest.
    Forgotten { remaining: Option<String> },
    /// The wiring function tears it down and it disappears when that is done.
    TearingDown(Box<Connection>),
}

/// A manual connection owns nothing in the customer's account: forgetting it is the teardown,
/// and its topic stops being accepted at once; a stack's connection is forgotten too (deleting
/// the stack removes the rest, and its Delete request then finds nothing to forget).
pub async fn disconnect<S: ConnectionStore>(
    store: &S,
    connector: Option<&Connector>,
    mut connection: Connection,
) -> Result<Disconnected, ConnectError> {
    let forget = match (&connection.access, connection.stack()) {
        (Access::Manual, _) => Some(None),
        (_, Some(stack)) => Some(Some(format!(
            "delete the CloudFormation stack {} to remove the role, topic and configuration set trackses used",
            stack.stack_id
        ))),
        _ => None,
    };
    if let Some(remaining) = forget {
        store
            .delete_connection(&connection)
            .await
            .map_err(store_failed)?;
        return Ok(Disconnected::Forgotten { remaining });
    }
    let connector = connector.ok_or(ConnectError::ModeNotAvailable)?;
    let previous = connection.status;
    let now = Utc::now();
    let started = store
        .transition(&connection.id, Transition::TeardownStarted, Some(None), now)
        .await
        .map_err(store_failed)?;
    // A teardown under way is not started twice; one that stopped on an error it reported
    // (`last_error`) may be, which is how the user retries it.
    let stalled =
        connection.status == ConnectionStatus::Deleting && connection.last_error.is_some();
    if !started && !stalled {
        return Ok(Disconnected::TearingDown(Box::new(connection)));
    }
    let teardown = Command::Teardown {
        connection_id: connection.id.clone(),
        resume_from: None,
    };
    if let Err(error) = connector.wiring.start(&teardown).await {
        let back = Transition::TeardownNotStarted(previous);
        store
            .transition(&connection.id, back, None, Utc::now())
            .await
            .map_err(store_failed)?;
        return Err(ConnectError::Unavailable(error.to_string()));
    }
    connection.status = ConnectionStatus::Deleting;
    connection.last_error = None;
    connection.updated_at = now;
    Ok(Disconnected::TearingDown(Box::new(connection)))
}
