//! Amazon SNS: the message envelope, its signature, and subscription confirmation.

pub mod cert_url;
pub mod certs;
pub mod confirm;
pub mod envelope;
pub mod freshness;
pub mod verify;

pub use certs::CertStore;
pub use confirm::Confirmer;
pub use envelope::{Envelope, EnvelopeError, MessageType};
pub use verify::{VerifyError, verify};
