use aws_types::SdkConfig;
use customer::crypto::Envelope;
use model::wiring::{Command, Refusal, Reply};
use wiring_client::{InvokeError, WiringClient};

/// What automatic and role mode need on the API side: encrypt-only KMS use, STS to check a key,
/// and the way to the wiring function. Absent, those modes are not available.
#[derive(Clone)]
pub struct Connector {
    pub envelope: Envelope,
    pub aws: SdkConfig,
    pub wiring: WiringClient,
}

/// Why the wiring function gave no answer to use.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error("{detail}")]
    Refused { reason: Refusal, detail: String },
    #[error(transparent)]
    Unavailable(#[from] InvokeError),
}

impl Connector {
    /// Built when the deployment configures both a KMS key and a wiring function. The Lambda
    /// client is the caller's, so a local runner can stand in for Lambda.
    pub fn from_config(
        config: &runtime::Config,
        aws: &SdkConfig,
        lambda: aws_sdk_lambda::Client,
    ) -> Option<Connector> {
        Some(Connector {
            envelope: Envelope::new(aws_sdk_kms::Client::new(aws), config.kms_key_id.clone()?),
            aws: aws.clone(),
            wiring: WiringClient::new(lambda, config.wiring_function.clone()?),
        })
    }

    /// Asks the wiring function and waits for its answer; a refusal is an error like an
    /// unreachable function.
    pub async fn ask(&self, command: &Command) -> Result<Reply, AskError> {
        match self.wiring.call(command).await? {
            Reply::Refused { reason, detail } => Err(AskError::Refused { reason, detail }),
            reply => Ok(reply),
        }
    }
}
