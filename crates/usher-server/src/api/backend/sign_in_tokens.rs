//! `/v1/sign_in_tokens`: one-time tokens that sign a user in (redeemed by the Frontend API).

use axum::{Json, Router, extract::State, routing::post};
use usher_types::{SignInToken, requests::CreateSignInToken};

use super::users;
use crate::{
    error::{ApiError, ApiResult},
    http::extract::{JsonBody, Path},
    ids,
    state::AppState,
    store::{SignInTokenRecord, SignInTokenStatus},
    wire,
};

/// Default and maximum lifetime of a sign-in token: 30 days, as Clerk.
const DEFAULT_LIFETIME_SECS: i64 = 30 * 24 * 3600;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/sign_in_tokens", post(create_sign_in_token))
        .route("/sign_in_tokens/{id}/revoke", post(revoke_sign_in_token))
}

async fn create_sign_in_token(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<CreateSignInToken>,
) -> ApiResult<Json<SignInToken>> {
    let lifetime = b.expires_in_seconds.unwrap_or(DEFAULT_LIFETIME_SECS);
    if !(1..=DEFAULT_LIFETIME_SECS).contains(&lifetime) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "expires_in_seconds",
            format!("expires_in_seconds must be between 1 and {DEFAULT_LIFETIME_SECS}."),
        ));
    }
    let user = users::load(&state, &b.user_id).await?;
    if user.banned {
        return Err(ApiError::invalid("user_banned", "user_id", "This user is banned and cannot sign in."));
    }
    let now = state.now();
    // Only the hash is stored: a database dump cannot sign anyone in.
    let secret = ids::random_base62(43);
    let record = SignInTokenRecord {
        id: ids::new_id("sit"),
        user_id: user.id,
        token_hash: ids::sha256_hex(secret.as_bytes()),
        status: SignInTokenStatus::Pending,
        expire_at: now + lifetime * 1000,
        created_at: now,
        updated_at: now,
        actor: None,
        session_max_duration: None,
    };
    state.store.create_sign_in_token(&record).await?;
    let url = format!("{}/sign-in?__clerk_ticket={secret}", state.issuer);
    Ok(Json(wire::sign_in_token(&record, Some(secret), Some(url))))
}

async fn revoke_sign_in_token(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<SignInToken>> {
    let record =
        state.store.revoke_sign_in_token(&id, state.now()).await?.ok_or(ApiError::NotFound("sign-in token"))?;
    Ok(Json(wire::sign_in_token(&record, None, None)))
}
