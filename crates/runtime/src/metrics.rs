//! CloudWatch metrics in Embedded Metric Format: code counts through the `metrics` facade, and
//! `metrics_cloudwatch_embedded` aggregates what one invocation counted into one EMF document per
//! set of dimensions, written to stdout after the invocation. CloudWatch Logs extracts the
//! figures from the function's log, so a count costs no API call and no latency.
//!
//! The contract operators' alarms and dashboard read (template.yaml): namespace `trackses`, every
//! metric dimensioned by `Function` (the short name: `api`, `webhook`, `ingest-sns`,
//! `stack-callback`, `wiring`), plus the dimensions named below.

use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::Inspect;
use lambda_runtime::layers::TracingLayer;
use lambda_runtime::{LambdaInvocation, Runtime, Service};
use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
pub use metrics_cloudwatch_embedded::Collector;
use tower::Layer;

pub const NAMESPACE: &str = "trackses";

/// An SNS message or callback refused for good (a retry cannot fix it), `{Function, Reason}`.
pub const REFUSED_MESSAGES: &str = "RefusedMessages";
/// Per-recipient events stored, `{Function, Mode, EventType}`.
pub const EVENTS_STORED: &str = "EventsStored";
/// Stored events the stream consumer added to counters, `{Function}`.
pub const EVENTS_COUNTED: &str = "EventsCounted";
/// Notifications already stored (an SNS redelivery or a replay), `{Function}`.
pub const DUPLICATE_DELIVERIES: &str = "DuplicateDeliveries";
/// How long the idempotent write of one notification took, `{Function}`.
pub const STORE_LATENCY: &str = "StoreLatency";
/// Failures after a message or command was accepted, `{Function, Reason}`: SNS or Lambda
/// delivers it again (the wiring function's request/response questions fail to their caller).
pub const FAILURES: &str = "Failures";
/// Forwarding jobs by what became of them, `{Function, Outcome}`: `delivered`, `retried`,
/// `dead-lettered`, or why one was skipped.
pub const FORWARDED: &str = "Forwarded";
/// The first invocation of a container, `{Function}`.
pub const COLD_START: &str = "ColdStart";

/// Installs this process's metrics recorder, every metric dimensioned by `function`. Once per
/// cold start; a second call fails (the facade holds one recorder per process).
pub fn install(function: &'static str) -> Result<&'static Collector, MetricsError> {
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("Function", function)
        .init()
        .map_err(|e| MetricsError(e.to_string()))?;
    describe_counter!(REFUSED_MESSAGES, Unit::Count, "messages refused for good");
    describe_counter!(EVENTS_STORED, Unit::Count, "per-recipient events stored");
    describe_counter!(
        EVENTS_COUNTED,
        Unit::Count,
        "stored events added to counters"
    );
    describe_counter!(
        DUPLICATE_DELIVERIES,
        Unit::Count,
        "notifications already stored"
    );
    describe_counter!(FAILURES, Unit::Count, "failures after acceptance");
    describe_counter!(FORWARDED, Unit::Count, "forwarding jobs by outcome");
    describe_counter!(COLD_START, Unit::Count, "first invocations of a container");
    describe_histogram!(
        STORE_LATENCY,
        Unit::Milliseconds,
        "one notification's write"
    );
    Ok(collector)
}

#[derive(Debug, thiserror::Error)]
#[error("metrics could not be installed: {0}")]
pub struct MetricsError(String);

pub fn refused(reason: &'static str) {
    counter!(REFUSED_MESSAGES, "Reason" => reason).increment(1);
}

pub fn events_stored(mode: &'static str, event_type: &'static str, events: usize) {
    counter!(EVENTS_STORED, "Mode" => mode, "EventType" => event_type).increment(events as u64);
}

pub fn events_counted(events: usize) {
    counter!(EVENTS_COUNTED).increment(events as u64);
}

pub fn duplicate_delivery() {
    counter!(DUPLICATE_DELIVERIES).increment(1);
}

/// `n` forwarded events (or one notification) that came to `outcome`.
pub fn forwarded(outcome: &'static str, n: usize) {
    counter!(FORWARDED, "Outcome" => outcome).increment(n as u64);
}

pub fn store_latency(took: Duration) {
    histogram!(STORE_LATENCY).record(took.as_secs_f64() * 1000.0);
}

pub fn failure(reason: impl Into<metrics::SharedString>) {
    counter!(FAILURES, "Reason" => reason.into()).increment(1);
}

/// Runs the function on the Lambda runtime: each invocation in the runtime's tracing span (its
/// request id on every log line), and what it counted written out as soon as it ends.
pub async fn run<S>(
    runtime: Runtime<S>,
    collector: &'static Collector,
) -> Result<(), lambda_runtime::Error>
where
    S: Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
{
    runtime
        .layer(TracingLayer::new())
        .layer(FlushAfterInvocation::new(collector))
        .run()
        .await
}

/// The crate's own Lambda layer comes with its `lambda` feature, which links `lambda_http` with
/// every default feature (REST, WebSocket and ALB events) into functions that take none of
/// them; this is the part of it trackses uses.
#[derive(Clone)]
struct FlushAfterInvocation<S = ()> {
    collector: &'static Collector,
    inner: S,
}

impl FlushAfterInvocation {
    fn new(collector: &'static Collector) -> Self {
        FlushAfterInvocation {
            collector,
            inner: (),
        }
    }
}

impl<S> Layer<S> for FlushAfterInvocation {
    type Service = FlushAfterInvocation<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FlushAfterInvocation {
            collector: self.collector,
            inner,
        }
    }
}

