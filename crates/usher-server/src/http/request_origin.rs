//! Who made the request, for the webhook events it causes (`event_attributes.http_request`).

use axum::{extract::Request, http::header, middleware::Next, response::Response};

use super::throttle::client_ip;
use crate::store::{REQUEST_ORIGIN, RequestOrigin};

/// Runs the rest of the request with its client address and `User-Agent` in
/// [`REQUEST_ORIGIN`], where the store's event renderer reads them.
pub async fn record(request: Request, next: Next) -> Response {
    let origin = RequestOrigin {
        client_ip: client_ip(request.extensions()).to_string(),
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(512)
            .collect(),
    };
    REQUEST_ORIGIN.scope(origin, next.run(request)).await
}
