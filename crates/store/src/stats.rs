//! Reading counters back: one query, a counter item per bucket.

use std::collections::BTreeMap;

use super::attrs::{Item, s};
use super::keys::{self, CounterScope, Granularity};
use super::{Store, StoreError};

/// Counts per bucket (`YYYY-MM-DD` or `YYYY-MM-DDTHH`), then per counter name.
pub type Buckets = BTreeMap<String, BTreeMap<String, u64>>;

#[derive(Debug, Default)]
pub struct CounterRead {
    pub buckets: Buckets,
    /// Items DynamoDB read to answer: the cost the stats bound is about.
    pub items_read: usize,
}

impl Store {
    /// Counters of `scope` between two buckets, inclusive.
    pub async fn counters(
        &self,
        pid: &str,
        scope: CounterScope<'_>,
        granularity: Granularity,
        first: &str,
        last: &str,
    ) -> Result<CounterRead, StoreError> {
        self.read_counters(pid, scope, granularity, (first, last), false)
            .await
    }

    /// An alert rule's counters between two buckets, read consistently: its evaluation follows
    /// the write of the window it judges.
    pub async fn rule_counters(
        &self,
        pid: &str,
        rule_id: &str,
        granularity: Granularity,
        first: &str,
        last: &str,
    ) -> Result<CounterRead, StoreError> {
        let scope = CounterScope::Rule(rule_id);
        self.read_counters(pid, scope, granularity, (first, last), true)
            .await
    }

    async fn read_counters(
        &self,
        pid: &str,
        scope: CounterScope<'_>,
        granularity: Granularity,
        (first, last): (&str, &str),
        consistent: bool,
    ) -> Result<CounterRead, StoreError> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(consistent)
            .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :last")
            .expression_attribute_values(":pk", s(keys::counters(pid, scope, granularity)))
            .expression_attribute_values(":first", s(first))
            .expression_attribute_values(":last", s(last))
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await?;
        let mut read = CounterRead::default();
        for page in pages {
            read.items_read += usize::try_from(page.scanned_count()).unwrap_or_default();
            for item in page.items() {
                add_item(&mut read.buckets, item);
            }
        }
        Ok(read)
    }
}

fn add_item(buckets: &mut Buckets, item: &Item) {
    let Some(bucket) = item.get(keys::SK).and_then(|v| v.as_s().ok()) else {
        return;
    };
    let counts = buckets.entry(bucket.clone()).or_default();
    for (name, value) in item {
        if let Some(n) = value.as_n().ok().and_then(|n| n.parse::<u64>().ok()) {
            *counts.entry(name.clone()).or_default() += n;
        }
    }
}
