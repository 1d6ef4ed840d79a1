//! The table stream's event source mappings, as Lambda runs them for `aggregate` and `forward`
//! (template.yaml's `TableStream`s): records read through the DynamoDB Streams API, filtered as
//! their FilterCriteria filter them. For `aggregate`, folded in tumbling windows: each invocation
//! gets the state the previous one returned; a failed invocation is retried with the same
//! records and state until it succeeds; when a window closes, a final invocation applies it.
//! `forward` has no window: it gets each batch as it is read, retried until it is taken.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::{
    EventRecord, StreamRecord, TimeWindowEvent, TimeWindowEventResponse,
};
use aws_lambda_events::time_window::{TimeWindowProperties, Window};
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_types::SdkConfig;
use chrono::{DateTime, TimeDelta, Utc};

/// The event source mapping's settings that shape what the function sees.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// `TumblingWindowInSeconds`: how long counters may lag.
    pub window: Duration,
    /// `BatchSize`.
    pub batch_size: i32,
    /// `StartingPosition`.
    pub start: ShardIteratorType,
}

impl StreamSettings {
    /// `make dev`: the whole stream, in 2-second windows (counters lag at most about 3 s).
    pub fn local() -> StreamSettings {
        StreamSettings {
            window: Duration::from_secs(2),
            batch_size: 1000,
            start: ShardIteratorType::TrimHorizon,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the table has no stream")]
    NoStream,
    #[error("the stream could not be read: {0}")]
    Read(String),
    #[error("a shard's reader failed: {0}")]
    ReaderFailed(String),
}

fn read_error<E: std::error::Error + 'static>(error: E) -> StreamError {
    StreamError::Read(aws_sdk_dynamodbstreams::error::DisplayErrorContext(&error).to_string())
}

/// How often an idle shard is polled (Lambda polls each shard four times a second).
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// A failed invocation is retried after this, doubling up to `MAX_RETRY_DELAY`.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);

/// A function a stream mapping feeds, invoked as Lambda invokes it: `Err` is a failed
/// invocation, retried with the same records (and state).
pub trait StreamConsumer: Send + Sync + 'static {
    /// Its mapping's FilterCriteria.
    fn wants(&self, record: &Record) -> bool;

    fn invoke(
        &self,
        event: TimeWindowEvent,
    ) -> impl std::future::Future<Output = Result<TimeWindowEventResponse, String>> + Send;
}

/// template.yaml's `{"eventName": ["INSERT"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "E#"}]}}}}`.
fn new_event(record: &Record) -> bool {
    name_is(record, &["INSERT"]) && key_starts(record, store::keys::SK, store::keys::EVENT_PREFIX)
}

fn name_is(record: &Record, names: &[&str]) -> bool {
    record
        .event_name()
        .is_some_and(|n| names.contains(&n.as_str()))
}

fn key_starts(record: &Record, key: &str, prefix: &str) -> bool {
    record
        .dynamodb()
        .and_then(|d| d.keys())
        .and_then(|k| k.get(key))
        .and_then(|v| v.as_s().ok())
        .is_some_and(|value| value.starts_with(prefix))
}

impl StreamConsumer for aggregate::App {
    fn wants(&self, record: &Record) -> bool {
        new_event(record)
    }

    async fn invoke(&self, event: TimeWindowEvent) -> Result<TimeWindowEventResponse, String> {
        self.handle(event).await.map_err(|e| e.to_string())
    }
}

/// `forward`'s mapping has no window, and its state stays empty, so it is never invoked to
/// close one. A batch with records it could not enqueue is handed to it again, whole (Lambda
/// resumes from the first of them; the jobs before it are the same jobs again).
impl StreamConsumer for forward::App {
    /// New events, and alerts opened or resolved (template.yaml's second filter).
    fn wants(&self, record: &Record) -> bool {
        new_event(record)
            || (name_is(record, &["INSERT", "MODIFY"])
                && key_starts(record, store::keys::PK, store::keys::ALERTS_PREFIX))
    }

    async fn invoke(&self, event: TimeWindowEvent) -> Result<TimeWindowEventResponse, String> {
        let mut records = aws_lambda_events::event::dynamodb::Event::default();
        records.records = event.dynamo_db_event.records;
        let response = self.handle(records).await;
        match response.batch_item_failures.len() {
            0 => Ok(TimeWindowEventResponse::default()),
            _ => Err("records not enqueued".to_owned()),
        }
    }
}

/// The mapping between a table's stream and the function, positioned on each shard.
pub struct StreamSource {
    streams: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    /// Each shard's id and where reading it starts.
    shards: Vec<(String, Option<String>)>,
    settings: StreamSettings,
}

