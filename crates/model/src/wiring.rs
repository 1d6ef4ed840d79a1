//! The wiring protocol: what the API and the stack callback ask the wiring function (the only
//! code that opens customer credentials) and what it answers. Plain data; `wiring-client`
//! carries it over Lambda Invoke.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Wire {
        connection_id: String,
    },
    ListIdentities {
        connection_id: String,
        /// Where the page starts: a `next_cursor` of an earlier page (SES's NextToken).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cursor: Option<String>,
    },
    Attach {
        connection_id: String,
        identity: String,
        replace: bool,
    },
    Detach {
        connection_id: String,
        identity: String,
    },
    Teardown {
        connection_id: String,
        /// The identity page an earlier invocation of this teardown stopped before (SES's
        /// NextToken); `None` starts from the first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_from: Option<String>,
    },
    Verify {
        connection_id: String,
    },
    /// Before a role is registered: does it admit trackses only under the project's external id?
    /// `connection_id` is the id the API will register it under: a proven role's credentials are
    /// kept for it, so the wiring that follows does not prove it again.
    ProveRole {
        project_id: String,
        connection_id: String,
        role_arn: String,
        region: String,
    },
}

/// An SES identity of a customer account, looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identity {
    pub identity: String,
    #[serde(rename = "type")]
    pub identity_type: String,
    pub verified: bool,
    pub configuration_set: Option<String>,
}

/// An identity as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityView {
    #[serde(flatten)]
    pub identity: Identity,
    /// Whether the identity uses this connection's configuration set.
    pub attached: bool,
}

/// The account's sending state in the connection's region (SES `GetAccount`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sending {
    pub enabled: bool,
    pub production_access: bool,
    pub max_24_hour_send: f64,
    pub max_send_rate: f64,
    pub sent_last_24_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    pub verified: bool,
    pub account_id: String,
    pub region: String,
    pub sending: Option<Sending>,
    pub problems: Vec<String>,
}

impl Eq for Verification {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Reply {
    Done,
    Identities {
        items: Vec<IdentityView>,
        /// The cursor of the next page; `None` on the last.
        next_cursor: Option<String>,
    },
    Attached {
        identity: String,
        configuration_set: String,
        /// The set the identity used before, when `replace` allowed replacing it.
        replaced: Option<String>,
    },
    Detached {
        identity: String,
    },
    Verified(Verification),
    /// The request cannot be done as asked; `detail` says what the user can do about it.
    Refused {
        /// Read from `status` too: what a wiring function of the previous release answers
        /// while a deploy replaces the functions one by one.
        #[serde(alias = "status")]
        reason: Refusal,
        detail: String,
    },
}

/// Why a command cannot be done as asked: the API answers 400, 404 or 409 for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "RefusalOnTheWire")]
pub enum Refusal {
    /// The request names something impossible (a malformed ARN, an expired cursor, a role that
    /// fails its proof).
    Invalid,
    /// What it names does not exist (the connection, the project, the identity).
    NotFound,
    /// It cannot be done in the connection's or identity's present state.
    Conflict,
}

/// A refusal as either release writes it: by name, or (before names) as the HTTP status.
#[derive(Deserialize)]
#[serde(untagged)]
enum RefusalOnTheWire {
    Named(String),
    Status(u16),
}

impl TryFrom<RefusalOnTheWire> for Refusal {
    type Error = String;

    fn try_from(wire: RefusalOnTheWire) -> Result<Refusal, String> {
        match wire {
            RefusalOnTheWire::Named(name) => match name.as_str() {
                "invalid" => Ok(Refusal::Invalid),
                "not_found" => Ok(Refusal::NotFound),
                "conflict" => Ok(Refusal::Conflict),
                other => Err(format!("unknown refusal {other:?}")),
            },
            RefusalOnTheWire::Status(400) => Ok(Refusal::Invalid),
            RefusalOnTheWire::Status(404) => Ok(Refusal::NotFound),
            // The previous release answered every other refusal as a conflict.
            RefusalOnTheWire::Status(_) => Ok(Refusal::Conflict),
        }
    }
}

impl Reply {
    pub fn refused(reason: Refusal, detail: impl Into<String>) -> Reply {
        Reply::Refused {
            reason,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_travels_as_a_named_reason() {
        let reply = Reply::refused(Refusal::NotFound, "the connection does not exist");
        let json = serde_json::to_value(&reply).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"result": "refused", "reason": "not_found", "detail": "the connection does not exist"})
        );
        assert_eq!(serde_json::from_value::<Reply>(json).unwrap(), reply);
    }

    #[test]
    fn a_refusal_of_the_previous_release_still_reads() {
        let old = serde_json::json!({"result": "refused", "status": 404, "detail": "gone"});
        let reply: Reply = serde_json::from_value(old).unwrap();
        assert_eq!(reply, Reply::refused(Refusal::NotFound, "gone"));
        let unknown = serde_json::json!({"result": "refused", "reason": "maybe", "detail": "?"});
        assert!(serde_json::from_value::<Reply>(unknown).is_err());
    }
}
