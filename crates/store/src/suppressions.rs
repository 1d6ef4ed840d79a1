//! Recipients a project should stop mailing: a Permanent bounce or a complaint.

use serde::Serialize;

use super::attrs::get_s;
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
        let (items, next) = self
            .partition_page(&keys::suppressions(pid), after, limit, false)
            .await?;
        let items = items
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
        Ok((items, next))
    }
}