impl StreamSource {
    /// Finds `table`'s stream and takes a position on each of its shards: records written from
    /// now on (or all, from the trim horizon) are the function's.
    pub async fn connect(
        aws: &SdkConfig,
        table: &str,
        settings: StreamSettings,
    ) -> Result<StreamSource, StreamError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(aws);
        let streams = aws_sdk_dynamodbstreams::Client::new(aws);
        let stream_arn = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(read_error)?
            .table
            .and_then(|t| t.latest_stream_arn)
            .ok_or(StreamError::NoStream)?;
        let described = streams
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
            .map_err(read_error)?;
        let listed = described
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default();
        let ids: Vec<&str> = listed.iter().filter_map(|s| s.shard_id()).collect();
        let mut shards = Vec::new();
        for shard in &listed {
            let Some(shard_id) = shard.shard_id() else {
                continue;
            };
            let closed = shard
                .sequence_number_range()
                .and_then(|r| r.ending_sequence_number())
                .is_some();
            let parent_listed = shard.parent_shard_id().is_some_and(|p| ids.contains(&p));
            let start_here = match settings.start {
                // From now on: the open shards, whatever came before them.
                ShardIteratorType::Latest => !closed,
                // From the start: the oldest shards; a shard whose parent is listed is started
                // once its parent is read to the end (`run`), as Lambda orders them, and only
                // then (started here too, it would be read twice, into overlapping windows).
                _ => !parent_listed,
            };
            if start_here {
                let iterator = shard_iterator(
                    &streams,
                    &stream_arn,
                    shard_id,
                    settings.start.clone(),
                    None,
                )
                .await?;
                shards.push((shard_id.to_owned(), iterator));
            }
        }
        Ok(StreamSource {
            streams,
            stream_arn,
            shards,
            settings,
        })
    }

    /// Feeds `app` for as long as the stream lasts: each shard in order, and when one closes
    /// (DynamoDB rolls shards over every few hours), its children after it.
    pub async fn run<C: StreamConsumer>(self, app: Arc<C>) -> Result<(), StreamError> {
        let mut polls = tokio::task::JoinSet::new();
        let shard = |shard_id: String, start: ShardIteratorType| Shard {
            streams: self.streams.clone(),
            stream_arn: self.stream_arn.clone(),
            shard_id,
            start,
            app: app.clone(),
            settings: self.settings.clone(),
        };
        for (shard_id, iterator) in self.shards.clone() {
            polls.spawn(shard(shard_id, self.settings.start.clone()).poll(iterator));
        }
        while let Some(ended) = polls.join_next().await {
            let ended = ended.map_err(|e| StreamError::ReaderFailed(e.to_string()))?;
            for child in retrying("list a closed shard's children", || self.children(&ended)).await
            {
                let iterator = retrying("position on a child shard", || {
                    self.iterator(&child, ShardIteratorType::TrimHorizon, None)
                })
                .await;
                polls.spawn(shard(child, ShardIteratorType::TrimHorizon).poll(iterator));
            }
        }
        Ok(())
    }

    /// One page of DynamoDB's shard list (100 shards) is all a local table ever has.
    async fn children(&self, parent: &str) -> Result<Vec<String>, StreamError> {
        let described = self
            .streams
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
            .map_err(read_error)?;
        Ok(described
            .stream_description
            .and_then(|d| d.shards)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.parent_shard_id() == Some(parent))
            .filter_map(|s| s.shard_id)
            .collect())
    }

    async fn iterator(
        &self,
        shard_id: &str,
        kind: ShardIteratorType,
        sequence_number: Option<String>,
    ) -> Result<Option<String>, StreamError> {
        shard_iterator(
            &self.streams,
            &self.stream_arn,
            shard_id,
            kind,
            sequence_number,
        )
        .await
    }
}

async fn shard_iterator(
    streams: &aws_sdk_dynamodbstreams::Client,
    stream_arn: &str,
    shard_id: &str,
    kind: ShardIteratorType,
    sequence_number: Option<String>,
) -> Result<Option<String>, StreamError> {
    Ok(streams
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard_id)
        .shard_iterator_type(kind)
        .set_sequence_number(sequence_number)
        .send()
        .await
        .map_err(read_error)?
        .shard_iterator)
}

struct Shard<C> {
    streams: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    shard_id: String,
    /// Where its reading began, and begins again if its iterator expires before a record.
    start: ShardIteratorType,
    app: Arc<C>,
    settings: StreamSettings,
}

/// Where a shard's reading stands.
struct Position {
    /// `None` once the shard is closed and read to its end.
    iterator: Option<String>,
    /// The last record read, to take a new iterator after it if this one expires.
    sequence_number: Option<String>,
}

