//! `MemoryStore` as ingest-eventbridge's store, with the table's conditions: a signal older than
//! the one kept changes nothing.

use model::connection::EventBridgeRoute;
use model::signals::{AdvisorSignal, SendingSignal, Signal};

use super::{MemoryError, MemoryStore, millis};
use crate::eventbridge::EventBridgeStore;
use crate::port::{IngestWrite, WriteOutcome};

impl MemoryStore {
    /// What the wiring function writes once a role proved the account.
    pub fn insert_eventbridge_route(
        &self,
        account_id: &str,
        region: &str,
        route: EventBridgeRoute,
    ) {
        self.state()
            .eventbridge_routes
            .entry((account_id.to_owned(), region.to_owned()))
            .or_default()
            .push(route);
    }
}

impl EventBridgeStore for MemoryStore {
    type Error = MemoryError;

    async fn eventbridge_routes(
        &self,
        account_id: &str,
        region: &str,
    ) -> Result<Vec<EventBridgeRoute>, MemoryError> {
        let state = self.read("eventbridge_routes")?;
        let key = (account_id.to_owned(), region.to_owned());
        Ok(state
            .eventbridge_routes
            .get(&key)
            .cloned()
            .unwrap_or_default())
    }

    async fn record_signal(&self, cid: &str, signal: &Signal) -> Result<bool, MemoryError> {
        let mut state = self.write("record_signal")?;
        let Some(connection) = state.connections.get_mut(cid) else {
            return Ok(false);
        };
        let at = millis(signal.at());
        let signals = &mut connection.signals;
        // As the table's conditions: a sending status only if later; an advisor event (whole
        // seconds) if not earlier than the one of its recommendation.
        match signal {
            Signal::Sending(sending) => {
                if signals.sending.as_ref().is_some_and(|s| s.at >= at) {
                    return Ok(false);
                }
                signals.sending = Some(SendingSignal {
                    at,
                    ..sending.clone()
                });
            }
            Signal::Advisor(advice) => {
                let kept = signals.advisor.iter().position(|a| a.key() == advice.key());
                if kept.is_some_and(|i| signals.advisor[i].at > at) {
                    return Ok(false);
                }
                let advice = AdvisorSignal {
                    at,
                    ..advice.clone()
                };
                match kept {
                    Some(i) => signals.advisor[i] = advice,
                    None => signals.advisor.push(advice),
                }
                signals.advisor.sort_by_key(|a| std::cmp::Reverse(a.at));
            }
        }
        Ok(true)
    }

    async fn write_ingest(&self, write: &IngestWrite<'_>) -> Result<WriteOutcome, MemoryError> {
        Ok(self.write("write_ingest")?.write_ingest(write))
    }
}
