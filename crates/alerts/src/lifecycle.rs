//! An alert's life: opened once when its condition starts holding, left alone while it holds,
//! resolved once when it clears. The open item's conditional write decides between evaluators
//! that race (two stream shards, the stream and the sweep).

use chrono::{DateTime, Utc};

use model::alert::Transition;
use model::{Alert, AlertRule, ids};
use store::alerts::OpenAlert;
use store::{Store, StoreError};

use crate::reading::Reading;

/// Applies `reading` of `rule` for `subject`: the transition it made, if any.
pub async fn settle(
    store: &Store,
    rule: &AlertRule,
    subject: &str,
    reading: &Reading,
    now: DateTime<Utc>,
) -> Result<Option<Transition>, StoreError> {
    let open = store
        .open_alert_id(&rule.project_id, &rule.id, subject)
        .await?;
    match open {
        None if reading.holds => {
            let alert = Alert {
                id: ids::alert_id(),
                project_id: rule.project_id.clone(),
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                subject: subject.to_owned(),
                summary: reading.summary.clone(),
                opened_at: now,
                resolved_at: None,
                resolution: None,
                channel_ids: rule.channel_ids.clone(),
            };
            let opened = store.open_alert(&alert).await?;
            if opened {
                tracing::info!(project_id = %rule.project_id, rule_id = %rule.id, subject, summary = %reading.summary, "alert opened");
            }
            Ok(opened.then_some(Transition::Opened))
        }
        Some(alert_id) if reading.clears => {
            let open = OpenAlert {
                project_id: rule.project_id.clone(),
                rule_id: rule.id.clone(),
                subject: subject.to_owned(),
                alert_id,
            };
            resolve(store, &open, &reading.summary, now).await
        }
        _ => Ok(None),
    }
}

/// Resolves an open alert with `resolution` (once: `None` if it was resolved meanwhile).
pub async fn resolve(
    store: &Store,
    open: &OpenAlert,
    resolution: &str,
    now: DateTime<Utc>,
) -> Result<Option<Transition>, StoreError> {
    let resolved = store.resolve_alert(open, now, resolution).await?;
    if resolved {
        tracing::info!(project_id = %open.project_id, rule_id = %open.rule_id, subject = %open.subject, resolution, "alert resolved");
    }
    Ok(resolved.then_some(Transition::Resolved))
}
