//! The HTTP error type: every failure becomes Clerk's error body with Clerk's status code.
//!
//! Client mistakes carry a message meant for the client. Server failures are logged with a
//! trace id and answered with a generic message and that id, never with internal detail.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::Map;
use usher_types::{ClerkError, ClerkErrors};

use crate::{ids, password::PasswordError, store::StoreError};

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The secret key is missing or wrong (401).
    #[error("unauthorized")]
    Unauthorized,
    /// The browser has no signed-in session for this (401 `signed_out`).
    #[error("signed out")]
    SignedOut,
    /// Refused for this caller (403): a foreign origin, a locked account.
    #[error("forbidden: {}", .0.message)]
    Forbidden(ClerkError),
    /// The named resource does not exist (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request is malformed (400).
    #[error("bad request: {}", .0.message)]
    BadRequest(ClerkError),
    /// A parameter is invalid or a rule forbids the change (422).
    #[error("unprocessable: {}", .0.message)]
    Unprocessable(ClerkError),
    /// The body is larger than allowed (413).
    #[error("request body too large")]
    TooLarge,
    /// Too many requests; retry after this many seconds (429).
    #[error("rate limited")]
    TooManyRequests(u64),
    /// The server is saturated; retry after this many seconds (503).
    #[error("temporarily unavailable")]
    Unavailable(u64),
    /// Anything else (500); logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// 422 with `code`, naming the parameter `param`.
    pub fn invalid(code: &str, param: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Unprocessable(ClerkError::new(code, &message, message.clone()).with_param(param))
    }

    /// 422 `form_param_format_invalid` for `param`.
    pub fn format(param: &str, message: impl Into<String>) -> Self {
        Self::invalid("form_param_format_invalid", param, message)
    }

    /// 400 `malformed_request`.
    pub fn malformed(message: &str, long_message: impl Into<String>) -> Self {
        Self::BadRequest(ClerkError::new("malformed_request", message, long_message))
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized | Self::SignedOut => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds a client should wait before retrying (429 and 503), at least one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests(s) | Self::Unavailable(s) => Some((*s).max(1)),
            _ => None,
        }
    }

    /// Logs the error — server failures as errors with their detail, refusals at debug — and
    /// returns the trace id that names it to the client.
    pub fn report(&self) -> String {
        // The request's own trace id (on each of its log lines), else a fresh one.
        let trace_id = TRACE_ID.try_with(Clone::clone).unwrap_or_else(|_| ids::random_base62(20));
        if self.status().is_server_error() {
            tracing::error!(%trace_id, error = ?self, "request failed");
        } else {
            tracing::debug!(%trace_id, error = %self, "request refused");
        }
        trace_id
    }

    /// The Clerk error in the body; generic for server failures.
    pub fn body(&self) -> ClerkError {
        match self {
            Self::Unauthorized => ClerkError::new(
                "clerk_key_invalid",
                "Secret key invalid",
                "The Authorization header must carry this instance's secret key as a Bearer token.",
            ),
            Self::NotFound(what) => {
                ClerkError::new("resource_not_found", "not found", format!("No {what} was found with that identifier."))
            }
            Self::SignedOut => ClerkError::new(
                "signed_out",
                "You are signed out",
                "This request needs a signed-in session on this browser.",
            ),
            Self::BadRequest(e) | Self::Unprocessable(e) | Self::Forbidden(e) => e.clone(),
            Self::TooLarge => ClerkError::new(
                "request_body_too_large",
                "Request body too large",
                "The request body exceeds the size limit.",
            ),
            Self::TooManyRequests(_) => ClerkError::new(
                "too_many_requests",
                "Too many requests",
                "Too many requests. Retry after the time in the Retry-After header.",
            ),
            Self::Unavailable(_) => ClerkError::new(
                "service_unavailable",
                "Service busy",
                "The server is busy. Retry after the time in the Retry-After header.",
            ),
            Self::Internal(_) => ClerkError::new(
                "internal_clerk_error",
                "Oops, an unexpected error occurred",
                "Something went wrong on our side; the trace id identifies it in the server's logs.",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let trace_id = self.report();
        let body = ClerkErrors { errors: vec![self.body()], meta: Map::new(), clerk_trace_id: Some(trace_id) };
        let mut response = (self.status(), Json(body)).into_response();
        if let Some(seconds) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if matches!(self, Self::Unauthorized) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(field) => {
                use crate::store::UniqueField::*;
                let (param, what) = match field {
                    EmailAddress => ("email_address", "That email address is taken. Please try another."),
                    PhoneNumber => ("phone_number", "That phone number is taken. Please try another."),
                    Username => ("username", "That username is taken. Please try another."),
                    ExternalId => ("external_id", "That external ID is taken. Please try another."),
                    TemplateName => ("name", "A JWT template with that name already exists."),
                    OrganizationSlug => ("slug", "That slug is taken. Please try another."),
                    Membership => {
                        return Self::invalid(
                            "already_a_member_in_organization",
                            "user_id",
                            "The user is already a member of this organization.",
                        );
                    }
                    ExternalAccount => {
                        return Self::invalid(
                            "external_account_exists",
                            "strategy",
                            "This account is already connected to another user.",
                        );
                    }
                    RoleKey => ("key", "A role with that key already exists."),
                    PermissionKey => ("key", "A permission with that key already exists."),
                    Other => return Self::Internal(anyhow::anyhow!("unexpected unique conflict")),
                };
                let code = if matches!(field, TemplateName | RoleKey | PermissionKey) {
                    "duplicate_record"
                } else {
                    "form_identifier_exists"
                };
                Self::invalid(code, param, what)
            }
            StoreError::Refused(error) => Self::Unprocessable(error),
            StoreError::Contention(what) => {
                tracing::warn!(%what, "update contention");
                Self::Unavailable(1)
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<PasswordError> for ApiError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::TooShort(n) => Self::invalid(
                "form_password_length_too_short",
                "password",
                format!("Passwords must be {n} characters or more."),
            ),
            PasswordError::TooLong(n) => Self::invalid(
                "form_password_length_too_long",
                "password",
                format!("Passwords must be {n} characters or fewer."),
            ),
            PasswordError::BadDigest => Self::invalid(
                "form_param_format_invalid",
                "password_digest",
                "password_digest is not a valid digest for password_hasher (supported: argon2id, argon2i, bcrypt).",
            ),
            PasswordError::Busy => Self::Unavailable(1),
            PasswordError::Failed => Self::Internal(anyhow::anyhow!("password hashing failed")),
        }
    }
}

tokio::task_local! {
    /// The trace id of the request being handled (set at the edge by the router).
    static TRACE_ID: String;
}

/// Runs `work` with `trace_id` as the trace id its error bodies carry.
pub async fn with_trace_id<F: std::future::Future>(trace_id: String, work: F) -> F::Output {
    TRACE_ID.scope(trace_id, work).await
}
