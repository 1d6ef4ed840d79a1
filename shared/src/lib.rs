//! trackses: SES event tracking. Layers, bottom up: model → ses/sns → store → ingest → http.

pub mod config;
pub mod crypto;
pub mod customer;
pub mod http;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod onboarding;
pub mod ses;
pub mod sns;
pub mod stats;
pub mod store;
pub mod wiring;

#[cfg(test)]
mod proptests;
