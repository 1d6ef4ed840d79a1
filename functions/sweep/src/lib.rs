//! `sweep`: the alerts' schedule (an EventBridge Scheduler schedule invokes it). It re-reads
//! open alerts, so a rate or a burst that time alone cleared resolves, and runs the rules only
//! the schedule evaluates: connection health through the wiring function (which alone holds
//! customer credentials; this function holds none and may only invoke it) and silence from
//! counters.

use aws_types::SdkConfig;
use chrono::Utc;

use alerts::sweep::Swept;
use alerts::{HealthCheck, Sweep};
use model::Connection;
use model::wiring::{Command, Reply};
use runtime::{Config, ConfigError};
use store::{Store, StoreError};
use wiring_client::WiringClient;

/// A connection's health as the wiring function's verify sees it.
pub struct WiringHealth(WiringClient);

impl HealthCheck for WiringHealth {
    async fn problems(&self, connection: &Connection) -> Result<Vec<String>, String> {
        let verify = Command::Verify {
            connection_id: connection.id.clone(),
        };
        match self.0.call(&verify).await.map_err(|e| e.to_string())? {
            Reply::Verified(verification) => Ok(verification.problems),
            other => Err(format!("verify answered {other:?}")),
        }
    }
}

/// The function, built once per cold start.
pub struct App {
    sweep: Sweep<WiringHealth>,
}

impl App {
    pub fn from_config(
        config: &Config,
        aws: &SdkConfig,
        lambda: aws_sdk_lambda::Client,
    ) -> Result<App, ConfigError> {
        let wiring = WiringClient::from_config(config, lambda)?;
        Ok(App::new(Sweep::new(
            Store::connect(config, aws),
            WiringHealth(wiring),
        )))
    }

    pub fn new(sweep: Sweep<WiringHealth>) -> App {
        App { sweep }
    }

    /// One scheduled run; its schedule's input says whether to run the health checks
    /// (`{"health": true}`). A failure fails the invocation, which the schedule's retry policy
    /// runs again (a sweep changes only what changed, once).
    pub async fn handle(&self, input: &serde_json::Value) -> Result<Swept, StoreError> {
        let health = input["health"].as_bool().unwrap_or(false);
        // Boxed: the sweep's future nests deep enough to pass the compiler's query depth inside
        // the runtime's.
        let swept = Box::pin(self.sweep.run(Utc::now(), health)).await?;
        tracing::info!(
            opened = swept.opened,
            resolved = swept.resolved,
            failed = swept.failed,
            "swept"
        );
        if swept.failed > 0 {
            runtime::metrics::failure("alerts-unevaluated");
        }
        Ok(swept)
    }
}
