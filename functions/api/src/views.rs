//! What the API answers, as types: each is serialised for the client and described in the
//! OpenAPI document from the same definition, so the contract cannot drift from the code.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use model::{ApiKeyView, Connection, Project};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the function answers.
    pub status: &'static str,
}

/// A whole list.
#[derive(Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// One page of a longer list: pass `next_cursor` as `cursor` for the next one (`null` on the
/// last page).
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What an API key opens (`GET /v1/session`).
#[derive(Serialize, ToSchema)]
pub struct Session {
    /// The key's project; `external_id` masked unless the key is an admin key.
    pub project: Project,
    pub key: ApiKeyView,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectCreated {
    pub project: Project,
    /// The project's first (admin) key, shown this once: only its hash is kept.
    pub api_key: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The key, shown this once: only its hash is kept.
    pub api_key: String,
}

/// A connection as the API shows it: never a secret.
#[derive(Serialize, ToSchema)]
pub struct ConnectionView {
    #[serde(flatten)]
    pub connection: Connection,
    /// Where SNS must deliver this connection's events over HTTPS (SNS delivery only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Only in the answer that registers a manual connection, once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_proof: Option<TopicProof>,
}

/// What proves a topic for the direct SNS → Lambda path: publish `message` to the topic once.
#[derive(Serialize, ToSchema)]
pub struct TopicProof {
    pub message: String,
    pub expires_at: DateTime<Utc>,
}

/// What deleting a connection did: it is gone (manual, or made by a customer's stack), or its
/// teardown started (the connection, `status: deleting`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Disconnection {
    Forgotten(Forgotten),
    TearingDown(Box<ConnectionView>),
}

#[derive(Serialize, ToSchema)]
pub struct Forgotten {
    pub id: String,
    /// `deleted`.
    pub status: &'static str,
    /// What is left in the customer's account, when anything is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An identity using the connection's configuration set.
#[derive(Serialize, ToSchema)]
pub struct IdentityAttached {
    pub identity: String,
    pub configuration_set: String,
    /// `true`.
    pub attached: bool,
    /// The set the identity used before, when `replace` allowed replacing it.
    pub replaced: Option<String>,
}

/// An identity no longer using the connection's configuration set.
#[derive(Serialize, ToSchema)]
pub struct IdentityDetached {
    pub identity: String,
    /// `false`.
    pub attached: bool,
}

/// A role-mode quick-create link: one stack, valid until `expires_at`.
#[derive(Serialize, ToSchema)]
pub struct RoleLink {
    pub quick_create_url: String,
    pub template_url: String,
    pub stack_name: String,
    pub external_id: String,
    pub trackses_account_id: String,
    pub region: String,
    pub connection_id: String,
    /// `eventbridge` or `sns`: how the stack will deliver SES's events.
    pub delivery: &'static str,
    /// The bus the stack's rules forward to (eventbridge delivery).
    pub event_bus_arn: Option<String>,
    /// Where SNS delivers (sns delivery).
    pub webhook_url: String,
    /// RFC 3339, in UTC.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: String,
}
