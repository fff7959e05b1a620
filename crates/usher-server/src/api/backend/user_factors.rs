//! `/v1/users/{id}/…` second factors: verify a TOTP or backup code, remove them.

use axum::{
    Json, Router,
    extract::State,
    routing::{delete, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use usher_types::Strategy;

use crate::{
    error::{ApiError, ApiResult},
    flows::second_factor,
    http::extract::{JsonBody, Path},
    state::AppState,
    store::UserRecord,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/verify_totp", post(verify_totp))
        .route("/users/{id}/mfa", delete(disable_mfa))
        .route("/users/{id}/totp", delete(delete_totp))
        .route("/users/{id}/backup_code", delete(delete_backup_codes))
        .route("/users/{id}/passkeys/{passkey_id}", delete(delete_passkey))
}

async fn load(state: &AppState, id: &str) -> ApiResult<UserRecord> {
    state.store.get_user(id).await?.ok_or(ApiError::NotFound("user"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyTotp {
    code: String,
}

/// A TOTP code, or else a backup code (which it uses up). Not counted toward the lockout: the
/// caller holds the secret key and may be checking for its own reasons.
async fn verify_totp(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<VerifyTotp>,
) -> ApiResult<Json<Value>> {
    let user = load(&state, &id).await?;
    if !user.two_factor_enabled() {
        return Err(ApiError::BadRequest(usher_types::ClerkError::new(
            "totp_not_enabled",
            "TOTP is not enabled",
            "The user does not have TOTP configured for their account.",
        )));
    }
    let code = body.code.trim();
    if !code.is_empty() && code.len() <= 64 {
        for strategy in [Strategy::Totp, Strategy::BackupCode] {
            if second_factor::check_code(&state, &user.id, strategy, code).await? {
                return Ok(Json(json!({"verified": true, "code_type": strategy})));
            }
        }
    }
    Err(ApiError::invalid("form_code_incorrect", "code", "The TOTP or backup code is incorrect."))
}

async fn disable_mfa(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let user = load(&state, &id).await?;
    second_factor::disable_totp(&state, &crate::flows::audit::Actor::secret_key(), &user.id).await?;
    Ok(Json(json!({"user_id": user.id})))
}

async fn delete_totp(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let user = load(&state, &id).await?;
    state.store.delete_totp(&user.id).await?;
    Ok(Json(json!({"user_id": user.id})))
}

async fn delete_backup_codes(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let user = load(&state, &id).await?;
    state.store.delete_backup_codes(&user.id).await?;
    Ok(Json(json!({"user_id": user.id})))
}

async fn delete_passkey(
    State(state): State<AppState>,
    Path((id, passkey_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let user = load(&state, &id).await?;
    if !crate::flows::passkeys::delete(&state, &user.id, &passkey_id).await? {
        return Err(ApiError::NotFound("passkey"));
    }
    Ok(Json(json!({"object": "passkey", "id": passkey_id, "deleted": true})))
}
