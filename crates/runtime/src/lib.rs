//! What every function starts with, once per cold start: its settings (`config`), the AWS SDK
//! configuration (`aws`), logs, and metrics in CloudWatch's Embedded Metric Format (`metrics`).

pub mod aws;
pub mod config;
pub mod metrics;

pub use aws::sdk_config;
pub use config::{Config, ConfigError, init_tracing, log_filter};
