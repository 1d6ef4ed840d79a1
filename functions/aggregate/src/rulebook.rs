//! Projects' alert rules, as `aggregate` needs them for every window: read once per project and
//! kept a short while (`Config::alert_rules_fresh_for`, 30 s: a new or deleted rule counts from
//! at most that much later), so a busy project costs one rules query per container per half
//! minute, not one per window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use model::AlertRule;
use store::{Store, StoreError};

type Rules = Arc<Vec<AlertRule>>;

pub struct RuleBook {
    store: Store,
    fresh_for: Duration,
    read: Mutex<HashMap<String, (Instant, Rules)>>,
}

impl RuleBook {
    pub fn new(store: Store, fresh_for: Duration) -> RuleBook {
        RuleBook {
            store,
            fresh_for,
            read: Mutex::new(HashMap::new()),
        }
    }

    /// The rules of each of `projects` that has any.
    pub async fn of<'p>(
        &self,
        projects: impl Iterator<Item = &'p str>,
    ) -> Result<HashMap<String, Rules>, StoreError> {
        let mut wanted: Vec<&str> = projects.collect();
        wanted.sort_unstable();
        wanted.dedup();
        let (mut found, mut stale) = (HashMap::new(), Vec::new());
        {
            let read = self.read.lock().unwrap_or_else(|e| e.into_inner());
            for pid in wanted {
                match read.get(pid) {
                    Some((at, rules)) if at.elapsed() < self.fresh_for => {
                        found.insert(pid.to_owned(), rules.clone());
                    }
                    _ => stale.push(pid),
                }
            }
        }
        let fetched = try_join_all(stale.iter().map(|pid| self.store.alert_rules(pid))).await?;
        let mut read = self.read.lock().unwrap_or_else(|e| e.into_inner());
        for (pid, rules) in stale.into_iter().zip(fetched) {
            let rules = Arc::new(rules);
            read.insert(pid.to_owned(), (Instant::now(), rules.clone()));
            found.insert(pid.to_owned(), rules);
        }
        found.retain(|_, rules| !rules.is_empty());
        Ok(found)
    }

    /// One rule, as the book has it (read if the project's rules are not fresh).
    pub async fn rule(&self, pid: &str, rule_id: &str) -> Result<Option<AlertRule>, StoreError> {
        let rules = self.of(std::iter::once(pid)).await?;
        Ok(rules
            .get(pid)
            .and_then(|rules| rules.iter().find(|r| r.id == rule_id).cloned()))
    }
}
