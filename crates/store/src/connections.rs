//! Connections, and the topic registry that says which connection a topic belongs to.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::attrs::{Item, get_n, get_s, get_time, n, opt_s, s, time};
use super::{Store, StoreError, keys};
use model::Sealed;
use model::connection::{TopicProof, Transition};
use model::{Connection, ConnectionMode, ConnectionStatus, WiringStep};

fn parsed<T>(item: &Item, name: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(get_s(item, name)?).ok_or_else(|| StoreError::Corrupt(format!("attribute {name}")))
}

/// Connections written before topics had to be proven carry no `schema`: one that was already
/// active then had its subscription confirmed (the rule of the time), so it keeps receiving its
/// events rather than going silent, as SNS never confirms an existing subscription again.
const SCHEMA: &str = "schema";
const CURRENT_SCHEMA: u32 = 2;

fn connection_item(c: &Connection) -> Item {
    let mut item = Item::from([
        (keys::PK.into(), s(keys::connection(&c.id))),
        (keys::SK.into(), s(keys::CONNECTION_SK)),
        (
            keys::GSI1_PK.into(),
            s(keys::project_connections(&c.project_id)),
        ),
        (keys::GSI1_SK.into(), s(&c.id)),
        ("project_id".into(), s(&c.project_id)),
        ("mode".into(), s(c.mode.as_str())),
        ("status".into(), s(c.status.as_str())),
        ("account_id".into(), s(&c.account_id)),
        ("region".into(), s(&c.region)),
        ("topic_arn".into(), s(&c.topic_arn)),
        ("created_at".into(), time(c.created_at)),
        ("updated_at".into(), time(c.updated_at)),
        (SCHEMA.into(), n(CURRENT_SCHEMA)),
    ]);
    if let Some(set) = &c.configuration_set {
        item.insert("configuration_set".into(), s(set));
    }
    if let Some(error) = &c.last_error {
        item.insert("last_error".into(), s(error));
    }
    if let Some(last4) = &c.access_key_id_last4 {
        item.insert("access_key_id_last4".into(), s(last4));
    }
    if let Some(role_arn) = &c.role_arn {
        item.insert("role_arn".into(), s(role_arn));
    }
    if let Some(stack_id) = &c.stack_id {
        item.insert("stack_id".into(), s(stack_id));
    }
    if let Some(token_sha256) = &c.stack_token_sha256 {
        item.insert("stack_token_sha256".into(), s(token_sha256));
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

fn binary(item: &Item, name: &str) -> Result<Vec<u8>, StoreError> {
    item.get(name)
        .and_then(|v| v.as_b().ok())
        .map(|b| b.as_ref().to_vec())
        .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} missing")))
}

fn secret_item(cid: &str, sealed: &Sealed) -> Item {
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

fn sealed_from(item: &Item) -> Result<Sealed, StoreError> {
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

fn connection_from(item: &Item) -> Result<Connection, StoreError> {
    let id = get_s(item, keys::PK)?
        .strip_prefix("C#")
        .ok_or_else(|| StoreError::Corrupt("connection key".into()))?;
    let status = parsed(item, "status", ConnectionStatus::parse)?;
    Ok(Connection {
        id: id.to_owned(),
        project_id: get_s(item, "project_id")?.to_owned(),
        mode: parsed(item, "mode", ConnectionMode::parse)?,
        status,
        account_id: get_s(item, "account_id")?.to_owned(),
        region: get_s(item, "region")?.to_owned(),
        topic_arn: get_s(item, "topic_arn")?.to_owned(),
        configuration_set: opt_s(item, "configuration_set"),
        last_error: opt_s(item, "last_error"),
        access_key_id_last4: opt_s(item, "access_key_id_last4"),
        role_arn: opt_s(item, "role_arn"),
        stack_id: opt_s(item, "stack_id"),
        stack_token_sha256: opt_s(item, "stack_token_sha256"),
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
        created_at: get_time(item, "created_at")?,
        updated_at: get_time(item, "updated_at")?,
    })
}

impl Store {
    fn connection_update(&self, cid: &str) -> UpdateBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection(cid)))
            .key(keys::SK, s(keys::CONNECTION_SK))
    }

    /// Registers the connection; a connection that wires the account also claims the project's
    /// (account, region), and brings its sealed credentials; a manual one may bring the hash of
    /// its topic proof. All or nothing. Naming a topic claims nothing: a topic is routed to a
    /// connection only once its control is proven (`prove_topic`), so a claim can neither block
    /// the topic's owner nor tell anyone whether a topic is connected.
    pub async fn create_connection(
        &self,
        connection: &Connection,
        secret: Option<&Sealed>,
        topic_proof: Option<&TopicProof>,
    ) -> Result<(), StoreError> {
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(self.new_item(connection_item(connection))?);
        if connection.mode != ConnectionMode::Manual {
            transaction = transaction.transact_items(self.new_item(account_claim(connection))?);
        }
        if let Some(sealed) = secret {
            transaction =
                transaction.transact_items(self.new_item(secret_item(&connection.id, sealed))?);
        }
        if let Some(proof) = topic_proof {
            transaction = transaction.transact_items(self.new_item(Item::from([
                (keys::PK.into(), s(keys::topic_proof(&proof.token_sha256))),
                (keys::SK.into(), s(keys::TOPIC_PROOF_SK)),
                ("connection_id".into(), s(&connection.id)),
                (keys::TTL.into(), n(proof.expires_at.timestamp())),
            ]))?);
        }
        match transaction.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(e.into()),
        }
    }

    /// The connection a topic proof was issued to, while the proof is valid.
    pub async fn topic_proof_connection(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Connection>, StoreError> {
        let Some(item) = self
            .get(keys::topic_proof(token_sha256), keys::TOPIC_PROOF_SK.into())
            .await?
        else {
            return Ok(None);
        };
        // DynamoDB's TTL deletes within days, not at the second.
        if get_n(&item, keys::TTL) < u64::try_from(now.timestamp()).unwrap_or(u64::MAX) {
            return Ok(None);
        }
        self.get_connection(get_s(&item, "connection_id")?).await
    }

    /// Control of the connection's topic is proven: remember when.
    pub async fn prove_topic(
        &self,
        connection: &Connection,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .connection_update(&connection.id)
            .update_expression("SET topic_proven_at = :t")
            .condition_expression("attribute_exists(pk) AND topic_arn = :topic")
            .expression_attribute_values(":t", time(now))
            .expression_attribute_values(":topic", s(&connection.topic_arn))
            .send()
            .await;
        ignore_missing(result).map(|_| ())
    }

    /// Routes the topic's direct SNS → Lambda deliveries to the connection. Only a proof
    /// published to the topic does this (the latest wins: only who may publish to the topic can
    /// prove it); a subscription confirmation names no endpoint, so it proves only its own
    /// connection and never moves a route.
    pub async fn route_topic(&self, connection: &Connection) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::from([
                (keys::PK.into(), s(keys::topic(&connection.topic_arn))),
                (keys::SK.into(), s(keys::TOPIC_SK)),
                ("connection_id".into(), s(&connection.id)),
            ])))
            .send()
            .await?;
        Ok(())
    }

    pub async fn connection_secret(&self, cid: &str) -> Result<Option<Sealed>, StoreError> {
        self.get(keys::connection(cid), keys::SECRET_SK.into())
            .await?
            .map(|item| sealed_from(&item))
            .transpose()
    }

    /// Remembers a finished wiring step; a no-op on a connection deleted meanwhile.
    pub async fn record_wiring_step(
        &self,
        cid: &str,
        step: WiringStep,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .connection_update(cid)
            .update_expression("ADD steps_done :step SET updated_at = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":step", AttributeValue::Ss(vec![step.as_str().into()]))
            .expression_attribute_values(":t", time(now))
            .send()
            .await;
        ignore_missing(result).map(|_| ())
    }

    pub async fn get_connection(&self, cid: &str) -> Result<Option<Connection>, StoreError> {
        self.get(keys::connection(cid), keys::CONNECTION_SK.into())
            .await?
            .map(|item| connection_from(&item))
            .transpose()
    }

    pub async fn connection_for_topic(
        &self,
        topic_arn: &str,
    ) -> Result<Option<Connection>, StoreError> {
        let Some(item) = self
            .get(keys::topic(topic_arn), keys::TOPIC_SK.into())
            .await?
        else {
            return Ok(None);
        };
        self.get_connection(get_s(&item, "connection_id")?).await
    }

    pub async fn list_connections(&self, pid: &str) -> Result<Vec<Connection>, StoreError> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(keys::project_connections(pid)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await?;
        pages.iter().map(connection_from).collect()
    }

    /// Applies `transition` if the connection is in one of the states it may start from, and,
    /// when given, sets the last error (`Some(None)` clears it; reaching `active` always does).
    /// A connection deleted meanwhile, or in another state, is left as it is. Returns whether
    /// the transition applied.
    pub async fn transition(
        &self,
        cid: &str,
        transition: Transition,
        last_error: Option<Option<&str>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.conditional_transition(cid, transition, last_error, None, now)
            .await
    }

    /// SNS says the subscription was removed. A confirmation dated before the topic was last
    /// proven is stale (a replay, or a late copy of a removal since undone) and changes nothing.
    pub async fn unsubscribed(
        &self,
        cid: &str,
        removed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.conditional_transition(
            cid,
            Transition::Unsubscribed,
            None,
            Some(("topic_proven_at < :removed", ":removed", time(removed_at))),
            now,
        )
        .await
    }

    /// A notification signed after the removal revives the subscription; one signed before it
    /// (a late retry, a replay) does not: the removal set `updated_at`.
    pub async fn resubscribed(
        &self,
        cid: &str,
        signed_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.conditional_transition(
            cid,
            Transition::Resubscribed,
            None,
            Some(("updated_at < :signed", ":signed", time(signed_at))),
            now,
        )
        .await
    }

    async fn conditional_transition(
        &self,
        cid: &str,
        transition: Transition,
        last_error: Option<Option<&str>>,
        extra_condition: Option<(&str, &str, AttributeValue)>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let status = transition.to();
        let last_error = match status {
            ConnectionStatus::Active => Some(None),
            _ => last_error,
        };
        let mut update = self
            .connection_update(cid)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", s(status.as_str()))
            .expression_attribute_values(":t", time(now));
        let mut expression = String::from("SET #status = :s, updated_at = :t");
        match last_error {
            Some(Some(error)) => {
                expression.push_str(", last_error = :e");
                update = update.expression_attribute_values(":e", s(error));
            }
            Some(None) => expression.push_str(" REMOVE last_error"),
            None => {}
        }
        let (mut update, mut condition) = allowed_from(update, transition);
        if let Some((extra, placeholder, value)) = extra_condition {
            condition.push_str(" AND ");
            condition.push_str(extra);
            update = update.expression_attribute_values(placeholder, value);
        }
        let result = update
            .update_expression(expression)
            .condition_expression(condition)
            .send()
            .await;
        ignore_missing(result)
    }

    /// A customer stack's update: its (possibly new) role and set, to be checked again.
    /// Returns whether the update applied (not on a connection being deleted).
    pub async fn update_stack_connection(
        &self,
        cid: &str,
        role_arn: &str,
        configuration_set: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = self
            .connection_update(cid)
            .update_expression(
                "SET role_arn = :role, configuration_set = :set, #status = :s, updated_at = :t REMOVE last_error",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":role", s(role_arn))
            .expression_attribute_values(":set", s(configuration_set))
            .expression_attribute_values(":s", s(Transition::StackUpdated.to().as_str()))
            .expression_attribute_values(":t", time(now));
        let (update, condition) = allowed_from(result, Transition::StackUpdated);
        ignore_missing(update.condition_expression(condition).send().await)
    }

    pub async fn delete_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let delete = |pk: String, sk: &str| -> Result<TransactWriteItem, StoreError> {
            let delete = Delete::builder()
                .table_name(&self.table)
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .build()?;
            Ok(TransactWriteItem::builder().delete(delete).build())
        };
        self.client
            .transact_write_items()
            .transact_items(delete(
                keys::connection(&connection.id),
                keys::CONNECTION_SK,
            )?)
            .transact_items(delete(keys::connection(&connection.id), keys::SECRET_SK)?)
            .transact_items(delete(
                keys::account_claim(
                    &connection.project_id,
                    &connection.account_id,
                    &connection.region,
                ),
                keys::ACCOUNT_CLAIM_SK,
            )?)
            .send()
            .await?;
        // The topic's route, only if it is still this connection's (another project of the same
        // owner may have proven the topic since).
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::topic(&connection.topic_arn)))
            .key(keys::SK, s(keys::TOPIC_SK))
            .condition_expression("connection_id = :cid")
            .expression_attribute_values(":cid", s(&connection.id))
            .send()
            .await;
        match result {
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            other => other.map(|_| ()).map_err(Into::into),
        }
    }
}

