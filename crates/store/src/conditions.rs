//! What a failed conditional write means: the condition did not hold (nothing changed, which
//! callers often want) or something else went wrong.

use crate::StoreError;

/// A conditional update whose condition does not hold (a connection deleted meanwhile or in
/// another state, a counter that took this window already, a newer suppression) changes
/// nothing, which is what the caller wants; says whether it applied.
pub(crate) fn ignore_missing<T>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >,
    >,
) -> Result<bool, StoreError> {
    match result {
        Err(e) if is_update_condition_failure(&e) => Ok(false),
        other => other.map(|_| true).map_err(Into::into),
    }
}

/// True when a conditional update changed nothing because its condition did not hold.
pub(crate) fn is_update_condition_failure<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        R,
    >,
) -> bool {
    error
        .as_service_error()
        .is_some_and(|e| e.is_conditional_check_failed_exception())
}

/// True when a transaction was cancelled because a condition did not hold.
pub(crate) fn is_condition_failure<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    cancellation_codes(error)
        .iter()
        .any(|c| c == "ConditionalCheckFailed")
}

/// The per-item reasons of a cancelled transaction, in the order the items were sent.
pub(crate) fn cancellation_codes<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> Vec<String> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// A conditional delete whose condition does not hold leaves someone else's item alone.
pub(crate) fn ignore_missing_delete<T>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::delete_item::DeleteItemError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >,
    >,
) -> Result<(), StoreError> {
    match result {
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
        {
            Ok(())
        }
        other => other.map(|_| ()).map_err(Into::into),
    }
}
