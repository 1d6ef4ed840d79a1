//! The `wiring` function: the only code that opens customer credentials and acts in a customer
//! account. The API asks it for work with a `Command` (Lambda Invoke: asynchronous for wiring
//! and teardown, request/response for identities) and gets a `Reply`.

mod identities;
mod setup;
pub mod teardown;
mod verify;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::SdkConfig;
use customer::crypto::{CryptoError, Envelope, SecretContext};
use customer::guard::Guard;
use customer::trust::prove_role;
use customer::{AccessKey, AccountError, CustomerAccount, assumed_role};
use ingest::{PortError, StoreFailure};
use model::connection::{webhook_prefix, webhook_url};
use model::role_arn::RoleArn;
use model::wiring::{Command, Refusal, Reply};
use model::{Access, Connection, ConnectionMode};
use runtime::WebhookBases;
use store::{Store, StoreError};
use wiring_client::{InvokeError, WiringClient};

/// Failures worth retrying: Lambda retries the invocation (then its dead-letter queue keeps it).
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error(transparent)]
    Store(PortError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Account(AccountError),
    /// A teardown could not hand its remaining pages to a fresh invocation.
    #[error(transparent)]
    Invoke(#[from] InvokeError),
}

impl WiringError {
    fn store(error: impl StoreFailure) -> WiringError {
        WiringError::Store(Box::new(error))
    }
}

impl From<StoreError> for WiringError {
    fn from(error: StoreError) -> WiringError {
        WiringError::store(error)
    }
}

/// What CloudWatch and the dead-letter queue show for a failed invocation: the kind of failure
/// by name, not a Rust type.
impl From<WiringError> for lambda_runtime::Diagnostic {
    fn from(error: WiringError) -> lambda_runtime::Diagnostic {
        let error_type = match &error {
            WiringError::Store(_) => "StoreUnavailable",
            WiringError::Crypto(_) => "KmsFailure",
            WiringError::Account(_) => "CustomerAccountUnavailable",
            WiringError::Invoke(_) => "HandOffFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// What the wiring function holds: built once per cold start.
#[derive(Clone)]
pub struct Wiring {
    pub store: Store,
    pub envelope: Envelope,
    /// trackses' own SDK settings; customer clients take them with the customer's credentials.
    pub aws: SdkConfig,
    /// trackses' own account, whose roles trackses never assumes.
    account_id: String,
    /// The only places a customer topic is subscribed to: the current webhook base, and the one
    /// subscriptions made before it still deliver to.
    webhook_bases: WebhookBases,
    guard: Guard,
    roles: RoleCredentials,
    /// This function itself, which a teardown hands its remaining pages to.
    itself: WiringClient,
    /// How long a teardown invocation starts new identity pages for before handing the rest on.
    teardown_budget: Duration,
}

/// The function's timeout is 60 s (template.yaml); a page started just before the budget is used
/// has the remaining 20 s for its calls (retries with backoff included), the set and topic
/// deletions, and the hand-off.
const TEARDOWN_BUDGET: Duration = Duration::from_secs(40);

/// Assumed-role credentials per connection, kept for the container's life: the SDK's identity
/// cache (in `aws`) holds what each provider resolved and assumes the role again only shortly
/// before the credentials expire, so a warm container calls AssumeRole once an hour, not once per
/// command. A changed role (a stack update) gets a new provider.
#[derive(Clone, Default)]
struct RoleCredentials(Arc<Mutex<HashMap<String, (String, SharedCredentialsProvider)>>>);

impl RoleCredentials {
    /// More connections than a container plausibly serves; past it, start over rather than grow.
    const MAX: usize = 1000;

    fn get(&self, connection_id: &str, role_arn: &str) -> Option<SharedCredentialsProvider> {
        let roles = self.0.lock().unwrap_or_else(|e| e.into_inner());
        roles
            .get(connection_id)
            .filter(|(arn, _)| arn == role_arn)
            .map(|(_, provider)| provider.clone())
    }

    fn keep(&self, connection_id: &str, role_arn: &str, provider: &SharedCredentialsProvider) {
        let mut roles = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if roles.len() >= Self::MAX {
            roles.clear();
        }
        roles.insert(
            connection_id.to_owned(),
            (role_arn.to_owned(), provider.clone()),
        );
    }
}

impl Wiring {
    /// `lambda` reaches this function itself (a local runner can stand in for Lambda), under the
    /// name Lambda gives the running function, else the one the API uses.
    pub fn from_config(
        config: &runtime::Config,
        aws: &SdkConfig,
        lambda: aws_sdk_lambda::Client,
    ) -> Result<Wiring, runtime::ConfigError> {
        use runtime::ConfigError;
        let webhook_bases = config.webhook_bases()?;
        let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
            .ok()
            .or_else(|| config.wiring_function.clone())
            .ok_or(ConfigError::Missing("TRACKSES_WIRING_FUNCTION"))?;
        Ok(Wiring {
            guard: Guard::subscribing_under(&webhook_prefix(&webhook_bases.current)),
            webhook_bases,
            store: Store::connect(config, aws),
            envelope: Envelope::new(
                aws_sdk_kms::Client::new(aws),
                config
                    .kms_key_id
                    .clone()
                    .ok_or(ConfigError::Missing("TRACKSES_KMS_KEY_ID"))?,
            ),
            aws: aws.clone(),
            account_id: config
                .account_id
                .clone()
                .ok_or(ConfigError::Missing("TRACKSES_ACCOUNT_ID"))?,
            roles: RoleCredentials::default(),
            itself: WiringClient::new(lambda, function),
            teardown_budget: TEARDOWN_BUDGET,
        })
    }

    /// A shorter (or longer) teardown budget: tests make teardowns resume often.
    pub fn with_teardown_budget(self, teardown_budget: Duration) -> Wiring {
        Wiring {
            teardown_budget,
            ..self
        }
    }

    pub async fn handle(&self, command: Command) -> Result<Reply, WiringError> {
        let connection_id = match &command {
            Command::ProveRole {
                project_id,
                connection_id,
                role_arn,
                region,
            } => {
                return self
                    .prove_new_role(project_id, connection_id, role_arn, region)
                    .await;
            }
            Command::Wire { connection_id }
            | Command::ListIdentities { connection_id, .. }
            | Command::Attach { connection_id, .. }
            | Command::Detach { connection_id, .. }
            | Command::Teardown { connection_id, .. }
            | Command::Verify { connection_id } => connection_id,
        };
        let Some(connection) = self.store.get_connection(connection_id).await? else {
            // Deleted meanwhile: nothing left to do, and nothing to retry.
            return Ok(Reply::refused(
                Refusal::NotFound,
                "the connection does not exist",
            ));
        };
        if connection.mode() == ConnectionMode::Manual {
            return Ok(Reply::refused(
                Refusal::Conflict,
                "trackses holds no access to this account: the connection is in manual mode",
            ));
        }
        match command {
            Command::Wire { .. } => self.wire(&connection).await,
            Command::ListIdentities { cursor, .. } => {
                self.list_identities(&connection, cursor.as_deref()).await
            }
            Command::Attach {
                identity, replace, ..
            } => self.attach(&connection, &identity, replace).await,
            Command::Detach { identity, .. } => self.detach(&connection, &identity).await,
            Command::Teardown { resume_from, .. } => self.teardown(&connection, resume_from).await,
            Command::Verify { .. } => self.verify(&connection).await,
            // Answered above, before any connection is read.
            Command::ProveRole { .. } => Ok(Reply::refused(
                Refusal::Invalid,
                "a role proof names no connection",
            )),
        }
    }

    /// The proof a role must pass before the API registers it (see `customer::trust`).
    async fn prove_new_role(
        &self,
        project_id: &str,
        connection_id: &str,
        role_arn: &str,
        region: &str,
    ) -> Result<Reply, WiringError> {
        let Ok(role) = role_arn.parse::<RoleArn>() else {
            return Ok(Reply::refused(
                Refusal::Invalid,
                "`role_arn` is not an IAM role ARN",
            ));
        };
        let Some(project) = self.store.get_project(project_id).await? else {
            return Ok(Reply::refused(
                Refusal::NotFound,
                "the project does not exist",
            ));
        };
        match self
            .proven_role(connection_id, region, &role, &project.external_id)
            .await
        {
            Ok(_) => Ok(Reply::Done),
            Err(error) if error.is_transient() => Err(WiringError::Account(error)),
            Err(error) => Ok(Reply::refused(Refusal::Invalid, error.to_string())),
        }
    }

    /// The connection's role, proven to demand the project's external id, as a credentials
    /// provider kept for the container's life. The proof runs once per container and role.
    async fn role_credentials(
        &self,
        connection: &Connection,
        role_arn: &str,
    ) -> Result<SharedCredentialsProvider, WiringError> {
        if let Some(provider) = self.roles.get(&connection.id, role_arn) {
            return Ok(provider);
        }
        let project = self
            .store
            .get_project(&connection.project_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("connection without project".into()))?;
        let role: RoleArn = role_arn
            .parse()
            .map_err(|_| StoreError::Corrupt("connection role ARN".into()))?;
        self.proven_role(
            &connection.id,
            &connection.region,
            &role,
            &project.external_id,
        )
        .await
        .map_err(WiringError::Account)
    }

    /// Proves the role (see `customer::trust`) and keeps its credentials provider for the
    /// connection, so this container acts through it without proving it again.
    async fn proven_role(
        &self,
        connection_id: &str,
        region: &str,
        role: &RoleArn,
        external_id: &str,
    ) -> Result<SharedCredentialsProvider, AccountError> {
        prove_role(&self.aws, region, role, external_id, &self.account_id).await?;
        let provider =
            assumed_role(&self.aws, region, role.as_str(), external_id, connection_id).await;
        self.roles.keep(connection_id, role.as_str(), &provider);
        Ok(provider)
    }

    /// The customer account, reached with the connection's own credentials: its sealed key
    /// (automatic mode) or its role (role mode). The plaintext lives only inside the returned
    /// clients' credentials provider.
    async fn account(&self, connection: &Connection) -> Result<CustomerAccount, WiringError> {
        let credentials = match &connection.access {
            Access::Role { role_arn, .. } => self.role_credentials(connection, role_arn).await?,
            // `handle` refuses manual connections before any of this; one would find no key.
            Access::Automatic { .. } | Access::Manual => {
                let sealed = self
                    .store
                    .connection_secret(&connection.id)
                    .await?
                    .ok_or(CryptoError::Integrity)?;
                let context = SecretContext {
                    project_id: connection.project_id.clone(),
                    connection_id: connection.id.clone(),
                };
                let plaintext = self.envelope.open(&context, &sealed).await?;
                AccessKey::from_plaintext(&plaintext)
                    .ok_or(CryptoError::Integrity)?
                    .provider()
            }
        };
        Ok(CustomerAccount::new(
            &self.aws,
            &connection.account_id,
            &connection.region,
            credentials,
            &self.guard,
        ))
    }

    /// Where SNS delivers for the connection: this deployment's webhook, never a URL a request
    /// named.
    fn webhook_url(&self, connection: &Connection) -> String {
        webhook_url(&self.webhook_bases.current, &connection.id)
    }

    /// Where a subscription made before the webhook had its own URL delivers.
    fn earlier_webhook_url(&self, connection: &Connection) -> Option<String> {
        let earlier = self.webhook_bases.earlier.as_ref()?;
        Some(webhook_url(earlier, &connection.id))
    }
}

/// An account error on a request/response command: transient ones fail the invocation (the API
/// answers 503), the rest are the user's to fix.
fn answer(error: AccountError) -> Result<Reply, WiringError> {
    if error.is_transient() {
        Err(WiringError::Account(error))
    } else {
        Ok(Reply::refused(Refusal::Conflict, error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API and the wiring function deploy separately, and unknown fields are refused: a
    /// command without a cursor reads and writes exactly as before cursors existed.
    #[test]
    fn cursors_are_optional_and_absent_when_unset() {
        for (json, command) in [
            (
                r#"{"action":"list_identities","connection_id":"con_1"}"#,
                Command::ListIdentities {
                    connection_id: "con_1".into(),
                    cursor: None,
                },
            ),
            (
                r#"{"action":"teardown","connection_id":"con_1"}"#,
                Command::Teardown {
                    connection_id: "con_1".into(),
                    resume_from: None,
                },
            ),
            (
                r#"{"action":"teardown","connection_id":"con_1","resume_from":"T2"}"#,
                Command::Teardown {
                    connection_id: "con_1".into(),
                    resume_from: Some("T2".into()),
                },
            ),
        ] {
            assert_eq!(serde_json::from_str::<Command>(json).unwrap(), command);
            assert_eq!(serde_json::to_string(&command).unwrap(), json);
        }
    }
}
