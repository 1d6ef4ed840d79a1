//! How a connection and its sealed credentials are kept as items, and read back.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use model::signals::{AccountSignals, AdvisorSignal, AdvisorStatus, SendingSignal};
use model::{
    Access, Connection, ConnectionMode, ConnectionStatus, Delivery, Sealed, Stack, WiringStep,
};

use crate::attrs::{Item, get_s, get_time, n, opt_s, s, time};
use crate::{StoreError, keys};

fn parsed<T>(item: &Item, name: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(get_s(item, name)?).ok_or_else(|| StoreError::Corrupt(format!("attribute {name}")))
}

/// Connections written before topics had to be proven carry no `schema`: one that was already
/// active then had its subscription confirmed (the rule of the time), so it keeps receiving its
/// events rather than going silent, as SNS never confirms an existing subscription again.
const SCHEMA: &str = "schema";
const CURRENT_SCHEMA: u32 = 2;

/// Present only for EventBridge delivery: every connection before it delivered through SNS and
/// names its topic.
const DELIVERY: &str = "delivery";

/// The identities trackses attached its set to (`Store::note_attachment` keeps it).
pub(crate) const ATTACHED: &str = "attached";

/// The account signals' attributes (`Store::record_signal` writes them).
pub(crate) const SENDING_ENABLED: &str = "sending_enabled";
pub(crate) const SENDING_AT: &str = "sending_at";
/// A map of the advisor's recommendations, by `AdvisorSignal::key`, each a map of these fields.
pub(crate) const ADVISOR: &str = "advisor";
pub(crate) const ADVICE_STATUS: &str = "s";
pub(crate) const ADVICE_KIND: &str = "k";
pub(crate) const ADVICE_RESOURCE: &str = "r";
pub(crate) const ADVICE_TEXT: &str = "t";
pub(crate) const ADVICE_AT: &str = "at";

pub(crate) fn connection_item(c: &Connection) -> Item {
    let mut item = Item::from([
        (keys::PK.into(), s(keys::connection(&c.id))),
        (keys::SK.into(), s(keys::CONNECTION_SK)),
        (
            keys::GSI1_PK.into(),
            s(keys::project_connections(&c.project_id)),
        ),
        (keys::GSI1_SK.into(), s(&c.id)),
        ("project_id".into(), s(&c.project_id)),
        ("mode".into(), s(c.mode().as_str())),
        ("status".into(), s(c.status.as_str())),
        ("account_id".into(), s(&c.account_id)),
        ("region".into(), s(&c.region)),
        ("created_at".into(), time(c.created_at)),
        ("updated_at".into(), time(c.updated_at)),
        (SCHEMA.into(), n(CURRENT_SCHEMA)),
    ]);
    match &c.delivery {
        Delivery::Sns { topic_arn } => item.insert("topic_arn".into(), s(topic_arn)),
        Delivery::EventBridge => item.insert(DELIVERY.into(), s(c.delivery.as_str())),
    };
    if let Some(set) = &c.configuration_set {
        item.insert("configuration_set".into(), s(set));
    }
    if !c.attached_identities.is_empty() {
        let attached = c.attached_identities.iter().cloned().collect();
        item.insert(ATTACHED.into(), AttributeValue::Ss(attached));
    }
    if let Some(error) = &c.last_error {
        item.insert("last_error".into(), s(error));
    }
    match &c.access {
        Access::Manual => {}
        Access::Automatic {
            access_key_id_last4,
        } => {
            item.insert("access_key_id_last4".into(), s(access_key_id_last4));
        }
        Access::Role { role_arn, stack } => {
            item.insert("role_arn".into(), s(role_arn));
            if let Some(stack) = stack {
                item.insert("stack_id".into(), s(&stack.stack_id));
                if let Some(token_sha256) = &stack.token_sha256 {
                    item.insert("stack_token_sha256".into(), s(token_sha256));
                }
            }
        }
    }
    if let Some(proven_at) = c.topic_proven_at {
        item.insert("topic_proven_at".into(), time(proven_at));
    }
    if !c.wiring_steps.is_empty() {
        item.insert(
            "steps_done".into(),
            AttributeValue::Ss(c.wiring_steps.iter().map(|s| s.as_str().into()).collect()),
        );
    }
    item
}

fn delivery_from(item: &Item) -> Result<Delivery, StoreError> {
    match opt_s(item, DELIVERY).as_deref() {
        None => Ok(Delivery::Sns {
            topic_arn: get_s(item, "topic_arn")?.to_owned(),
        }),
        Some("eventbridge") => Ok(Delivery::EventBridge),
        Some(_) => Err(StoreError::Corrupt(format!("attribute {DELIVERY}"))),
    }
}

fn signals_from(item: &Item) -> Result<AccountSignals, StoreError> {
    let sending = match item.get(SENDING_ENABLED).map(|v| v.as_bool()) {
        None => None,
        Some(Ok(enabled)) => Some(SendingSignal {
            enabled: *enabled,
            at: get_time(item, SENDING_AT)?,
        }),
        Some(Err(_)) => return Err(StoreError::Corrupt(SENDING_ENABLED.into())),
    };
    let mut advisor = match item.get(ADVISOR).map(|v| v.as_m()) {
        None => Vec::new(),
        Some(Ok(advice)) => advice
            .values()
            .map(|a| a.as_m().map_err(|_| corrupt_advice()).and_then(advice_from))
            .collect::<Result<Vec<_>, _>>()?,
        Some(Err(_)) => return Err(corrupt_advice()),
    };
    advisor.sort_by_key(|a| std::cmp::Reverse(a.at));
    Ok(AccountSignals { sending, advisor })
}

