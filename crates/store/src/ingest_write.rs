//! Storing one SES notification, whichever carrier delivered it: one conditional put per
//! recipient, nothing else.
//!
//! Each event's key is derived from the delivery (the SNS message id or EventBridge event id, and
//! the recipient), so a copy of a stored delivery finds its keys taken and changes nothing:
//! events stay exact however often SNS, EventBridge or the queue redeliver, without a
//! transaction (which bills every item twice) or a separate marker. A failure part-way surfaces
//! as an error; the carrier delivers the whole message again and the puts that landed the first
//! time are the duplicates the second. Counters and suppressions follow from the
//! table's stream (`counters`), off this path.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use futures_util::future::try_join_all;

use super::event_item::EventRow;
use super::{Store, StoreError, attrs::Item, keys};
use ingest::{IngestWrite, WriteOutcome};

impl Store {
    /// The item of each recipient's event, without calling DynamoDB.
    pub fn ingest_items(&self, write: &IngestWrite<'_>) -> Result<Vec<Item>, StoreError> {
        let notification = write.notification;
        write
            .events(&notification.recipients)
            .map(|event| {
                EventRow {
                    project_id: write.project_id,
                    sk: keys::event_sk(write.delivery_id, &event.recipient),
                    sent_at: notification.mail.sent_at,
                    expires_at: write.expires_at,
                    event: &event,
                }
                .item()
            })
            .collect()
    }

    /// Puts an event unless its key is taken; says whether it was new.
    async fn put_new(&self, item: Item) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a notification once: the recipients' puts run side by side (SES names at most 50).
    pub async fn write_ingest(&self, write: &IngestWrite<'_>) -> Result<WriteOutcome, StoreError> {
        let puts = self
            .ingest_items(write)?
            .into_iter()
            .map(|i| self.put_new(i));
        let stored = try_join_all(puts)
            .await?
            .into_iter()
            .filter(|new| *new)
            .count();
        Ok(if stored == 0 {
            WriteOutcome::Duplicate
        } else {
            WriteOutcome::Stored { events: stored }
        })
    }
}

#[cfg(test)]
#[path = "ingest_write_tests.rs"]
mod tests;
