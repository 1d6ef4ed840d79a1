//! Projects and their API keys (hashes only).

use aws_sdk_dynamodb::types::{Delete, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::attrs::{Item, get_s, get_time, n, opt_s, s, time};
use super::conditions::is_condition_failure;
use super::{Store, StoreError, keys};
use model::{ApiKeyRecord, KeyScope, Project};

/// The project item counts its admin keys, so revoking the last one can be refused in the same
/// transaction that would delete it (two concurrent revocations cannot both win).
const ADMIN_KEYS: &str = "admin_keys";

fn project_item(project: &Project) -> Item {
    Item::from([
        (keys::PK.into(), s(keys::project(&project.id))),
        (keys::SK.into(), s(keys::PROJECT_SK)),
        ("name".into(), s(&project.name)),
        ("external_id".into(), s(&project.external_id)),
        ("created_at".into(), time(project.created_at)),
        // The first key, created with the project, is its admin key.
        (ADMIN_KEYS.into(), n(1)),
    ])
}

fn key_item(key: &ApiKeyRecord) -> Item {
    let mut item = Item::from([
        (keys::PK.into(), s(keys::project(&key.project_id))),
        (keys::SK.into(), s(keys::api_key_sk(&key.id))),
        ("secret_sha256".into(), s(&key.secret_sha256)),
        ("scope".into(), s(key.scope.as_str())),
        ("created_at".into(), time(key.created_at)),
        (keys::GSI1_PK.into(), s(keys::api_key_lookup(&key.id))),
        (keys::GSI1_SK.into(), s(keys::API_KEY_LOOKUP_SK)),
    ]);
    if let Some(label) = &key.label {
        item.insert("label".into(), s(label));
    }
    item
}

/// A key item found through the index, which names its project only in its partition key.
fn key_from_indexed(item: &Item) -> Result<ApiKeyRecord, StoreError> {
    let pid = get_s(item, keys::PK)?
        .strip_prefix("P#")
        .ok_or_else(|| StoreError::Corrupt("API key partition key".into()))?;
    key_from(pid, item)
}

fn key_from(pid: &str, item: &Item) -> Result<ApiKeyRecord, StoreError> {
    let kid = get_s(item, keys::SK)?
        .strip_prefix("KEY#")
        .ok_or_else(|| StoreError::Corrupt("API key sort key".into()))?;
    Ok(ApiKeyRecord {
        id: kid.to_owned(),
        project_id: pid.to_owned(),
        secret_sha256: get_s(item, "secret_sha256")?.to_owned(),
        scope: KeyScope::parse(opt_s(item, "scope").as_deref())
            .ok_or_else(|| StoreError::Corrupt("API key scope".into()))?,
        label: opt_s(item, "label"),
        created_at: get_time(item, "created_at")?,
        last_used_at: item
            .contains_key("last_used_at")
            .then(|| get_time(item, "last_used_at"))
            .transpose()?,
    })
}

/// Why a key could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("no such API key")]
    NotFound,
    #[error("the project's last admin key cannot be revoked: create another admin key first")]
    LastAdminKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The project and its first key land together or not at all.
    pub async fn create_project(
        &self,
        project: &Project,
        key: &ApiKeyRecord,
    ) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .transact_items(self.new_item(project_item(project))?)
            .transact_items(self.new_item(key_item(key))?)
            .send()
            .await?;
        Ok(())
    }

    pub async fn get_project(&self, pid: &str) -> Result<Option<Project>, StoreError> {
        let item = self
            .get(keys::project(pid), keys::PROJECT_SK.into())
            .await?;
        item.map(|item| {
            Ok(Project {
                id: pid.to_owned(),
                name: get_s(&item, "name")?.to_owned(),
                external_id: get_s(&item, "external_id")?.to_owned(),
                created_at: get_time(&item, "created_at")?,
            })
        })
        .transpose()
    }

    /// Projects made before admin keys were counted have no count: set it from their keys once,
    /// before anything adds to or takes from it.
    async fn count_admin_keys_once(&self, pid: &str) -> Result<(), StoreError> {
        let counted = self
            .get(keys::project(pid), keys::PROJECT_SK.into())
            .await?
            .is_none_or(|project| project.contains_key(ADMIN_KEYS));
        if counted {
            return Ok(());
        }
        let admins = self
            .list_api_keys(pid)
            .await?
            .iter()
            .filter(|k| k.scope == KeyScope::Admin)
            .count();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::project(pid)))
            .key(keys::SK, s(keys::PROJECT_SK))
            .update_expression("SET #admins = :n")
            .condition_expression("attribute_not_exists(#admins)")
            .expression_attribute_names("#admins", ADMIN_KEYS)
            .expression_attribute_values(":n", n(admins))
            .send()
            .await;
        match result {
            // Counted meanwhile by a concurrent request: that count stands.
            Err(e) if super::conditions::is_update_condition_failure(&e) => Ok(()),
            other => other.map(|_| ()).map_err(Into::into),
        }
    }

    /// Stores a new key; an admin key is counted on the project in the same transaction.
    pub async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        if key.scope == KeyScope::Admin {
            self.count_admin_keys_once(&key.project_id).await?;
        }
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(self.new_item(key_item(key))?);
        if key.scope == KeyScope::Admin {
            transaction = transaction.transact_items(self.admin_keys_change(
                &key.project_id,
                1,
                "attribute_exists(pk)",
            )?);
        }
        transaction.send().await?;
        Ok(())
    }

    fn admin_keys_change(
        &self,
        pid: &str,
        by: i64,
        condition: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::project(pid)))
            .key(keys::SK, s(keys::PROJECT_SK))
            .update_expression("ADD #admins :by")
            .condition_expression(condition)
            .expression_attribute_names("#admins", ADMIN_KEYS)
            .expression_attribute_values(":by", n(by));
        // DynamoDB refuses a value the expressions do not use.
        let update = if condition.contains(":one") {
            update.expression_attribute_values(":one", n(1))
        } else {
            update
        }
        .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    pub async fn get_api_key(
        &self,
        pid: &str,
        kid: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.get(keys::project(pid), keys::api_key_sk(kid))
            .await?
            .map(|item| key_from(pid, &item))
            .transpose()
    }

    /// The key with this id, whatever its project. Key ids are unique (ULIDs), so one item at
    /// most; the index is eventually consistent, so a key may be found a moment after it is
    /// made rather than at once.
    pub async fn find_api_key(&self, kid: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let found = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI1)
            .key_condition_expression("gsi1pk = :k AND gsi1sk = :s")
            .expression_attribute_values(":k", s(keys::api_key_lookup(kid)))
            .expression_attribute_values(":s", s(keys::API_KEY_LOOKUP_SK))
            .limit(1)
            .send()
            .await?;
        found.items().first().map(key_from_indexed).transpose()
    }

    pub async fn list_api_keys(&self, pid: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND begins_with(sk, :k)")
            .expression_attribute_values(":p", s(keys::project(pid)))
            .expression_attribute_values(":k", s("KEY#"))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await?;
        items.iter().map(|item| key_from(pid, item)).collect()
    }

    /// Remembers when a key was last used; callers do it at most hourly per key, so the cost is
    /// one write an hour, not one per request. It also indexes keys made before keys could be
    /// found by id alone, so they sign in without their project id after their next use.
    pub async fn touch_api_key(
        &self,
        key: &ApiKeyRecord,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::project(&key.project_id)))
            .key(keys::SK, s(keys::api_key_sk(&key.id)))
            .update_expression("SET last_used_at = :t, gsi1pk = :k, gsi1sk = :s")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", time(now))
            .expression_attribute_values(":k", s(keys::api_key_lookup(&key.id)))
            .expression_attribute_values(":s", s(keys::API_KEY_LOOKUP_SK))
            .send()
            .await?;
        Ok(())
    }

    /// Deletes a key; an admin key only while another admin key remains, decided in the same
    /// transaction as the delete.
    pub async fn revoke_api_key(&self, key: &ApiKeyRecord) -> Result<(), RevokeError> {
        if key.scope == KeyScope::Admin {
            self.count_admin_keys_once(&key.project_id).await?;
        }
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(keys::PK, s(keys::project(&key.project_id)))
            .key(keys::SK, s(keys::api_key_sk(&key.id)))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(StoreError::from)?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().delete(delete).build());
        if key.scope == KeyScope::Admin {
            transaction = transaction.transact_items(self.admin_keys_change(
                &key.project_id,
                -1,
                "#admins > :one",
            )?);
        }
        match transaction.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => {
                let codes = super::conditions::cancellation_codes(&e);
                if codes.first().map(String::as_str) == Some("ConditionalCheckFailed") {
                    Err(RevokeError::NotFound)
                } else {
                    Err(RevokeError::LastAdminKey)
                }
            }
            Err(e) => Err(StoreError::from(e).into()),
        }
    }

    /// Deletes an item; whether it was there.
    pub(super) async fn delete_existing(&self, pk: String, sk: String) -> Result<bool, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await?;
        Ok(output.attributes.is_some())
    }

    /// One page of a partition in sort-key order (`newest_first`: descending), from after the
    /// item whose sort key is `after`; the page's items and the cursor of the next page (the
    /// last sort key read), `None` on the last.
    pub(super) async fn partition_page(
        &self,
        pk: &str,
        after: Option<&str>,
        limit: usize,
        newest_first: bool,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let start =
            after.map(|sk| [(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))].into());
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(!newest_first)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        let next = output
            .last_evaluated_key
            .and_then(|key| key.get(keys::SK).and_then(|v| v.as_s().ok()).cloned());
        Ok((output.items.unwrap_or_default(), next))
    }

    /// Every item of one partition (the few the sweep reads whole).
    pub(super) async fn partition(&self, pk: &str) -> Result<Vec<Item>, StoreError> {
        Ok(self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await?)
    }

    pub(super) async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item)
    }
}
