//! The EventBridge route registry: which connections an account's forwarded events belong to,
//! and the account signals kept on those connections.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use model::Connection;
use model::connection::EventBridgeRoute;
use model::signals::Signal;

use crate::attrs::{Item, get_s, s, time};
use crate::conditions::{ignore_missing, ignore_missing_delete, is_condition_failure};
use crate::connection_items::{ADVICE_AT, ADVISOR, SENDING_AT, SENDING_ENABLED, advice_item};
use crate::{Store, StoreError, keys};

impl Store {
    /// Routes the account's events of the (EventBridge) connection's configuration set to it,
    /// once its role proved trackses may act in that account with the project's external id (the
    /// wiring function calls this), and forgets its routes of any set it had before (a stack
    /// update may rename it). A set routed to another connection stays theirs: false.
    pub async fn route_eventbridge(
        &self,
        connection: &Connection,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let route = Item::from([
            (
                keys::PK.into(),
                s(keys::eventbridge_routes(
                    &connection.account_id,
                    &connection.region,
                )),
            ),
            (keys::SK.into(), s(connection.configuration_set_name())),
            ("connection_id".into(), s(&connection.id)),
            ("project_id".into(), s(&connection.project_id)),
        ]);
        let proven = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection(&connection.id)))
            .key(keys::SK, s(keys::CONNECTION_SK))
            // The advisor's map is made here, as its recommendations are kept one per key.
            .update_expression(format!(
                "SET topic_proven_at = if_not_exists(topic_proven_at, :t), {ADVISOR} = if_not_exists({ADVISOR}, :none)"
            ))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", time(now))
            .expression_attribute_values(":none", AttributeValue::M(Default::default()))
            .build()?;
        // A set routed to this connection already (a retried wiring run) is routed again.
        let route = Put::builder()
            .table_name(&self.table)
            .set_item(Some(route))
            .condition_expression("attribute_not_exists(pk) OR connection_id = :cid")
            .expression_attribute_values(":cid", s(&connection.id))
            .build()?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(route).build())
            .transact_items(TransactWriteItem::builder().update(proven).build())
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if is_condition_failure(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        let set = connection.configuration_set_name();
        for earlier in self
            .eventbridge_routes(&connection.account_id, &connection.region)
            .await?
            .into_iter()
            .filter(|r| r.connection_id == connection.id && r.configuration_set != set)
        {
            self.unroute_eventbridge(connection, &earlier.configuration_set)
                .await?;
        }
        Ok(true)
    }

    /// Every route of the account in the region (one per connected configuration set).
    pub async fn eventbridge_routes(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<Vec<EventBridgeRoute>, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::eventbridge_routes(account_id, region)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await?;
        items
            .iter()
            .map(|item| {
                Ok(EventBridgeRoute {
                    configuration_set: get_s(item, keys::SK)?.to_owned(),
                    connection_id: get_s(item, "connection_id")?.to_owned(),
                    project_id: get_s(item, "project_id")?.to_owned(),
                })
            })
            .collect()
    }

    /// Forgets the connection's route of `set`, if it is still its own.
    pub(crate) async fn unroute_eventbridge(
        &self,
        connection: &Connection,
        set: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(
                keys::PK,
                s(keys::eventbridge_routes(
                    &connection.account_id,
                    &connection.region,
                )),
            )
            .key(keys::SK, s(set))
            .condition_expression("connection_id = :cid")
            .expression_attribute_values(":cid", s(&connection.id))
            .send()
            .await;
        ignore_missing_delete(result)
    }

    /// Keeps the signal on the connection unless a later one of its kind is already there
    /// (EventBridge delivers in no particular order, and at least once). Whether it applied.
    pub async fn record_signal(&self, cid: &str, signal: &Signal) -> Result<bool, StoreError> {
        let update = self
            .connection_update(cid)
            .expression_attribute_values(":at", time(signal.at()));
        let update = match signal {
            Signal::Sending(sending) => update
                .update_expression(format!("SET {SENDING_ENABLED} = :v, {SENDING_AT} = :at"))
                .condition_expression(format!(
                    "attribute_exists(pk) AND (attribute_not_exists({SENDING_AT}) OR {SENDING_AT} < :at)"
                ))
                .expression_attribute_values(":v", AttributeValue::Bool(sending.enabled)),
            // One entry per recommendation. Advisor events carry whole seconds only: of two in
            // one second, the later to arrive is kept.
            Signal::Advisor(advice) => update
                .update_expression(format!("SET {ADVISOR}.#key = :v"))
                .condition_expression(format!(
                    "attribute_exists({ADVISOR}) AND (attribute_not_exists({ADVISOR}.#key) OR {ADVISOR}.#key.#at <= :at)"
                ))
                .expression_attribute_names("#key", advice.key())
                .expression_attribute_names("#at", ADVICE_AT)
                .expression_attribute_values(":v", advice_item(advice)),
        };
        ignore_missing(update.send().await)
    }
}
