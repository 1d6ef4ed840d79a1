//! Role-mode links: the hash of each link's connection token and what it stands for.

use chrono::{DateTime, Utc};

use super::attrs::{Item, get_s, n, s};
use super::conditions::is_update_condition_failure;
use super::{Store, StoreError, keys};
use model::Onboarding;

fn onboarding_item(o: &Onboarding) -> Item {
    Item::from([
        (keys::PK.into(), s(keys::onboarding(&o.token_sha256))),
        (keys::SK.into(), s(keys::ONBOARDING_SK)),
        ("project_id".into(), s(&o.project_id)),
        ("connection_id".into(), s(&o.connection_id)),
        ("region".into(), s(&o.region)),
        // Also the TTL: DynamoDB removes links nobody used.
        (keys::TTL.into(), n(o.expires_at.timestamp())),
    ])
}

fn onboarding_from(token_sha256: &str, item: &Item) -> Result<Onboarding, StoreError> {
    let expires_at = item
        .get(keys::TTL)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .ok_or_else(|| StoreError::Corrupt("onboarding expiry".into()))?;
    Ok(Onboarding {
        token_sha256: token_sha256.to_owned(),
        project_id: get_s(item, "project_id")?.to_owned(),
        connection_id: get_s(item, "connection_id")?.to_owned(),
        region: get_s(item, "region")?.to_owned(),
        expires_at,
    })
}

impl Store {
    pub async fn put_onboarding(&self, onboarding: &Onboarding) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(onboarding_item(onboarding)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// The link a token belongs to, while it is valid (TTL deletion can lag by days).
    pub async fn onboarding(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Onboarding>, StoreError> {
        let item = self
            .get(keys::onboarding(token_sha256), keys::ONBOARDING_SK.into())
            .await?;
        Ok(item
            .map(|item| onboarding_from(token_sha256, &item))
            .transpose()?
            .filter(|o| o.expires_at > now))
    }

    /// Binds the link to the stack that used it; false when another stack got there first.
    pub async fn claim_onboarding(
        &self,
        token_sha256: &str,
        stack_id: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::onboarding(token_sha256)))
            .key(keys::SK, s(keys::ONBOARDING_SK))
            .update_expression("SET stack_id = :stack")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(stack_id) OR stack_id = :stack)",
            )
            .expression_attribute_values(":stack", s(stack_id))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_update_condition_failure(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
