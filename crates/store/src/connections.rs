//! Connections, and the topic registry that says which connection a topic belongs to.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::attrs::{Item, n, s, time};
use super::conditions::{ignore_missing, is_condition_failure};
use super::connection_items::{connection_from, connection_item, sealed_from, secret_item};
use super::{Store, StoreError, keys};
use model::Sealed;
use model::connection::{TopicProof, Transition};
use model::{Connection, ConnectionMode, ConnectionStatus, Delivery, WiringStep};

impl Store {
    pub(crate) fn connection_update(&self, cid: &str) -> UpdateBuilder {
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
        if connection.mode() != ConnectionMode::Manual {
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

    /// Remembers that trackses attached its set to `identity` (or detached it); a no-op on a
    /// connection deleted meanwhile.
    pub async fn note_attachment(
        &self,
        cid: &str,
        identity: &str,
        attached: bool,
    ) -> Result<(), StoreError> {
        let verb = if attached { "ADD" } else { "DELETE" };
        let result = self
            .connection_update(cid)
            .update_expression(format!("{verb} #attached :identity"))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#attached", crate::connection_items::ATTACHED)
            .expression_attribute_values(":identity", AttributeValue::Ss(vec![identity.to_owned()]))
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
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(delete(
                keys::connection(&connection.id),
                keys::CONNECTION_SK,
            )?)
            .transact_items(delete(keys::connection(&connection.id), keys::SECRET_SK)?);
        // Only a connection trackses wires claims its (project, account, region): a manual one
        // beside it must not release the claim of the one that holds it.
        if connection.mode() != ConnectionMode::Manual {
            transaction = transaction.transact_items(delete(
                keys::account_claim(
                    &connection.project_id,
                    &connection.account_id,
                    &connection.region,
                ),
                keys::ACCOUNT_CLAIM_SK,
            )?);
        }
        // An EventBridge route goes first: it alone admits the account's events, and a route
        // outliving its connection (a failure between the two) would keep storing them for the
        // project. Deleting it again on a retry changes nothing.
        if connection.delivery == Delivery::EventBridge {
            self.unroute_eventbridge(connection, &connection.configuration_set_name())
                .await?;
        }
        transaction.send().await?;
        match connection.topic_arn() {
            Some(topic_arn) => self.unroute_topic(topic_arn, &connection.id).await,
            None => Ok(()),
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
