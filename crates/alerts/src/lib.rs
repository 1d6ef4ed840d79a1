//! Alerts, evaluated. A rule's condition becomes a `Reading` (does it hold, has it cleared, in
//! words); `lifecycle::settle` turns a reading into at most one transition of the rule's alert
//! for that subject, written so that concurrent evaluators open and resolve it once. Counted
//! rules are evaluated by `aggregate` right after each window's counters land, and by the
//! scheduled sweep (which also resolves what time alone clears); health and silence rules by
//! the sweep only. Notifications follow from the table's stream, not from here.

pub mod counted;
pub mod lifecycle;
pub mod message;
pub mod reading;
pub mod sweep;

pub use lifecycle::settle;
pub use reading::Reading;
pub use sweep::{HealthCheck, Sweep};
