//! The APIs: the Backend API (secret key, [`backend`]), the Frontend API (browsers,
//! [`frontend`]), and the public endpoints beside them (JWKS, health, the OpenAPI document).

pub mod backend;
pub mod frontend;
pub mod openapi;
// Operations.
pub mod metrics;

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use usher_types::ClerkError;

use crate::{error::ApiError, state::AppState};

/// The Backend API under `/v1`, the Frontend API, and the public endpoints.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(frontend::router(state))
        .nest("/v1", backend::router(state))
        .route("/v1/openapi.json", get(openapi::serve))
        .route("/.well-known/jwks.json", get(public_jwks))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::serve_on_main))
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

/// Clerk's 404 for a path no router has.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

/// Clerk's error body with 405 for a known path and a method it does not take.
pub async fn method_not_allowed() -> Response {
    let mut response = ApiError::BadRequest(ClerkError::new(
        "method_not_allowed",
        "Method not allowed",
        "This endpoint does not support the request's HTTP method.",
    ))
    .into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}