static WARM: AtomicBool = AtomicBool::new(false);

impl<S> Service<LambdaInvocation> for FlushAfterInvocation<S>
where
    S: Service<LambdaInvocation>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Inspect<S::Future, Box<dyn FnOnce(&Result<S::Response, S::Error>) + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        let collector = self.collector;
        // The request id on each document ties a figure to the invocation's log lines.
        collector.set_property("RequestId", invocation.context.request_id.clone());
        if !WARM.swap(true, Ordering::Relaxed) {
            counter!(COLD_START).increment(1);
        }
        self.inner
            .call(invocation)
            .inspect(Box::new(move |_| flush(collector)))
    }
}

/// Writes what was counted since the last flush. Metrics never fail an invocation: a figure
/// that cannot be written is dropped (stdout is CloudWatch Logs; if it is gone, so are logs).
pub fn flush(collector: &Collector) {
    let _ = collector.flush(std::io::stdout().lock());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape CloudWatch's EMF specification requires, from the crate this module relies
    /// on: every dimension and metric the directive names is a top-level member of the same
    /// object, in the namespace the alarms read. And the runtime layer writes out what each
    /// invocation counted as it ends, a failed one too. (One test: a process holds one recorder.)
    #[tokio::test]
    async fn counts_come_out_as_embedded_metric_format_after_each_invocation() {
        let collector = install("test-function").unwrap();
        refused("signature");
        refused("signature");
        events_stored("manual", "Delivery", 3);
        let documents = written(collector);
        assert_eq!(documents.len(), 2, "one document per set of dimensions");
        for document in &documents {
            let directive = &document["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(directive["Namespace"], NAMESPACE);
            assert!(document["_aws"]["Timestamp"].is_u64());
            for name in directive["Dimensions"][0].as_array().unwrap() {
                assert!(document[name.as_str().unwrap()].is_string(), "{name}");
            }
            for metric in directive["Metrics"].as_array().unwrap() {
                assert!(document[metric["Name"].as_str().unwrap()].is_number());
            }
            assert_eq!(document["Function"], "test-function");
        }
        let refusals = documents
            .iter()
            .find(|d| d["Reason"] == "signature")
            .unwrap();
        assert_eq!(refusals[REFUSED_MESSAGES], 2);
        let stored = documents.iter().find(|d| d["Mode"] == "manual").unwrap();
        assert_eq!(stored[EVENTS_STORED], 3);
        assert_eq!(stored["EventType"], "Delivery");

        let handler = tower::service_fn(|invocation: LambdaInvocation| async move {
            refused("stale");
            match invocation.body.is_empty() {
                true => Ok(()),
                false => Err(lambda_runtime::Error::from("refused by the test")),
            }
        });
        let mut service = FlushAfterInvocation::new(collector).layer(handler);
        for body in ["", "fail"] {
            let invocation = LambdaInvocation {
                parts: http::Response::new(()).into_parts().0,
                body: bytes::Bytes::from(body),
                context: lambda_runtime::Context::default(),
            };
            let _ = service.call(invocation).await;
            assert!(
                written(collector).is_empty(),
                "flushed by the layer: {body:?}"
            );
        }
    }

    /// What `collector` has counted since its last flush, as EMF documents.
    fn written(collector: &Collector) -> Vec<serde_json::Value> {
        let mut written = Vec::new();
        collector.flush(&mut written).unwrap();
        String::from_utf8(written)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}
