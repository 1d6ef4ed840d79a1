//! `mail`: alert e-mails, sent through trackses' own SES account from one address of its own
//! (`TRACKSES_ALERT_SENDER`; IAM allows that sender only). Never a customer's account: this
//! function holds no customer credentials and builds its SES client from its own role, so the
//! never-send promise to customers is untouched (their clients stay behind `customer::guard`).
//!
//! An e-mail channel gets nothing but its one confirmation message until the address follows
//! the link in it: a project cannot make trackses mail a stranger more than once per channel it
//! creates (and it may create ten).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_types::SdkConfig;
use chrono::{TimeDelta, Utc};

use forwarding::Job;
use model::alert::CONFIRM_PATH;
use model::{ChannelKind, ChannelStatus, ids, sha256_hex};
use runtime::{Config, ConfigError};
use store::{Store, StoreError};

/// How long a confirmation link works.
const CONFIRMATION_VALID: TimeDelta = TimeDelta::days(2);

#[derive(Debug, thiserror::Error)]
enum MailError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// SES will refuse it again (the address or the message): not worth a retry.
    #[error("SES refused the message for good: {0}")]
    Refused(String),
    #[error("SES refused the message: {0}")]
    Send(String),
}

/// What became of one job.
enum Outcome {
    Sent,
    Skipped(&'static str),
    /// Sent again after the queue's visibility timeout.
    Failed(MailError),
}

/// The function, built once per cold start.
pub struct App {
    store: Store,
    ses: aws_sdk_sesv2::Client,
    sender: String,
    public_url: url::Url,
}

impl App {
    pub fn from_config(config: &Config, aws: &SdkConfig) -> Result<App, ConfigError> {
        Ok(App {
            store: Store::connect(config, aws),
            ses: aws_sdk_sesv2::Client::new(aws),
            sender: config
                .alert_sender
                .clone()
                .ok_or(ConfigError::Missing("TRACKSES_ALERT_SENDER"))?,
            public_url: config.require_public_url()?,
        })
    }

    /// One batch: the messages to see again, by id.
    pub async fn handle(&self, event: &SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for record in &event.records {
            let message_id = record.message_id.as_deref().unwrap_or_default();
            let job = serde_json::from_str::<Job>(record.body.as_deref().unwrap_or_default());
            let outcome = match job {
                Ok(job) => self.run(job).await,
                Err(_) => Outcome::Skipped("unreadable-job"),
            };
            match outcome {
                Outcome::Sent => tracing::info!(message_id, "e-mail sent"),
                Outcome::Skipped(reason) => {
                    tracing::info!(message_id, reason, "mail job skipped");
                    runtime::metrics::refused(reason);
                }
                Outcome::Failed(e) => {
                    tracing::error!(message_id, error = %e, "mail job failed; the queue delivers it again");
                    runtime::metrics::failure("mail-failed");
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = message_id.to_owned();
                    response.batch_item_failures.push(failure);
                }
            }
        }
        response
    }

    async fn run(&self, job: Job) -> Outcome {
        let (project_id, channel_id) = match &job {
            Job::Notify {
                project_id,
                channel_id,
                ..
            }
            | Job::Confirm {
                project_id,
                channel_id,
            } => (project_id, channel_id),
            _ => return Outcome::Skipped("not-a-mail-job"),
        };
        let channel = match self.store.channel(project_id, channel_id).await {
            Ok(Some(channel)) => channel,
            Ok(None) => return Outcome::Skipped("channel-gone"),
            Err(e) => return Outcome::Failed(e.into()),
        };
        let ChannelKind::Email { address } = &channel.kind else {
            return Outcome::Skipped("not-an-email-channel");
        };
        let (subject, text) = match (&job, channel.status) {
            (
                Job::Notify {
                    transition, alert, ..
                },
                ChannelStatus::Active,
            ) => {
                let link = self.link("/#alerts");
                alerts::message::email(alert, *transition, Some(&link))
            }
            (Job::Confirm { .. }, ChannelStatus::Unconfirmed) => {
                // One confirmation an address a day, whoever asks: trackses' own account must
                // not become a way to mail a stranger over and over.
                let until = Utc::now() + CONFIRMATION_VALID;
                match self
                    .store
                    .claim_confirmation(&sha256_hex(&address.to_ascii_lowercase()), until)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => return Outcome::Skipped("address-confirmed-recently"),
                    Err(e) => return Outcome::Failed(e.into()),
                }
                match self.confirmation(&channel).await {
                    Ok(message) => message,
                    Err(e) => return Outcome::Failed(e),
                }
            }
            _ => return Outcome::Skipped("channel-not-in-that-state"),
        };
        match self.send(address, &subject, &text).await {
            Ok(()) => Outcome::Sent,
            Err(MailError::Refused(reason)) => {
                // Another try would be refused the same: dropped, not retried for a day.
                tracing::warn!(channel_id = %channel.id, reason, "SES refused the message for good");
                Outcome::Skipped("refused-by-ses")
            }
            Err(e) => Outcome::Failed(e),
        }
    }

    /// A fresh confirmation link for `channel` (its token's hash stored), and the message.
    async fn confirmation(&self, channel: &model::Channel) -> Result<(String, String), MailError> {
        let token = ids::random_hex(32);
        let expires_at = Utc::now() + CONFIRMATION_VALID;
        self.store
            .put_channel_confirmation(&sha256_hex(&token), channel, expires_at)
            .await?;
        // A token is hex: nothing in it needs escaping.
        let link = format!("{}?token={token}", self.link(CONFIRM_PATH));
        let text = format!(
            "A trackses project asked to send its alerts (bounce and complaint rates, connection health) to this address.\n\n\
             To receive them, open this link within two days:\n{link}\n\n\
             If you did not expect this, ignore this message: nothing more will be sent here.\n"
        );
        Ok((
            "[trackses] Confirm this address for alerts".to_owned(),
            text,
        ))
    }

    /// `path` under the deployment's public URL, keeping any path the URL has.
    fn link(&self, path: &str) -> String {
        [self.public_url.as_str().trim_end_matches('/'), path].concat()
    }

    async fn send(&self, to: &str, subject: &str, text: &str) -> Result<(), MailError> {
        let content = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let (subject, text) = match (content(subject), content(text)) {
            (Ok(subject), Ok(text)) => (subject, text),
            (Err(e), _) | (_, Err(e)) => return Err(MailError::Send(e.to_string())),
        };
        let message = Message::builder()
            .subject(subject)
            .body(Body::builder().text(text).build())
            .build();
        self.ses
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| {
                let text = aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string();
                let permanent = e
                    .as_service_error()
                    .is_some_and(|s| s.is_bad_request_exception() || s.is_message_rejected());
                if permanent {
                    MailError::Refused(text)
                } else {
                    MailError::Send(text)
                }
            })?;
        Ok(())
    }
}
