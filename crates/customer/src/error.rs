//! What went wrong in a customer account, in the words the user needs to fix it.

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::guard::{Refusal, refusal};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error(
        "the access key may not call {permission}: attach trackses' policy (customer-iam-policy.json) to its IAM user or role"
    )]
    Denied { permission: &'static str },
    #[error("AWS does not accept these credentials (the key was deleted, deactivated or mistyped)")]
    InvalidCredentials,
    #[error(
        "trackses cannot assume the role: its trust policy must allow trackses' account with this project's external id (or the role was deleted)"
    )]
    CannotAssumeRole,
    #[error(
        "the role's trust policy must require sts:ExternalId {external_id} (trackses could assume it with another external id or none, so any trackses project could): add the condition \"StringEquals\": {{\"sts:ExternalId\": \"<this project's external id>\"}} to the statement that trusts trackses"
    )]
    TrustTooOpen { external_id: String },
    #[error(
        "the role is in trackses' own AWS account: connect a role of the account you send from"
    )]
    OwnAccountRole,
    #[error("AWS is throttling or unavailable for {permission}; trackses retries")]
    Transient { permission: &'static str },
    #[error(
        "SES refused the listing's page token (ses:ListEmailIdentities): it expired or is not one SES gave out; list from the start"
    )]
    InvalidNextToken,
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(
        "the configuration set {set} does not exist in this account and region (was the stack's set deleted?)"
    )]
    ConfigurationSetMissing { set: String },
    #[error(
        "the configuration set {set} already delivers to another trackses connection: delete that connection first"
    )]
    ConfigurationSetTaken { set: String },
    #[error("{permission} failed: {message}")]
    Failed {
        permission: &'static str,
        message: String,
    },
}

/// An idempotent call's result: its output, or `None` where the service's answer means the work
/// is already done (`AlreadyExists` for a create, `NotFound` for a delete or a lookup); any other
/// failure classified as the call named by its IAM action.
pub(crate) fn done_unless_failed<T, E>(
    permission: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
    counts_as_done: impl FnOnce(&E) -> bool,
) -> Result<Option<T>, AccountError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(e) if e.as_service_error().is_some_and(counts_as_done) => Ok(None),
        Err(e) => Err(AccountError::from_sdk(permission, e)),
    }
}

impl AccountError {
    /// Whether trying again later can succeed without the user doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self, AccountError::Transient { .. })
    }

    /// Classifies an SDK error of the call named by its IAM action (`sns:CreateTopic`).
    pub fn from_sdk<E>(permission: &'static str, error: SdkError<E, HttpResponse>) -> AccountError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let Some(refused) = refusal(&error) {
            return AccountError::Refused(refused.clone());
        }
        if let Some(credentials) = credentials_error(&error) {
            return match credentials {
                CredentialsError::ProviderError(_) | CredentialsError::InvalidConfiguration(_) => {
                    AccountError::CannotAssumeRole
                }
                _ => AccountError::Transient { permission },
            };
        }
        match &error {
            SdkError::ServiceError(context) => {
                let status = context.raw().status().as_u16();
                classify(permission, context.err(), status)
            }
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
                AccountError::Transient { permission }
            }
            SdkError::ResponseError(_) => AccountError::Transient { permission },
            _ => AccountError::Failed {
                permission,
                message: aws_smithy_types::error::display::DisplayErrorContext(&error).to_string(),
            },
        }
    }
}

/// A failure to obtain credentials (assuming the customer's role), anywhere in the chain.
fn credentials_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CredentialsError> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<CredentialsError>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// How the three services spell the same few outcomes.
fn classify(
    permission: &'static str,
    error: &impl ProvideErrorMetadata,
    status: u16,
) -> AccountError {
    match error.code().unwrap_or_default() {
        "AccessDenied"
        | "AccessDeniedException"
        | "AuthorizationError"
        | "AuthorizationErrorException" => AccountError::Denied { permission },
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidAccessKeyId" => AccountError::InvalidCredentials,
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded" => AccountError::Transient { permission },
        _ if status >= 500 => AccountError::Transient { permission },
        code => AccountError::Failed {
            permission,
            message: error
                .message()
                .map_or_else(|| code.to_owned(), str::to_owned),
        },
    }
}