impl<C: StreamConsumer> Shard<C> {
    /// Reads the shard to its end, window by window; its id once it is closed.
    async fn poll(self, iterator: Option<String>) -> String {
        let mut position = Position {
            iterator,
            sequence_number: None,
        };
        while position.iterator.is_some() {
            let window = window_containing(Utc::now(), self.settings.window);
            let mut state = HashMap::new();
            while Utc::now() < window.end && position.iterator.is_some() {
                let read = self.read(&mut position).await;
                let idle = read.is_empty();
                let records: Vec<EventRecord> = read
                    .into_iter()
                    .filter(|r| self.app.wants(r))
                    .map(|r| event_record(r, &self.stream_arn))
                    .collect();
                if !records.is_empty() {
                    state = self.invoke(&window, records, state, false).await;
                } else if idle {
                    let left = (window.end - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(POLL_INTERVAL.min(left)).await;
                }
            }
            if !state.is_empty() {
                self.invoke(&window, Vec::new(), state, true).await;
            }
        }
        self.shard_id
    }

    /// The next records, as Lambda's poller gets them: a failed read is retried, an expired
    /// iterator replaced by one after the last record read.
    async fn read(&self, position: &mut Position) -> Vec<Record> {
        let mut delay = FIRST_RETRY_DELAY;
        loop {
            let Some(iterator) = position.iterator.clone() else {
                return Vec::new();
            };
            let result = self
                .streams
                .get_records()
                .shard_iterator(iterator)
                .limit(self.settings.batch_size)
                .send()
                .await;
            match result {
                Ok(output) => {
                    let records = output.records.unwrap_or_default();
                    if let Some(last) = records.last().and_then(|r| r.dynamodb()) {
                        position.sequence_number = last.sequence_number.clone();
                    }
                    position.iterator = output.next_shard_iterator;
                    return records;
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_expired_iterator_exception()) =>
                {
                    let (kind, after) = match &position.sequence_number {
                        Some(seq) => (ShardIteratorType::AfterSequenceNumber, Some(seq.clone())),
                        None => (self.start.clone(), None),
                    };
                    position.iterator = retrying("replace an expired iterator", || {
                        shard_iterator(
                            &self.streams,
                            &self.stream_arn,
                            &self.shard_id,
                            kind.clone(),
                            after.clone(),
                        )
                    })
                    .await;
                }
                Err(e) => {
                    tracing::warn!(error = %read_error(e), "a stream read failed; retrying it");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY_DELAY);
                }
            }
        }
    }

    /// One invocation, repeated with the same records and state until it succeeds; the state
    /// it returns.
    async fn invoke(
        &self,
        window: &Window,
        records: Vec<EventRecord>,
        state: HashMap<String, String>,
        last: bool,
    ) -> HashMap<String, String> {
        let mut event = TimeWindowEvent::default();
        event.dynamo_db_event.records = records;
        let mut properties = TimeWindowProperties::default();
        properties.window = window.clone();
        properties.state = state;
        properties.shard_id = Some(self.shard_id.clone());
        properties.event_source_arn = Some(self.stream_arn.clone());
        properties.is_final_invoke_for_window = last;
        event.time_window_properties = properties;
        // A failed window: Lambda retries it with the same records and state.
        let answer: TimeWindowEventResponse = retrying("invoke the stream's function", || {
            self.app.invoke(event.clone())
        })
        .await;
        answer.time_window_event_response_properties.state
    }
}

/// What Lambda's poller does with a failing stream call or invocation: tries again, until it
/// works.
pub(crate) async fn retrying<T, E, F, Fut>(what: &str, mut call: F) -> T
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut delay = FIRST_RETRY_DELAY;
    loop {
        match call().await {
            Ok(value) => return value,
            Err(e) => {
                tracing::warn!(error = %e, "could not {what}; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }
}

/// Tumbling windows start at multiples of their length.
fn window_containing(now: DateTime<Utc>, length: Duration) -> Window {
    let length_ms = i64::try_from(length.as_millis()).unwrap_or(i64::MAX).max(1);
    let start_ms = now.timestamp_millis() - now.timestamp_millis().rem_euclid(length_ms);
    let start = DateTime::from_timestamp_millis(start_ms).unwrap_or(now);
    let mut window = Window::default();
    window.start = start;
    window.end = start + TimeDelta::milliseconds(length_ms);
    window
}

/// A stream record as Lambda hands it to a function.
fn event_record(record: Record, stream_arn: &str) -> EventRecord {
    let mut event = EventRecord::default();
    event.event_id = record.event_id.unwrap_or_default();
    event.event_name = record
        .event_name
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    event.event_source = record.event_source;
    event.event_version = record.event_version;
    event.aws_region = record.aws_region.unwrap_or_default();
    event.event_source_arn = Some(stream_arn.to_owned());
    if let Some(change) = record.dynamodb {
        let mut stream_record = StreamRecord::default();
        stream_record.keys = change.keys.unwrap_or_default().into();
        stream_record.new_image = change.new_image.unwrap_or_default().into();
        stream_record.sequence_number = change.sequence_number;
        stream_record.size_bytes = change.size_bytes.unwrap_or_default();
        if let Some(created) = change
            .approximate_creation_date_time
            .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        {
            stream_record.approximate_creation_date_time = created;
        }
        event.change = stream_record;
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_tile_time() {
        let at = |ms| DateTime::from_timestamp_millis(ms).unwrap();
        let w = window_containing(at(10_500), Duration::from_secs(2));
        assert_eq!((w.start, w.end), (at(10_000), at(12_000)));
        let next = window_containing(w.end, Duration::from_secs(2));
        assert_eq!(next.start, w.end);
    }
}
