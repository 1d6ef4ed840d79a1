//! What every function starts with, once per cold start: its settings (`config`), the AWS SDK
//! configuration (`aws`), logs, and metrics in CloudWatch's Embedded Metric Format (`metrics`).

pub mod aws;
pub mod config;
pub mod metrics;

pub use aws::sdk_config;
pub use config::{Config, ConfigError, WebhookBases, init_tracing, log_filter};
pub use metrics::run;

/// What a function holds from its cold start on.
pub struct ColdStart {
    pub config: Config,
    pub aws: aws_types::SdkConfig,
    pub metrics: &'static metrics::Collector,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Metrics(#[from] metrics::MetricsError),
}

/// What every function does first, once per cold start: logs, metrics dimensioned by its short
/// name (`webhook`), its settings, and the one SDK configuration all its clients are built from.
pub fn cold_start(function: &'static str) -> Result<ColdStart, StartError> {
    init_tracing();
    Ok(ColdStart {
        metrics: metrics::install(function)?,
        config: Config::from_env()?,
        aws: sdk_config(),
    })
}
