//! trackses: SES event tracking. Layers, bottom up: model → ses/sns → store → ingest → http.

pub mod model;
pub mod ses;
pub mod sns;
pub mod store;