type UpdateBuilder = aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

/// The condition that the connection exists and is in a state `transition` may start from (the
/// update must name `#status`).
fn allowed_from(mut update: UpdateBuilder, transition: Transition) -> (UpdateBuilder, String) {
    let from = transition.from();
    let names: Vec<String> = (0..from.len()).map(|i| format!(":from{i}")).collect();
    for (name, status) in names.iter().zip(from) {
        update = update.expression_attribute_values(name, s(status.as_str()));
    }
    let condition = format!("attribute_exists(pk) AND #status IN ({})", names.join(", "));
    (update, condition)
}

fn account_claim(connection: &Connection) -> Item {
    Item::from([
        (
            keys::PK.into(),
            s(keys::account_claim(
                &connection.project_id,
                &connection.account_id,
                &connection.region,
            )),
        ),
        (keys::SK.into(), s(keys::ACCOUNT_CLAIM_SK)),
        ("connection_id".into(), s(&connection.id)),
    ])
}

/// A conditional update on a connection deleted meanwhile (or in another state) changes nothing,
/// which is what the caller wants; says whether it applied.
fn ignore_missing<T>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >,
    >,
) -> Result<bool, StoreError> {
    match result {
        Err(e) if is_update_condition_failure(&e) => Ok(false),
        other => other.map(|_| true).map_err(Into::into),
    }
}

/// True when a conditional update changed nothing because its condition did not hold.
pub(super) fn is_update_condition_failure<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        R,
    >,
) -> bool {
    error
        .as_service_error()
        .is_some_and(|e| e.is_conditional_check_failed_exception())
}

/// True when a transaction was cancelled because a condition did not hold.
pub(super) fn is_condition_failure<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    cancellation_codes(error)
        .iter()
        .any(|c| c == "ConditionalCheckFailed")
}

/// The per-item reasons of a cancelled transaction, in the order the items were sent.
pub(super) fn cancellation_codes<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> Vec<String> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}
