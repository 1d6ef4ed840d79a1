//! Reading and writing DynamoDB attribute values without repeating the enum plumbing.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, SecondsFormat, Utc};

use super::StoreError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Fixed width with milliseconds and `Z`, so stored times sort as strings.
pub fn time(value: DateTime<Utc>) -> AttributeValue {
    s(time_string(value))
}

pub fn time_string(value: DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Epoch milliseconds: as a number, a time takes 8 bytes of an item instead of 24.
pub fn millis(value: DateTime<Utc>) -> AttributeValue {
    n(value.timestamp_millis())
}

pub fn get_millis(item: &Item, name: &str) -> Result<DateTime<Utc>, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} is not a time")))
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} missing")))
}

pub fn opt_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub fn get_n(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn get_time(item: &Item, name: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(get_s(item, name)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not a time")))
}

pub fn get_json<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, name)?)
        .map_err(|e| StoreError::Corrupt(format!("attribute {name}: {e}")))
}

/// An item's size as DynamoDB bills it: each attribute's name and value, a number a byte per
/// two significant digits plus one. Sets, lists and maps sum their members (with the few bytes
/// of overhead DynamoDB adds to lists and maps left out: event items hold none).
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(text) => text.len(),
        AttributeValue::N(number) => number_size(number),
        AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
        AttributeValue::Ns(set) => set.iter().map(|n| number_size(n)).sum(),
        AttributeValue::B(blob) => blob.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(list) => list.iter().map(value_size).sum(),
        AttributeValue::M(map) => item_size(map),
        _ => 0,
    }
}

fn number_size(number: &str) -> usize {
    let digits = number.trim_start_matches(['-', '0']).replace('.', "");
    digits.trim_end_matches('0').len().div_ceil(2) + 1
}

/// What writing `item` costs: a write unit per started kilobyte.
pub fn write_units(item: &Item) -> usize {
    item_size(item).div_ceil(1024).max(1)
}
