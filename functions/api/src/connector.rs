//! Automatic mode's side of the API: sealing a customer key and handing work to `wiring`.

use aws_types::SdkConfig;
use axum::http::StatusCode;
use customer::crypto::Envelope;
use edge::Problem;
use model::wiring::{Command, Refusal, Reply};
use wiring_client::WiringClient;

/// What automatic mode needs on the API side: encrypt-only KMS use, STS to check a key, and the
/// way to the wiring function. Absent, automatic mode answers 501.
#[derive(Clone)]
pub struct Connector {
    pub envelope: Envelope,
    pub aws: SdkConfig,
    pub wiring: WiringClient,
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
}

impl Connector {
    /// Asks the wiring function and waits for its answer; a refusal is the problem the API
    /// answers, an unreachable function a 503 (the client retries).
    pub async fn ask(&self, command: &Command) -> Result<Reply, Problem> {
        match self.wiring.call(command).await {
            Ok(Reply::Refused { reason, detail }) => Err(refusal(reason, detail)),
            Ok(reply) => Ok(reply),
            Err(error) => Err(Problem::unavailable(&error)),
        }
    }
}

fn refusal(reason: Refusal, detail: String) -> Problem {
    match reason {
        Refusal::Invalid => Problem::bad_request(detail),
        Refusal::NotFound => Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail),
        Refusal::Conflict => Problem::conflict(detail),
    }
}
