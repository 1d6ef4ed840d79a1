//! The topic registry: which connection a topic's direct deliveries go to, and the proofs
//! that route them.

use chrono::{DateTime, Utc};
use model::Connection;

use crate::attrs::{Item, get_n, get_s, s, time};
use crate::conditions::{ignore_missing, ignore_missing_delete};
use crate::{Store, StoreError, keys};

impl Store {
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
        let Some(topic_arn) = connection.topic_arn() else {
            return Ok(());
        };
        let result = self
            .connection_update(&connection.id)
            .update_expression("SET topic_proven_at = :t")
            .condition_expression("attribute_exists(pk) AND topic_arn = :topic")
            .expression_attribute_values(":t", time(now))
            .expression_attribute_values(":topic", s(topic_arn))
            .send()
            .await;
        ignore_missing(result).map(|_| ())
    }

    /// Routes the topic's direct SNS → Lambda deliveries to the connection. Only a proof
    /// published to the topic does this (the latest wins: only who may publish to the topic can
    /// prove it); a subscription confirmation names no endpoint, so it proves only its own
    /// connection and never moves a route.
    pub async fn route_topic(&self, connection: &Connection) -> Result<(), StoreError> {
        let Some(topic_arn) = connection.topic_arn() else {
            return Ok(());
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Item::from([
                (keys::PK.into(), s(keys::topic(topic_arn))),
                (keys::SK.into(), s(keys::TOPIC_SK)),
                ("connection_id".into(), s(&connection.id)),
            ])))
            .send()
            .await?;
        Ok(())
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

    /// Forgets the topic's route, only if it is still this connection's (another project of the
    /// same owner may have proven the topic since).
    pub(crate) async fn unroute_topic(&self, topic_arn: &str, cid: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::topic(topic_arn)))
            .key(keys::SK, s(keys::TOPIC_SK))
            .condition_expression("connection_id = :cid")
            .expression_attribute_values(":cid", s(cid))
            .send()
            .await;
        ignore_missing_delete(result)
    }
}
