//! The whole HTTP surface: the APIs ([`crate::api`]) and the hosted pages ([`crate::pages`])
//! side by side — neither knows the other — with `usher.js` ([`crate::assets`]), and the layers
//! every request passes.

use std::time::Duration;

use axum::{
    BoxError, Router,
    error_handling::HandleErrorLayer,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tower::ServiceBuilder;
use tower_http::{catch_panic::CatchPanicLayer, trace::TraceLayer};

use crate::{
    api, assets,
    error::ApiError,
    http::{request_origin, throttle, tunnel},
    pages, password,
    state::AppState,
};

/// The server's router.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let inner = Router::new()
        .merge(api::router(&state))
        .merge(pages::router())
        .merge(assets::router())
        .merge(crate::clerk_scripts::router())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(
            ServiceBuilder::new()
                // A request still running after 30 s gets Clerk's 503 body with Retry-After.
                .layer(HandleErrorLayer::new(|_: BoxError| async { ApiError::Unavailable(1) }))
                .timeout(Duration::from_secs(30)),
        )
        .layer(CatchPanicLayer::custom(|_| ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()))
        .layer(TraceLayer::new_for_http())
        .with_state(state.clone());
    let inner = match &state.dev_mailbox {
        Some(mailbox) => inner.merge(crate::mail::dev::router(mailbox.clone())),
        None => inner,
    };
    // Preflights and `_method` must be handled before routing, so this wraps the routed app.
    let hsts = state.issuer.starts_with("https://");
    Router::new()
        .fallback_service(inner)
        .layer(middleware::from_fn_with_state(state, tunnel::before_routing))
        .layer(middleware::from_fn(request_origin::record))
        .layer(middleware::from_fn(charge_hashing))
        .layer(middleware::from_fn(move |request: Request, next: Next| refuse_oversized(max_body, request, next)))
        .layer(middleware::map_response(move |response| security_headers(response, hsts)))
}

/// Password hashing done for a request is charged to its client's share of the pool.
async fn charge_hashing(request: Request, next: Next) -> Response {
    let client = throttle::client_ip(request.extensions());
    password::charged_to(client, next.run(request)).await
}

/// A body announced larger than the cap gets its 413 at once, before any of it is read
/// (otherwise the client decides how long the connection is held).
async fn refuse_oversized(max_body: usize, request: Request, next: Next) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > max_body as u64) {
        return ApiError::TooLarge.into_response();
    }
    next.run(request).await
}

/// Headers every answer carries (JSON and the development mailbox included): no MIME sniffing,
/// HSTS when the public URL is https, and for HTML without its own policy (the pages set a
/// stricter-by-origin one) a script-free CSP and no framing.
async fn security_headers(mut response: Response, hsts: bool) -> Response {
    let headers = response.headers_mut();
    headers.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    if hsts {
        headers.entry(header::STRICT_TRANSPORT_SECURITY).or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    let html =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        headers.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
        headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("same-origin"));
    }
    response
}