fn corrupt_advice() -> StoreError {
    StoreError::Corrupt(format!("attribute {ADVISOR}"))
}

fn advice_from(item: &Item) -> Result<AdvisorSignal, StoreError> {
    Ok(AdvisorSignal {
        status: parsed(item, ADVICE_STATUS, AdvisorStatus::parse)?,
        kind: opt_s(item, ADVICE_KIND).unwrap_or_default(),
        resource: opt_s(item, ADVICE_RESOURCE),
        recommendation: opt_s(item, ADVICE_TEXT).unwrap_or_default(),
        at: get_time(item, ADVICE_AT)?,
    })
}

/// One recommendation as `advisor` keeps it.
pub(crate) fn advice_item(advice: &AdvisorSignal) -> AttributeValue {
    let mut item = Item::from([
        (ADVICE_STATUS.into(), s(advice.status.as_str())),
        (ADVICE_KIND.into(), s(&advice.kind)),
        (ADVICE_TEXT.into(), s(&advice.recommendation)),
        (ADVICE_AT.into(), time(advice.at)),
    ]);
    if let Some(resource) = &advice.resource {
        item.insert(ADVICE_RESOURCE.into(), s(resource));
    }
    AttributeValue::M(item)
}

fn binary(item: &Item, name: &str) -> Result<Vec<u8>, StoreError> {
    item.get(name)
        .and_then(|v| v.as_b().ok())
        .map(|b| b.as_ref().to_vec())
        .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} missing")))
}

pub(crate) fn secret_item(cid: &str, sealed: &Sealed) -> Item {
    Item::from([
        (keys::PK.into(), s(keys::connection(cid))),
        (keys::SK.into(), s(keys::SECRET_SK)),
        (
            "ciphertext".into(),
            AttributeValue::B(Blob::new(sealed.ciphertext.clone())),
        ),
        ("nonce".into(), AttributeValue::B(Blob::new(sealed.nonce))),
        (
            "wrapped_key".into(),
            AttributeValue::B(Blob::new(sealed.wrapped_key.clone())),
        ),
        ("kms_key_id".into(), s(&sealed.key_id)),
    ])
}

pub(crate) fn sealed_from(item: &Item) -> Result<Sealed, StoreError> {
    Ok(Sealed {
        ciphertext: binary(item, "ciphertext")?,
        nonce: binary(item, "nonce")?
            .try_into()
            .map_err(|_| StoreError::Corrupt("nonce length".into()))?,
        wrapped_key: binary(item, "wrapped_key")?,
        key_id: get_s(item, "kms_key_id")?.to_owned(),
    })
}

fn steps_from(item: &Item) -> Vec<WiringStep> {
    let mut steps: Vec<WiringStep> = item
        .get("steps_done")
        .and_then(|v| v.as_ss().ok())
        .map(|steps| steps.iter().filter_map(|s| WiringStep::parse(s)).collect())
        .unwrap_or_default();
    steps.sort();
    steps
}

/// The mode and what it keeps; a mode without its fields is a corrupt item.
fn access_from(item: &Item) -> Result<Access, StoreError> {
    Ok(match parsed(item, "mode", ConnectionMode::parse)? {
        ConnectionMode::Manual => Access::Manual,
        ConnectionMode::Automatic => Access::Automatic {
            access_key_id_last4: get_s(item, "access_key_id_last4")?.to_owned(),
        },
        ConnectionMode::Role => Access::Role {
            role_arn: get_s(item, "role_arn")?.to_owned(),
            stack: opt_s(item, "stack_id").map(|stack_id| Stack {
                stack_id,
                token_sha256: opt_s(item, "stack_token_sha256"),
            }),
        },
    })
}

pub(crate) fn connection_from(item: &Item) -> Result<Connection, StoreError> {
    let id = get_s(item, keys::PK)?
        .strip_prefix("C#")
        .ok_or_else(|| StoreError::Corrupt("connection key".into()))?;
    let status = parsed(item, "status", ConnectionStatus::parse)?;
    Ok(Connection {
        id: id.to_owned(),
        project_id: get_s(item, "project_id")?.to_owned(),
        access: access_from(item)?,
        status,
        account_id: get_s(item, "account_id")?.to_owned(),
        region: get_s(item, "region")?.to_owned(),
        delivery: delivery_from(item)?,
        configuration_set: opt_s(item, "configuration_set"),
        last_error: opt_s(item, "last_error"),
        wiring_steps: steps_from(item),
        topic_proven_at: match item.contains_key("topic_proven_at") {
            true => Some(get_time(item, "topic_proven_at")?),
            // A legacy connection past `pending` was confirmed, or wired with the account's
            // own credentials.
            false if !item.contains_key(SCHEMA) && status != ConnectionStatus::Pending => {
                Some(get_time(item, "created_at")?)
            }
            false => None,
        },
        signals: signals_from(item)?,
        attached_identities: item
            .get(ATTACHED)
            .and_then(|v| v.as_ss().ok())
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default(),
        created_at: get_time(item, "created_at")?,
        updated_at: get_time(item, "updated_at")?,
    })
}
