//! Connections, and the topic registry that says which connection a topic belongs to.

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::attrs::{Item, get_s, get_time, opt_s, s, time};
use super::{Store, StoreError, keys};
use crate::model::{Connection, ConnectionMode, ConnectionStatus};

fn parsed<T>(item: &Item, name: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(get_s(item, name)?).ok_or_else(|| StoreError::Corrupt(format!("attribute {name}")))
}

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
    ]);
    if let Some(set) = &c.configuration_set {
        item.insert("configuration_set".into(), s(set));
    }
    if let Some(error) = &c.last_error {
        item.insert("last_error".into(), s(error));
    }
    item
}

fn connection_from(item: &Item) -> Result<Connection, StoreError> {
    let id = get_s(item, keys::PK)?
        .strip_prefix("C#")
        .ok_or_else(|| StoreError::Corrupt("connection key".into()))?;
    Ok(Connection {
        id: id.to_owned(),
        project_id: get_s(item, "project_id")?.to_owned(),
        mode: parsed(item, "mode", ConnectionMode::parse)?,
        status: parsed(item, "status", ConnectionStatus::parse)?,
        account_id: get_s(item, "account_id")?.to_owned(),
        region: get_s(item, "region")?.to_owned(),
        topic_arn: get_s(item, "topic_arn")?.to_owned(),
        configuration_set: opt_s(item, "configuration_set"),
        last_error: opt_s(item, "last_error"),
        created_at: get_time(item, "created_at")?,
        updated_at: get_time(item, "updated_at")?,
    })
}

impl Store {
    /// Registers the connection and claims its topic; a topic belongs to one connection only.
    pub async fn create_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let topic = Item::from([
            (keys::PK.into(), s(keys::topic(&connection.topic_arn))),
            (keys::SK.into(), s(keys::TOPIC_SK)),
            ("connection_id".into(), s(&connection.id)),
        ]);
        let result = self
            .client
            .transact_write_items()
            .transact_items(self.new_item(connection_item(connection))?)
            .transact_items(self.new_item(topic)?)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(e.into()),
        }
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

    /// Moves a connection to `status` unless it was deleted meanwhile.
    pub async fn set_connection_status(
        &self,
        cid: &str,
        status: ConnectionStatus,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::connection(cid)))
            .key(keys::SK, s(keys::CONNECTION_SK))
            .update_expression("SET #status = :s, updated_at = :t")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", s(status.as_str()))
            .expression_attribute_values(":t", time(now))
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
            .transact_items(delete(keys::topic(&connection.topic_arn), keys::TOPIC_SK)?)
            .send()
            .await?;
        Ok(())
    }
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
