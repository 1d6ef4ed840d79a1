//! `aggregate`: folds the events the table's stream reports into counters and suppressions.
//!
//! It runs in Lambda's tumbling windows: each invocation adds its records to the window's state
//! (which Lambda keeps between invocations and hands back unchanged when one fails), and the
//! window's final invocation applies the whole tally, one update per counter item, marked with
//! the window so that a retry applies it once. The ingest path writes one item per event; this
//! is where the per-event counter writes of a transaction went. Not internet-facing: it holds
//! no credentials but the table's.
//!
//! Alert rules that count (rates, bursts) get counters of their own in the same tally, and are
//! evaluated as soon as a window with their events has landed: an alert opens within a window
//! of the event that crossed its threshold.

mod rulebook;
mod state;

use aws_lambda_events::event::dynamodb::{EventRecord, TimeWindowEvent, TimeWindowEventResponse};
use aws_types::SdkConfig;
use futures_util::{StreamExt, TryStreamExt};
use lambda_runtime::Diagnostic;
use runtime::Config;
use store::counters::{self, Window};
use store::{Store, StoreError, attrs::Item, event_item};

pub use state::{StateError, WindowState};

#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the window names no stream shard")]
    NoShard,
    #[error("the table could not be written: {0}")]
    Store(#[from] StoreError),
    #[error("alert rules could not be evaluated: {0}")]
    Alerts(StoreError),
}

