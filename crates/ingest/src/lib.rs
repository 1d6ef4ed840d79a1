//! The ingest core: SNS envelopes and their verification (`sns`), SES event parsing (`ses`), and
//! the pipeline that turns a verified notification into one idempotent write (`pipeline`),
//! through the store port it defines (`port`). No AWS SDK: what it stores with is an adapter's.

pub mod direct;
pub mod eventbridge;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;
pub mod pipeline;
pub mod port;
pub mod ses;
pub mod sns;
#[cfg(any(test, feature = "test-util"))]
pub mod strategies;

pub use pipeline::{Disposition, IngestError, Ingestor, Outcome, Target};
pub use port::{
    ConnectionRecords, ConnectionStore, IngestStore, IngestWrite, PortError, StoreFailure,
    WriteOutcome,
};

#[cfg(test)]
mod memory_tests;
#[cfg(test)]
mod pipeline_tests;
#[cfg(test)]
mod proptests;
