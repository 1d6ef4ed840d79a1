//! Recipients a project should stop mailing: a Permanent bounce or a complaint.

use serde::Serialize;

use super::attrs::{get_s, s};
use super::{Store, StoreError, keys};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suppression {
    pub recipient: String,
    pub reason: String,
    pub last_event_at: String,
    pub ses_message_id: String,
}

impl Store {
    /// One page in recipient order; the cursor is the last recipient returned.
    pub async fn suppressions(
        &self,
        pid: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Suppression>, Option<String>), StoreError> {
        let start = after.map(|recipient| {
            [
                (keys::PK.to_owned(), s(keys::suppressions(pid))),
                (keys::SK.to_owned(), s(recipient)),
            ]
            .into()
        });
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::suppressions(pid)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        let items = output
            .items()
            .iter()
            .map(|item| {
                Ok(Suppression {
                    recipient: get_s(item, keys::SK)?.to_owned(),
                    reason: get_s(item, "reason")?.to_owned(),
                    last_event_at: get_s(item, "last_event_at")?.to_owned(),
                    ses_message_id: get_s(item, "ses_message_id")?.to_owned(),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let next = output
            .last_evaluated_key
            .and_then(|key| key.get(keys::SK).and_then(|v| v.as_s().ok()).cloned());
        Ok((items, next))
    }
}
