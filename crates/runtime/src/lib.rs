//! What every function starts with, once per cold start: its settings (`config`), the AWS SDK
//! configuration (`aws`), logs, and metrics in CloudWatch's Embedded Metric Format (`metrics`).

pub mod aws;
pub mod config;
pub mod metrics;

pub use aws::sdk_config;
pub use config::{Config, ConfigError, init_tracing, log_filter};

/// What every function does first, once per cold start: logs, its settings, and the one SDK
/// configuration all its clients are built from.
pub fn cold_start() -> Result<(Config, aws_types::SdkConfig), ConfigError> {
    init_tracing();
    Ok((Config::from_env()?, sdk_config()))
}
