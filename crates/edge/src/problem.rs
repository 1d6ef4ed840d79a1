//! RFC 9457 problem details: the only shape an error leaves the API in.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use store::StoreError;

/// RFC 9457 problem details, served as `application/problem+json`.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// `urn:trackses:problem:<slug>`: what went wrong, for code to match on.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: &'static str,
    /// The HTTP status, repeated.
    pub status: u16,
    /// What went wrong and what to do, in words; never a secret or an internal error.
    pub detail: String,
}

impl Problem {
    pub fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            problem_type: format!("urn:trackses:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// A key-shaped bearer token that is no key (revoked, mistyped, or never made).
    pub fn invalid_key() -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "this API key is not valid: it was revoked or mistyped",
        )
    }

    pub fn unauthorized() -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "send `Authorization: Bearer <token>`",
        )
    }

    pub fn not_found(what: &str) -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// A mode this deployment is not configured for; `detail` names what is missing.
    pub fn mode_not_available(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::NOT_IMPLEMENTED,
            "mode-not-available",
            "Mode not available",
            detail,
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// The cause is logged here, once; the client gets no internal detail.
    pub fn unavailable(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "request failed on a dependency");
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "a storage or network dependency failed; retry later",
        )
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Problem {
        Problem::unavailable(&error)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

/// Parses a JSON body into `T`, as a 400 problem when it does not fit.
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body)
        .map_err(|e| Problem::bad_request(format!("invalid JSON body: {e}")))
}

pub async fn route_not_found() -> Problem {
    Problem::not_found("route")
}

pub async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this route does not take that method",
    )
}
