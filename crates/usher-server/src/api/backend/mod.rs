//! The Backend API (`/v1/…`), authenticated with the instance's secret key.

// Admin: actor tokens, instance admins, the audit log.
pub(crate) mod admin;
mod external_accounts;
mod instance;
pub(crate) mod invitations;
pub(crate) mod organizations;
pub(crate) mod roles;
mod sessions;
mod sign_in_tokens;
mod templates;
mod user_factors;
mod user_list;
mod users;
pub(crate) mod webhooks;

mod handshake;

use axum::{
    Json, Router,
    extract::{Request, State},
    http::header,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use usher_types::{Jwks, Paginated};

use crate::{error::ApiError, ids, state::AppState};

/// Every Backend API route, behind the secret-key check and the rate limit.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(external_accounts::router())
        .merge(user_factors::router())
        .merge(sessions::router())
        .merge(templates::router())
        .merge(organizations::router())
        .merge(invitations::router())
        .merge(roles::router())
        .merge(sign_in_tokens::router())
        .merge(webhooks::router())
        .merge(instance::router())
        .merge(handshake::router())
        // Admin: actor tokens, instance admins, the audit log.
        .merge(admin::router())
        // Inside the key check: only authenticated writes are recorded.
        .route_layer(middleware::from_fn_with_state(state.clone(), admin::audit_writes))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key_within_limit))
        // The JWKS needs the key too but is never rate limited: every verifier depends on it.
        .route("/jwks", get(jwks).route_layer(middleware::from_fn_with_state(state.clone(), require_key)))
}

/// Whether the request carries `Authorization: Bearer <this instance's secret key>`.
fn has_secret_key(state: &AppState, request: &Request) -> bool {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    // Digests have a fixed length, so the comparison time says nothing about the key.
    presented.is_some_and(|key| ids::secrets_equal(&ids::sha256(key.as_bytes()), &state.secret_key_digest))
}

async fn require_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if has_secret_key(&state, &request) { next.run(request).await } else { ApiError::Unauthorized.into_response() }
}

async fn require_key_within_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !has_secret_key(&state, &request) {
        return ApiError::Unauthorized.into_response();
    }
    if let Some(bucket) = &state.limits.backend
        && let Err(wait) = bucket.check("instance").await
    {
        return ApiError::TooManyRequests(wait).into_response();
    }
    next.run(request).await
}

/// The public keys verifying this instance's tokens (`GET /v1/jwks`; also public at
/// `/.well-known/jwks.json`).
pub async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.keys.jwks().as_ref().clone())
}

/// A list as Clerk answers it: a bare array, or `{data, total_count}` when `paginated=true`.
fn list_response<T: Serialize>(items: Vec<T>, total: i64, paginated: bool) -> Response {
    if paginated {
        Json(Paginated { data: items, total_count: total }).into_response()
    } else {
        Json(items).into_response()
    }
}
