//! HTTP: the Backend API, public endpoints, and the layers around them.

pub mod backend;
pub mod extract;
pub mod frontend;
pub mod validate;

use std::time::Duration;

use axum::{
    BoxError, Router,
    error_handling::HandleErrorLayer,
    extract::{DefaultBodyLimit, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use tower::ServiceBuilder;
use tower_http::{catch_panic::CatchPanicLayer, trace::TraceLayer};
use usher_types::ClerkError;

use crate::{error::ApiError, state::AppState};

/// The whole HTTP surface of the server.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let inner = Router::new()
        .merge(frontend::router(&state))
        .merge(crate::pages::router(&state))
        .nest("/v1", backend::router(&state))
        .route("/.well-known/jwks.json", get(public_jwks))
        .merge(crate::assets::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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
    Router::new().fallback_service(inner).layer(axum::middleware::from_fn_with_state(state, frontend::before_routing))
}

/// The JWKS for anyone: verifiers fetch it without credentials, and it is never rate limited.
async fn public_jwks(state: State<AppState>) -> Response {
    let mut response = backend::jwks(state).await.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("public, max-age=60"));
    response
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

async fn method_not_allowed() -> Response {
    let mut response = ApiError::BadRequest(ClerkError::new(
        "method_not_allowed",
        "Method not allowed",
        "This endpoint does not support the request's HTTP method.",
    ))
    .into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}
