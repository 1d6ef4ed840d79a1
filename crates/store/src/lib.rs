//! The DynamoDB adapter: single-table storage. Key layout in `keys`; nothing else builds keys.
//! It implements the ingest core's port (`ingest_port`) and serves every other reader and writer.

pub mod alerts;
pub mod attrs;
mod conditions;
mod connection_items;
mod connection_port;
pub mod connections;
pub mod counters;
pub mod endpoints;
pub mod event_item;
pub mod eventbridge;
pub mod events;
mod ingest_port;
pub mod ingest_write;
pub mod keys;
pub mod onboarding;
pub mod projects;
pub mod stats;
pub mod summary;
pub mod suppressions;
mod topics;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

use attrs::Item;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB call failed: {0}")]
    Dynamo(String),
    #[error("a stored item is corrupt: {0}")]
    Corrupt(String),
    #[error("the item already exists")]
    AlreadyExists,
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn from(error: SdkError<E, R>) -> Self {
        StoreError::Dynamo(DisplayErrorContext(&error).to_string())
    }
}

impl From<aws_sdk_dynamodb::error::BuildError> for StoreError {
    fn from(error: aws_sdk_dynamodb::error::BuildError) -> Self {
        StoreError::Dynamo(error.to_string())
    }
}

/// The table, and the client that reaches it: built once per cold start.
#[derive(Clone)]
pub struct Store {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Store {
    /// The table of `config`, through the function's one SDK configuration.
    pub fn connect(config: &runtime::Config, aws: &aws_types::SdkConfig) -> Store {
        Store::new(aws_sdk_dynamodb::Client::new(aws), &config.table_name)
    }

    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Store {
        Store {
            client,
            table: table.into(),
        }
    }

    /// A store that builds items and requests but has nowhere to send them: for measuring and
    /// checking what the writes would be (benchmarks, simulations, size tests).
    pub fn offline(table: impl Into<String>) -> Store {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
            .build();
        Store::new(aws_sdk_dynamodb::Client::from_conf(config), table)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// A put that fails the transaction if the key is already taken.
    fn new_item(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        self.put(item, Some("attribute_not_exists(pk)"))
    }
}
