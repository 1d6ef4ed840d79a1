//! Forwarding: each stored event, once per endpoint of its project that asked for it, as a
//! signed JSON POST, retried with back-off for a day, then kept as a dead letter.
//!
//! Nothing here is on the ingest path. `Fanout` reads the table's stream (a second consumer
//! beside `aggregate`) and turns each new event into one queue job per endpoint; `Deliverer`
//! runs the jobs. A slow or failing endpoint holds only its own jobs: each waits in the queue
//! for its next attempt (the message's visibility), not in a function, and the deliveries of a
//! batch run side by side.

pub mod deliver;
pub mod fanout;
pub mod job;
pub mod payload;
pub mod queue;
pub mod retry;

pub use deliver::Deliverer;
pub use fanout::Fanout;
pub use job::Job;
pub use queue::JobQueue;
pub use retry::RetryPolicy;
