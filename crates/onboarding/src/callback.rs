//! What a customer stack's `Connection` custom resource tells trackses, through trackses' callback
//! topic: Create registers the connection (so the topic is known before SNS's subscription
//! confirmation arrives) and starts its check through the role, Update takes the new role or
//! set, Delete forgets the connection. Every request is answered at its ResponseURL: a stack
//! must never hang on trackses. Anyone may publish to the callback topic, so nothing in a request
//! is trusted but what the checks here prove.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use chrono::Utc;

use super::refusal::{Checked, StackRefusal, checked};
use super::request::{
    Answer, ConnectionProperties, CustomResourceRequest, NotARequest, RequestType,
};
use super::respond::{RespondError, Responder};
use ingest::Disposition;
use ingest::sns::confirm::ConfirmError;
use ingest::sns::freshness::{StaleMessage, signed_within_window};
use ingest::sns::{
    CertStore, Confirmer, Envelope, EnvelopeError, MessageType, VerifyError, verify,
};
use ingest::{ConnectionStore, PortError, StoreFailure};
use model::naming::topic_arn;
use model::region::is_ses_region;
use model::{
    Access, Connection, ConnectionStatus, Delivery, Source, Stack, TopicArn, WiringStep, sha256_hex,
};
use runtime::ConfigError;
use wiring_client::{Command, InvokeError, WiringClient};

/// What the stack itself created: the check through the role only re-runs the subscription.
const STACK_STEPS: [WiringStep; 4] = [
    WiringStep::Topic,
    WiringStep::TopicPolicy,
    WiringStep::ConfigurationSet,
    WiringStep::EventDestination,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    Confirmed,
    Unsubscribed,
    Answered { success: bool },
}

