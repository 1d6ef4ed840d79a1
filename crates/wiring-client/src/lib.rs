//! How the API and the stack callback reach the wiring function: Lambda Invoke, so neither holds
//! customer credentials nor KMS Decrypt. The protocol itself is `model::wiring`.

use aws_sdk_lambda::error::DisplayErrorContext;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;

pub use model::wiring::{Command, Reply};

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("the wiring function could not be invoked: {0}")]
    Invoke(String),
    #[error("the wiring function failed: {0}")]
    Function(String),
    #[error("the wiring function answered something unexpected: {0}")]
    Reply(String),
}

#[derive(Clone)]
pub struct WiringClient {
    lambda: aws_sdk_lambda::Client,
    function: String,
}

impl WiringClient {
    pub fn new(lambda: aws_sdk_lambda::Client, function: impl Into<String>) -> WiringClient {
        WiringClient {
            lambda,
            function: function.into(),
        }
    }

    /// The function `config` names, reached through `lambda` (a local runner can stand in for
    /// Lambda).
    pub fn from_config(
        config: &runtime::Config,
        lambda: aws_sdk_lambda::Client,
    ) -> Result<WiringClient, runtime::ConfigError> {
        let function = config
            .wiring_function
            .clone()
            .ok_or(runtime::ConfigError::Missing("TRACKSES_WIRING_FUNCTION"))?;
        Ok(WiringClient::new(lambda, function))
    }

    fn payload(command: &Command) -> Blob {
        Blob::new(serde_json::to_vec(command).unwrap_or_default())
    }

    /// Queues the command: Lambda keeps it, retries a failed run twice, then dead-letters it.
    pub async fn start(&self, command: &Command) -> Result<(), InvokeError> {
        self.lambda
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Self::payload(command))
            .send()
            .await
            .map_err(|e| InvokeError::Invoke(DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }

    pub async fn call(&self, command: &Command) -> Result<Reply, InvokeError> {
        let output = self
            .lambda
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Self::payload(command))
            .send()
            .await
            .map_err(|e| InvokeError::Invoke(DisplayErrorContext(&e).to_string()))?;
        let payload = output.payload.map(Blob::into_inner).unwrap_or_default();
        if let Some(kind) = output.function_error {
            return Err(InvokeError::Function(format!(
                "{kind}: {}",
                String::from_utf8_lossy(&payload)
            )));
        }
        serde_json::from_slice(&payload).map_err(|e| InvokeError::Reply(e.to_string()))
    }
}
