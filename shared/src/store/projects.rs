//! Projects and their API keys (hashes only).

use super::attrs::{Item, get_s, get_time, s, time};
use super::{Store, StoreError, keys};
use crate::model::{ApiKeyRecord, Project};

fn project_item(project: &Project) -> Item {
    Item::from([
        (keys::PK.into(), s(keys::project(&project.id))),
        (keys::SK.into(), s(keys::PROJECT_SK)),
        ("name".into(), s(&project.name)),
        ("external_id".into(), s(&project.external_id)),
        ("created_at".into(), time(project.created_at)),
    ])
}

fn key_item(key: &ApiKeyRecord) -> Item {
    Item::from([
        (keys::PK.into(), s(keys::project(&key.project_id))),
        (keys::SK.into(), s(keys::api_key_sk(&key.id))),
        ("secret_sha256".into(), s(&key.secret_sha256)),
        ("created_at".into(), time(key.created_at)),
    ])
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

    pub async fn put_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(key_item(key)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    pub async fn get_api_key(
        &self,
        pid: &str,
        kid: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let item = self.get(keys::project(pid), keys::api_key_sk(kid)).await?;
        item.map(|item| {
            Ok(ApiKeyRecord {
                id: kid.to_owned(),
                project_id: pid.to_owned(),
                secret_sha256: get_s(&item, "secret_sha256")?.to_owned(),
                created_at: get_time(&item, "created_at")?,
            })
        })
        .transpose()
    }

    /// Returns whether a key was there to delete.
    pub async fn delete_api_key(&self, pid: &str, kid: &str) -> Result<bool, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(keys::PK, s(keys::project(pid)))
            .key(keys::SK, s(keys::api_key_sk(kid)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await?;
        Ok(output.attributes.is_some())
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
