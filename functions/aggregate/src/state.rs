//! A window's tally as Lambda keeps it between invocations: a map of strings to strings.
//!
//! Each counter is one entry, `<project>\t<scope>\t<D, H or M>\t<bucket>\t<counter>` to its
//! count, the scope empty for the project, a connection id, or `R:` and an alert rule's id; `first` holds the window's first sequence number and `events` how many events
//! it counted.

use std::collections::HashMap;

use store::counters::{CounterKey, ScopeId, Tally};
use store::keys::Granularity;

const FIRST: &str = "first";
const EVENTS: &str = "events";
const SEPARATOR: char = '\t';
/// Marks an alert rule's scope (connection ids never start with it).
const RULE: &str = "R:";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct WindowState {
    pub first_sequence_number: Option<String>,
    pub events: usize,
    pub tally: Tally,
}

#[derive(Debug, thiserror::Error)]
#[error("the window's state holds an unreadable entry: {0}")]
pub struct StateError(String);

impl WindowState {
    pub fn from_map(map: &HashMap<String, String>) -> Result<WindowState, StateError> {
        let mut state = WindowState::default();
        for (name, value) in map {
            match name.as_str() {
                FIRST => state.first_sequence_number = Some(value.clone()),
                EVENTS => state.events = count(name, value)?,
                entry => {
                    let (key, counter) = counter_entry(entry)?;
                    state.tally.add(key, counter, count(name, value)? as u64);
                }
            }
        }
        Ok(state)
    }

    pub fn into_map(self) -> HashMap<String, String> {
        let mut map = HashMap::new();
        if let Some(first) = self.first_sequence_number {
            map.insert(FIRST.to_owned(), first);
            map.insert(EVENTS.to_owned(), self.events.to_string());
        }
        for (key, counts) in self.tally.iter() {
            let scope = match &key.scope {
                ScopeId::Project => String::new(),
                ScopeId::Connection(cid) => cid.clone(),
                ScopeId::Rule(rule_id) => [RULE, rule_id].concat(),
            };
            let prefix = [
                key.project_id.as_str(),
                &scope,
                key.granularity.letter(),
                key.bucket.as_str(),
            ]
            .join(&SEPARATOR.to_string());
            for (counter, n) in counts {
                map.insert(format!("{prefix}{SEPARATOR}{counter}"), n.to_string());
            }
        }
        map
    }
}

fn count(name: &str, value: &str) -> Result<usize, StateError> {
    value.parse().map_err(|_| StateError(name.to_owned()))
}

fn counter_entry(entry: &str) -> Result<(CounterKey, &str), StateError> {
    let unreadable = || StateError(entry.to_owned());
    let parts: Vec<&str> = entry.split(SEPARATOR).collect();
    let [project_id, scope, granularity, bucket, counter] = parts[..] else {
        return Err(unreadable());
    };
    let granularity = Granularity::from_letter(granularity).ok_or_else(unreadable)?;
    let scope = match scope.strip_prefix(RULE) {
        Some(rule_id) => ScopeId::Rule(rule_id.to_owned()),
        None if scope.is_empty() => ScopeId::Project,
        None => ScopeId::Connection(scope.to_owned()),
    };
    let key = CounterKey {
        project_id: project_id.to_owned(),
        scope,
        granularity,
        bucket: bucket.to_owned(),
    };
    Ok((key, counter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_survives_the_round_trip_through_lambda() {
        let mut state = WindowState {
            first_sequence_number: Some("1100000000017454423009".into()),
            events: 3,
            tally: Tally::default(),
        };
        for (scope, granularity, bucket) in [
            (ScopeId::Project, Granularity::Day, "2026-12-01"),
            (
                ScopeId::Connection("con_1".into()),
                Granularity::Hour,
                "2026-12-01T22",
            ),
            (
                ScopeId::Rule("rule_1".into()),
                Granularity::Minute,
                "2026-12-01T22:05",
            ),
        ] {
            let key = CounterKey {
                project_id: "prj_1".into(),
                scope,
                granularity,
                bucket: bucket.into(),
            };
            state.tally.add(key.clone(), "delivery", 2);
            state.tally.add(key, "bounce_permanent", 1);
        }
        let map = state.into_map();
        let back = WindowState::from_map(&map).unwrap();
        assert_eq!(back.into_map(), map);
        assert_eq!(
            WindowState::from_map(&HashMap::new()).unwrap(),
            WindowState::default()
        );
    }

    #[test]
    fn an_unreadable_state_is_an_error_not_a_zero() {
        for (name, value) in [("prj\tD\t2026\tsend", "1"), ("prj\t\tD\t2026\tsend", "x")] {
            let map = HashMap::from([(name.to_owned(), value.to_owned())]);
            assert!(WindowState::from_map(&map).is_err(), "{name}");
        }
    }
}
