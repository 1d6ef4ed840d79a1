use customer::AccountError;
use ingest::{PortError, StoreFailure};
use model::role_arn::InvalidRoleArn;
use model::topic_arn::InvalidTopicArn;
use model::wiring::Refusal;

use crate::AskError;

/// Every way a registration fails; the texts are what the user is told (never a secret).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("`region` {0:?} is not a region where SES v2 exists")]
    NotAnSesRegion(String),
    #[error(transparent)]
    InvalidTopic(#[from] InvalidTopicArn),
    #[error(transparent)]
    InvalidRole(#[from] InvalidRoleArn),
    #[error(
        "`access_key_id` and `secret_access_key` must be an IAM access key pair as AWS shows it"
    )]
    MalformedKey,
    /// STS refused the key (unknown, deactivated, a wrong secret).
    #[error("{0}")]
    KeyRefused(AccountError),
    #[error(
        "this is the account's root access key, which can do anything: create an IAM user with trackses' policy (customer-iam-policy.json) and use its key"
    )]
    RootKey,
    #[error(
        "account {account_id} in {region} is already connected to this project; use that connection or delete it first"
    )]
    AlreadyConnected { account_id: String, region: String },
    #[error("this deployment has no KMS key or wiring function configured for automatic mode")]
    ModeNotAvailable,
    /// The wiring function refused (a role that fails its proof).
    #[error("{detail}")]
    Refused { reason: Refusal, detail: String },
    /// STS, KMS or the wiring function could not be reached: trying again can succeed.
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(PortError),
}

pub(crate) fn store_failed(error: impl StoreFailure) -> ConnectError {
    ConnectError::Store(Box::new(error))
}

impl From<AskError> for ConnectError {
    fn from(error: AskError) -> ConnectError {
        match error {
            AskError::Refused { reason, detail } => ConnectError::Refused { reason, detail },
            AskError::Unavailable(e) => ConnectError::Unavailable(e.to_string()),
        }
    }
}
