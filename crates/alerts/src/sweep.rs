//! The scheduled sweep: open alerts of counted rules re-read (time alone clears a rate or a
//! burst), and the rules only the schedule evaluates run for each connection they cover:
//! health through the wiring function's checks, silence from the connection's counters.

use chrono::{DateTime, TimeDelta, Utc};

use model::alert::Condition;
use model::{AlertRule, Connection, ConnectionMode, ConnectionStatus};
use store::alerts::OpenAlert;
use store::attrs::time_string;
use store::keys::{CounterScope, Granularity};
use store::{Store, StoreError};

use crate::reading::{self, Reading};
use crate::{counted, lifecycle};

/// What is wrong with a connection trackses wired: the wiring function's checks (reachable,
/// sending enabled, topic and subscription, configuration set, its event destination, the
/// identities it was attached to).
pub trait HealthCheck: Send + Sync {
    /// Its problems now (none: healthy); `Err` when that cannot be told now (a transient
    /// failure), which leaves its alert as it is.
    fn problems(
        &self,
        connection: &Connection,
    ) -> impl std::future::Future<Output = Result<Vec<String>, String>> + Send;
}

pub struct Sweep<H> {
    store: Store,
    health: H,
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub opened: usize,
    pub resolved: usize,
    /// Rule and subject pairs it could not evaluate (logged; the next sweep tries again).
    pub failed: usize,
}

impl Swept {
    fn count(&mut self, result: Result<Option<model::alert::Transition>, StoreError>, what: &str) {
        match result {
            Ok(Some(model::alert::Transition::Opened)) => self.opened += 1,
            Ok(Some(model::alert::Transition::Resolved)) => self.resolved += 1,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, what, "an alert could not be evaluated");
                self.failed += 1;
            }
        }
    }
}

impl<H: HealthCheck> Sweep<H> {
    pub fn new(store: Store, health: H) -> Sweep<H> {
        Sweep { store, health }
    }

    /// One sweep; `health` runs the health checks too (they call into customer accounts, so
    /// the schedule asks for them less often).
    pub async fn run(&self, now: DateTime<Utc>, health: bool) -> Result<Swept, StoreError> {
        let mut swept = Swept::default();
        for open in self.store.open_alerts().await? {
            let result = self.recheck(&open, now).await;
            swept.count(result, &open.rule_id);
        }
        for rule in self.store.scheduled_rules().await? {
            if matches!(rule.condition, Condition::ConnectionHealth) && !health {
                continue;
            }
            let connections = self.store.list_connections(&rule.project_id).await?;
            for connection in connections.iter().filter(|c| {
                rule.scope
                    .connection_id
                    .as_ref()
                    .is_none_or(|cid| *cid == c.id)
            }) {
                let result = match self.scheduled_reading(&rule, connection, now).await {
                    Ok(Some(reading)) => {
                        lifecycle::settle(&self.store, &rule, &connection.id, &reading, now).await
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                };
                swept.count(result, &rule.id);
            }
        }
        Ok(swept)
    }

    /// An open alert again: resolved if its rule or connection is gone, or a counted rule's
    /// condition cleared with time. Scheduled rules' alerts are settled with their rule.
    async fn recheck(
        &self,
        open: &OpenAlert,
        now: DateTime<Utc>,
    ) -> Result<Option<model::alert::Transition>, StoreError> {
        let Some(rule) = self
            .store
            .alert_rule(&open.project_id, &open.rule_id)
            .await?
        else {
            return lifecycle::resolve(&self.store, open, "the rule was deleted", now).await;
        };
        if let Some(reading) = counted::reading(&self.store, &rule, now).await? {
            return lifecycle::settle(&self.store, &rule, &open.subject, &reading, now).await;
        }
        match self.store.get_connection(&open.subject).await? {
            Some(connection) if connection.project_id == open.project_id => Ok(None),
            _ => lifecycle::resolve(&self.store, open, "the connection was deleted", now).await,
        }
    }

    /// What a scheduled rule says of one connection; `None` where it does not apply (or cannot
    /// be told now).
    async fn scheduled_reading(
        &self,
        rule: &AlertRule,
        connection: &Connection,
        now: DateTime<Utc>,
    ) -> Result<Option<Reading>, StoreError> {
        let settled = matches!(
            connection.status,
            ConnectionStatus::Active | ConnectionStatus::Error
        );
        match rule.condition {
            Condition::ConnectionHealth
                if settled && connection.mode() != ConnectionMode::Manual =>
            {
                match self.health.problems(connection).await {
                    Ok(mut problems) => {
                        // What EventBridge said, when verify did not see it itself.
                        let paused = connection.signals.sending.as_ref().filter(|s| !s.enabled);
                        if let Some(sending) = paused
                            && !problems.iter().any(|p| p.contains("sending"))
                        {
                            problems.push(format!(
                                "SES paused the account's sending at {}",
                                sending.at
                            ));
                        }
                        Ok(Some(reading::health(&problems)))
                    }
                    Err(e) => {
                        tracing::warn!(connection_id = %connection.id, error = e, "health unknown this time");
                        Ok(None)
                    }
                }
            }
            Condition::Silence { quiet_hours }
                if settled && connection.mode() == ConnectionMode::Manual =>
            {
                let hourly = self.hourly_events(connection, 2 * quiet_hours, now).await?;
                Ok(Some(reading::silence(&hourly, quiet_hours)))
            }
            _ => Ok(None),
        }
    }

    /// Events of a connection in each of the last `hours` hours, oldest first.
    async fn hourly_events(
        &self,
        connection: &Connection,
        hours: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<u64>, StoreError> {
        let first = now - TimeDelta::hours(i64::from(hours) - 1);
        let (from, to) = (time_string(first), time_string(now));
        let read = self
            .store
            .counters(
                &connection.project_id,
                CounterScope::Connection(&connection.id),
                Granularity::Hour,
                Granularity::Hour.bucket(&from),
                Granularity::Hour.bucket(&to),
            )
            .await?;
        Ok((0..hours)
            .map(|hour| {
                let at = time_string(first + TimeDelta::hours(i64::from(hour)));
                read.buckets
                    .get(Granularity::Hour.bucket(&at))
                    .map(|counts| {
                        model::EventType::ALL
                            .iter()
                            .filter_map(|t| counts.get(t.as_str()))
                            .sum()
                    })
                    .unwrap_or(0)
            })
            .collect())
    }
}