impl From<AggregateError> for Diagnostic {
    fn from(error: AggregateError) -> Diagnostic {
        let error_type = match &error {
            AggregateError::State(_) => "UnreadableState",
            AggregateError::NoShard => "NoShard",
            AggregateError::Store(_) => "StoreFailed",
            AggregateError::Alerts(_) => "AlertsFailed",
        };
        runtime::metrics::failure(error_type);
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Suppression updates in flight at once (a batch may hold up to 1,000 records).
const CONCURRENT_SUPPRESSIONS: usize = 16;
/// Alert rules evaluated at once when a window lands.
const CONCURRENT_EVALUATIONS: usize = 8;

/// The function, built once per cold start.
pub struct App {
    store: Store,
    rules: rulebook::RuleBook,
}

impl App {
    pub fn from_config(config: &Config, aws: &SdkConfig) -> App {
        App::new(Store::connect(config, aws), config.alert_rules_fresh_for)
    }

    /// `rules_fresh_for`: how long a project's alert rules are kept before they are read again.
    pub fn new(store: Store, rules_fresh_for: std::time::Duration) -> App {
        App {
            rules: rulebook::RuleBook::new(store.clone(), rules_fresh_for),
            store,
        }
    }

    /// One invocation of a window: its records folded into the state, and on the window's last
    /// invocation the state applied. An error leaves the state as it came: Lambda retries the
    /// same records with it.
    pub async fn handle(
        &self,
        event: TimeWindowEvent,
    ) -> Result<TimeWindowEventResponse, AggregateError> {
        let window = event.time_window_properties;
        let mut state = WindowState::from_map(&window.state)?;
        let mut suppressions = Vec::new();
        let stored: Vec<(String, model::StoredEvent)> = event
            .dynamo_db_event
            .records
            .into_iter()
            .filter_map(|record| stored_event(record, &mut state))
            .collect();
        let rules = self
            .rules
            .of(stored.iter().map(|(pid, _)| pid.as_str()))
            .await
            .map_err(AggregateError::Alerts)?;
        for (project_id, stored) in stored {
            state.tally.count(&project_id, &stored);
            if let Some(rules) = rules.get(&project_id) {
                state.tally.count_for_rules(&project_id, &stored, rules);
            }
            if let Some(reason) = counters::suppression_reason(&stored) {
                suppressions.push((project_id, stored, reason));
            }
        }
        // A suppression is an overwrite (the latest event's): repeating one on a retry changes
        // nothing. Written as they come, so a suppression lags by a batch, not a window.
        // Collected first: a stream holding the closure would not be `Send` for every lifetime.
        let writes: Vec<_> = suppressions
            .iter()
            .map(|(project_id, stored, reason)| self.store.suppress(project_id, stored, reason))
            .collect();
        futures_util::stream::iter(writes)
            .buffer_unordered(CONCURRENT_SUPPRESSIONS)
            .try_collect::<Vec<()>>()
            .await?;
        let mut response = TimeWindowEventResponse::default();
        if window.is_final_invoke_for_window || window.is_window_terminated_early {
            self.apply(window.shard_id.as_deref(), &state).await?;
        } else {
            response.time_window_event_response_properties.state = state.into_map();
        }
        Ok(response)
    }

    async fn apply(
        &self,
        shard_id: Option<&str>,
        state: &WindowState,
    ) -> Result<(), AggregateError> {
        let Some(first_sequence_number) = &state.first_sequence_number else {
            return Ok(());
        };
        let window = Window {
            shard_id: shard_id.ok_or(AggregateError::NoShard)?,
            first_sequence_number,
        };
        let applied = self.store.apply_tally(&window, &state.tally).await?;
        tracing::info!(
            updated = applied.updated,
            already = applied.already,
            events = state.events,
            "window applied"
        );
        runtime::metrics::events_counted(state.events);
        // Boxed: the evaluation's future nests deep enough to pass the compiler's query depth
        // inside the runtime's.
        Box::pin(self.evaluate(&state.tally)).await
    }

    /// The counted rules this window moved, evaluated now their counters hold it, a few at a
    /// time. A rule that cannot be evaluated is logged and counted, not retried with the
    /// window: one tenant's rules must not hold every tenant's counters (the rule's next window,
    /// and the sweep, evaluate it again).
    async fn evaluate(&self, tally: &store::counters::Tally) -> Result<(), AggregateError> {
        let now = chrono::Utc::now();
        // Collected first: a stream holding the closure would not be `Send` for every lifetime.
        let evaluations: Vec<_> = tally
            .rules()
            .into_iter()
            .map(|(project_id, rule_id)| self.evaluate_rule(project_id, rule_id, now))
            .collect();
        let failed = futures_util::stream::iter(evaluations)
            .buffer_unordered(CONCURRENT_EVALUATIONS)
            .filter(|result| std::future::ready(result.is_err()))
            .count()
            .await;
        if failed > 0 {
            runtime::metrics::failure("alerts-unevaluated");
        }
        Ok(())
    }

    async fn evaluate_rule(
        &self,
        project_id: &str,
        rule_id: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let evaluated = async {
            let Some(rule) = self.rules.rule(project_id, rule_id).await? else {
                return Ok(());
            };
            let Some(reading) = alerts::counted::reading(&self.store, &rule, now).await? else {
                return Ok(());
            };
            let subject = alerts::counted::subject(&rule);
            alerts::settle(&self.store, &rule, &subject, &reading, now)
                .await
                .map(drop)
        }
        .await;
        if let Err(e) = &evaluated {
            tracing::error!(project_id, rule_id, error = %e, "an alert rule could not be evaluated");
        }
        evaluated
    }
}

/// The stored event a stream record reports, with its project; `None` for what is not a new
/// event (the filter on the event source lets little else through) or cannot be read, which is
/// logged and counted rather than allowed to stall the stream.
fn stored_event(
    record: EventRecord,
    state: &mut WindowState,
) -> Option<(String, model::StoredEvent)> {
    if record.event_name != "INSERT" {
        return None;
    }
    let sequence_number = record.change.sequence_number;
    let item: Item = record.change.new_image.into();
    if !event_item::is_event(&item) {
        return None;
    }
    let read = event_item::project_id(&item).and_then(|project_id| {
        event_item::event(&item).map(|event| (project_id.to_owned(), event))
    });
    match (read, sequence_number) {
        (Ok(read), Some(sequence_number)) => {
            state.first_sequence_number.get_or_insert(sequence_number);
            state.events += 1;
            Some(read)
        }
        (Err(e), _) => {
            tracing::error!(error = %e, "a stream record's event is unreadable: not counted");
            runtime::metrics::refused("unreadable-record");
            None
        }
        (Ok(_), None) => {
            tracing::error!("a stream record without a sequence number: not counted");
            runtime::metrics::refused("no-sequence-number");
            None
        }
    }
}
