//! The Backend API (`/v1/…`), authenticated with the instance's secret key.

mod sessions;
mod sign_in_tokens;
mod templates;
mod user_list;
mod users;

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

/// Every Backend API route, behind the secret-key check.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(sessions::router())
        .merge(templates::router())
        .merge(sign_in_tokens::router())
        .route("/jwks", get(jwks))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_secret_key,
        ))
}

/// Lets the request through only with `Authorization: Bearer <this instance's secret key>`.
async fn require_secret_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    // Digests have a fixed length, so the comparison time says nothing about the key.
    match presented {
        Some(key) if ids::secrets_equal(&ids::sha256(key.as_bytes()), &state.secret_key_digest) => {
            next.run(request).await
        }
        _ => ApiError::Unauthorized.into_response(),
    }
}

/// The public keys verifying this instance's tokens (`GET /v1/jwks`; also public at
/// `/.well-known/jwks.json`).
pub async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(state.keys.jwks().as_ref().clone())
}

/// A list as Clerk answers it: a bare array, or `{data, total_count}` when `paginated=true`.
fn list_response<T: Serialize>(items: Vec<T>, total: i64, paginated: bool) -> Response {
    if paginated {
        Json(Paginated {
            data: items,
            total_count: total,
        })
        .into_response()
    } else {
        Json(items).into_response()
    }
}