#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("SNS signature check failed: {0}")]
    Signature(#[from] VerifyError),
    #[error(transparent)]
    Stale(#[from] StaleMessage),
    #[error("the message is not from one of trackses' callback topics")]
    ForeignTopic,
    #[error(transparent)]
    NotARequest(#[from] NotARequest),
    #[error(transparent)]
    Confirm(#[from] ConfirmError),
    #[error(transparent)]
    Respond(#[from] RespondError),
    #[error(transparent)]
    Store(PortError),
    #[error(transparent)]
    Invoke(#[from] InvokeError),
}

impl CallbackError {
    /// A short, fixed name for metrics and log queries.
    pub fn reason(&self) -> &'static str {
        match self {
            CallbackError::Envelope(_) => "envelope",
            CallbackError::Signature(_) => "signature",
            CallbackError::Stale(_) => "stale",
            CallbackError::ForeignTopic => "foreign_topic",
            CallbackError::NotARequest(_) => "not_a_request",
            CallbackError::Confirm(_) => "confirm",
            CallbackError::Respond(_) => "respond",
            CallbackError::Store(_) => "store",
            CallbackError::Invoke(_) => "invoke",
        }
    }

    pub fn disposition(&self) -> Disposition {
        match self {
            CallbackError::Envelope(_) | CallbackError::NotARequest(_) => Disposition::Malformed,
            CallbackError::Signature(e) if e.is_transient() => Disposition::Retry,
            CallbackError::Signature(_)
            | CallbackError::Stale(_)
            | CallbackError::ForeignTopic
            | CallbackError::Confirm(ConfirmError::UntrustedUrl)
            | CallbackError::Respond(RespondError::UntrustedUrl) => Disposition::Forbidden,
            CallbackError::Confirm(_)
            | CallbackError::Respond(_)
            | CallbackError::Store(_)
            | CallbackError::Invoke(_) => Disposition::Retry,
        }
    }
}

/// A request's fate: the connection id to answer SUCCESS with, or why it is answered FAILED.
type Decision = Result<String, StackRefusal>;

fn store_failed(error: impl StoreFailure) -> CallbackError {
    CallbackError::Store(Box::new(error))
}

pub struct StackCallback<S> {
    pub store: S,
    pub certs: CertStore,
    pub confirmer: Confirmer,
    pub responder: Responder,
    pub wiring: WiringClient,
    /// trackses' account, which owns the callback topics.
    pub account_id: String,
    pub callback_topic: String,
}

impl<S: ConnectionStore> StackCallback<S> {
    /// The callback needs trackses' account id (whose topics it accepts) and the wiring
    /// function (which checks the role).
    pub fn from_config(
        config: &runtime::Config,
        store: S,
        wiring: WiringClient,
    ) -> Result<StackCallback<S>, ConfigError> {
        Ok(StackCallback {
            store,
            certs: CertStore::new(config.sns_cert_dir.clone()),
            confirmer: Confirmer::new(config.sns_endpoint.clone()),
            responder: Responder::new(config.aws_endpoint.clone()),
            wiring,
            account_id: config
                .account_id
                .clone()
                .ok_or(ConfigError::Missing("TRACKSES_ACCOUNT_ID"))?,
            callback_topic: config.callback_topic.clone(),
        })
    }

    pub async fn handle(&self, envelope: &Envelope) -> Result<CallbackOutcome, CallbackError> {
        // The cheap checks first: only a fresh message of a callback topic is worth a
        // certificate.
        let region = self.callback_region(&envelope.topic_arn)?;
        signed_within_window(envelope, Utc::now())?;
        verify(envelope, &self.certs).await?;
        match envelope.message_type {
            MessageType::SubscriptionConfirmation => {
                let url = envelope.subscribe_url.as_deref().unwrap_or_default();
                self.confirmer.confirm(url, &region).await?;
                tracing::info!(topic_arn = %envelope.topic_arn, "callback topic subscription confirmed");
                Ok(CallbackOutcome::Confirmed)
            }
            MessageType::UnsubscribeConfirmation => {
                tracing::warn!(topic_arn = %envelope.topic_arn, "callback topic unsubscribed: customer stacks in {region} will wait for an answer");
                Ok(CallbackOutcome::Unsubscribed)
            }
            MessageType::Notification => {
                let request = CustomResourceRequest::parse(&envelope.message)?;
                // Checked before anything else: an answer goes only to CloudFormation's bucket.
                self.responder.trusted_url(&request.response_url, &region)?;
                let decision = if request.service_token == envelope.topic_arn {
                    self.decide(&request).await?
                } else {
                    Err(StackRefusal::ForeignServiceToken)
                };
                let answer = answer(&request, &decision);
                self.responder
                    .answer(&request.response_url, &region, &answer)
                    .await?;
                match &decision {
                    Ok(cid) => {
                        tracing::info!(request_type = ?request.request_type, stack_id = %request.stack_id, connection_id = %cid, "stack request answered SUCCESS")
                    }
                    Err(reason) => {
                        tracing::warn!(request_type = ?request.request_type, stack_id = %request.stack_id, reason = %reason, "stack request answered FAILED")
                    }
                }
                Ok(CallbackOutcome::Answered {
                    success: decision.is_ok(),
                })
            }
        }
    }

    /// The region of a topic that is trackses' callback topic there, else refused.
    fn callback_region(&self, arn: &str) -> Result<String, CallbackError> {
        let topic: TopicArn = arn.parse().map_err(|_| CallbackError::ForeignTopic)?;
        let expected = topic_arn(topic.region(), &self.account_id, &self.callback_topic);
        if is_ses_region(topic.region()) && topic.as_str() == expected {
            Ok(topic.region().to_owned())
        } else {
            Err(CallbackError::ForeignTopic)
        }
    }

    async fn decide(&self, request: &CustomResourceRequest) -> Result<Decision, CallbackError> {
        match request.request_type {
            RequestType::Create => self.create(request).await,
            RequestType::Update => self.update(request).await,
            RequestType::Delete => self.delete(request).await,
        }
    }

    async fn create(&self, request: &CustomResourceRequest) -> Result<Decision, CallbackError> {
        let properties = match request.properties() {
            Ok(properties) => properties,
            Err(reason) => return Ok(Err(StackRefusal::Properties(reason))),
        };
        let Checked { stack, delivery } = match checked(request, &properties) {
            Ok(checked) => checked,
            Err(reason) => return Ok(Err(reason)),
        };
        let token_sha256 = sha256_hex(&properties.connection_token);
        let Some(onboarding) = self
            .store
            .onboarding(&token_sha256, Utc::now())
            .await
            .map_err(store_failed)?
        else {
            return Ok(Err(StackRefusal::UnknownToken));
        };
        if onboarding.region != stack.region {
            return Ok(Err(StackRefusal::LinkOfAnotherRegion {
                link: onboarding.region,
                stack: stack.region.to_owned(),
            }));
        }
        if let Err(reason) = self
            .external_id_matches(&onboarding.project_id, &properties)
            .await?
        {
            return Ok(Err(reason));
        }
        if !self
            .store
            .claim_onboarding(&token_sha256, &request.stack_id)
            .await
            .map_err(store_failed)?
        {
            return Ok(Err(StackRefusal::LinkUsed));
        }
        let access = Access::Role {
            role_arn: properties.role_arn.clone(),
            stack: Some(Stack {
                stack_id: request.stack_id.clone(),
                token_sha256: Some(token_sha256.clone()),
            }),
        };
        let source = Source {
            account_id: stack.account_id.to_owned(),
            region: stack.region.to_owned(),
            delivery,
        };
        let mut connection = Connection::new(
            onboarding.connection_id.clone(),
            onboarding.project_id.clone(),
            access,
            ConnectionStatus::Wiring,
            source,
        );
        connection.configuration_set = Some(properties.configuration_set_name.clone());
        connection.wiring_steps = STACK_STEPS.to_vec();
        match self.store.create_connection(&connection, None, None).await {
            Ok(()) => {}
            Err(e) if e.is_already_exists() => {
                // SNS delivers at least once: the same stack again is answered the same way.
                let repeated = self
                    .store
                    .get_connection(&connection.id)
                    .await
                    .map_err(store_failed)?
                    .is_some_and(|c| c.stack() == connection.stack());
                if !repeated {
                    return Ok(Err(StackRefusal::AlreadyConnected {
                        account_id: connection.account_id,
                        region: connection.region,
                    }));
                }
            }
            Err(e) => return Err(store_failed(e)),
        }
        tracing::info!(connection_id = %connection.id, project_id = %connection.project_id, account_id = %connection.account_id, region = %connection.region, "role connection registered by its stack");
        self.check_through_role(&connection.id).await?;
        Ok(Ok(connection.id))
    }

    async fn update(&self, request: &CustomResourceRequest) -> Result<Decision, CallbackError> {
        let Some(connection) = self.stack_connection(request).await? else {
            return Ok(Err(StackRefusal::ConnectionGone));
        };
        let properties = match request.properties() {
            Ok(properties) => properties,
            Err(reason) => return Ok(Err(StackRefusal::Properties(reason))),
        };
        let delivery = match checked(request, &properties) {
            Ok(checked) => checked.delivery,
            Err(reason) => return Ok(Err(reason)),
        };
        if !holds_token(&connection, &properties) {
            return Ok(Err(StackRefusal::TokenChanged));
        }
        if delivery != connection.delivery {
            let now = match &connection.delivery {
                Delivery::Sns { topic_arn } => format!("from {topic_arn}"),
                Delivery::EventBridge => "through EventBridge".to_owned(),
            };
            return Ok(Err(StackRefusal::DeliveryChanged(now)));
        }
        if let Err(reason) = self
            .external_id_matches(&connection.project_id, &properties)
            .await?
        {
            return Ok(Err(reason));
        }
        let updated = self
            .store
            .update_stack_connection(
                &connection.id,
                &properties.role_arn,
                &properties.configuration_set_name,
                Utc::now(),
            )
            .await
            .map_err(store_failed)?;
        if !updated {
            return Ok(Err(StackRefusal::BeingRemoved));
        }
        tracing::info!(connection_id = %connection.id, properties = %properties.redacted(), "role connection updated by its stack");
        self.check_through_role(&connection.id).await?;
        Ok(Ok(connection.id))
    }

    /// SUCCESS for the stack that holds the connection's token (or for a connection trackses no
    /// longer has), so the customer can always delete their stack; the ids a Delete names are
    /// visible in the customer's console, so only the token makes it the stack's.
    async fn delete(&self, request: &CustomResourceRequest) -> Result<Decision, CallbackError> {
        if let Some(connection) = self.stack_connection(request).await? {
            let owns = request
                .properties()
                .is_ok_and(|properties| holds_token(&connection, &properties));
            if !owns {
                return Ok(Err(StackRefusal::NotTheOwner));
            }
            self.store
                .delete_connection(&connection)
                .await
                .map_err(store_failed)?;
            tracing::info!(connection_id = %connection.id, stack_id = %request.stack_id, "role connection removed with its stack");
        }
        Ok(Ok(request.physical_resource_id.clone().unwrap_or_default()))
    }

    /// The connection this stack created (its PhysicalResourceId), and only if it is this stack's.
    async fn stack_connection(
        &self,
        request: &CustomResourceRequest,
    ) -> Result<Option<Connection>, CallbackError> {
        let Some(cid) = request
            .physical_resource_id
            .as_deref()
            .filter(|cid| model::ids::is_key_safe(cid))
        else {
            return Ok(None);
        };
        Ok(self
            .store
            .get_connection(cid)
            .await
            .map_err(store_failed)?
            .filter(|c| c.stack().is_some_and(|s| s.stack_id == request.stack_id)))
    }

    async fn external_id_matches(
        &self,
        project_id: &str,
        properties: &ConnectionProperties,
    ) -> Result<Result<(), StackRefusal>, CallbackError> {
        let Some(project) = self
            .store
            .get_project(project_id)
            .await
            .map_err(store_failed)?
        else {
            return Ok(Err(StackRefusal::ProjectGone));
        };
        let same = verify_slices_are_equal(
            sha256_hex(&properties.external_id).as_bytes(),
            sha256_hex(&project.external_id).as_bytes(),
        )
        .is_ok();
        Ok(same.then_some(()).ok_or(StackRefusal::ForeignExternalId))
    }

    /// The wiring function proves and assumes the role (the proof trackses can reach the
    /// account, and only with this project's external id) and re-runs the idempotent
    /// subscription; the webhook's confirmation makes the connection active.
    async fn check_through_role(&self, cid: &str) -> Result<(), CallbackError> {
        self.wiring
            .start(&Command::Wire {
                connection_id: cid.to_owned(),
            })
            .await?;
        Ok(())
    }
}

/// Whether the request carries the token the connection was created with (compared as hashes,
/// in constant time; only the hash is stored). A stack connection made before the hash was kept
/// has none: its stack is trusted as it was then, or its customer could never update or delete
/// it.
fn holds_token(connection: &Connection, properties: &ConnectionProperties) -> bool {
    connection
        .stack()
        .and_then(|stack| stack.token_sha256.as_deref())
        .is_none_or(|stored| {
            verify_slices_are_equal(
                sha256_hex(&properties.connection_token).as_bytes(),
                stored.as_bytes(),
            )
            .is_ok()
        })
}

fn answer(request: &CustomResourceRequest, decision: &Decision) -> Answer {
    match decision {
        Ok(cid) if !cid.is_empty() => request.success(cid),
        // A Delete of a resource that never got an id of ours.
        Ok(_) => request.success("trackses-connection-not-created"),
        Err(reason) => request.failure(&reason.to_string()),
    }
}

#[cfg(test)]
#[path = "callback_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "decision_tests.rs"]
mod decision_tests;
