//! Second factors: `/v1/me/totp`, `/v1/me/backup_codes`, and a sign-in's second step.

use axum::{Router, extract::State, middleware, response::Response, routing::post};
use serde::Deserialize;
use serde_json::json;
use usher_types::Strategy;

use super::{
    respond,
    view::{self, Known},
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{Browser, second_factor},
    http::{
        extract::{FormOrJson, Path},
        throttle::{limit_attempt, limit_create},
    },
    state::AppState,
    store::UserRecord,
};

pub(super) fn router(state: &AppState) -> Router<AppState> {
    let create = || middleware::from_fn_with_state(state.clone(), limit_create);
    let attempt = || middleware::from_fn_with_state(state.clone(), limit_attempt);
    Router::new()
        .route("/v1/client/sign_ins/{id}/attempt_second_factor", post(attempt_second_factor).route_layer(attempt()))
        .route("/v1/me/totp", post(create_totp).delete(delete_totp).route_layer(create()))
        .route("/v1/me/totp/attempt_verification", post(verify_totp).route_layer(attempt()))
        .route("/v1/me/backup_codes", post(create_backup_codes).route_layer(create()))
}

#[derive(Debug, Deserialize)]
struct SecondFactor {
    strategy: Option<Strategy>,
    code: Option<String>,
}

async fn attempt_second_factor(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(factor): FormOrJson<SecondFactor>,
) -> ApiResult<Response> {
    let attempt = second_factor::attempt(&state, &mut browser, &id, factor.strategy, factor.code).await?;
    respond(&state, &browser, view::sign_in(&attempt), Known { sign_in: Some(&attempt), ..Known::default() }).await
}

/// The user again after a change of factors, for the client in the answer.
async fn reload(state: &AppState, user: &UserRecord) -> ApiResult<UserRecord> {
    state.store.get_user(&user.id).await?.ok_or(ApiError::SignedOut)
}

async fn create_totp(State(state): State<AppState>, browser: Browser) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let totp = second_factor::create_totp(&state, &user).await?;
    respond(&state, &browser, json!(totp), Known { user: Some(&user), ..Known::default() }).await
}

#[derive(Debug, Deserialize)]
struct Code {
    code: Option<String>,
}

async fn verify_totp(
    State(state): State<AppState>,
    browser: Browser,
    FormOrJson(body): FormOrJson<Code>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let Some(code) = body.code.filter(|c| !c.trim().is_empty() && c.len() <= 64) else {
        return Err(ApiError::invalid("form_param_missing", "code", "Enter the code from your authenticator app."));
    };
    let totp = second_factor::verify_totp_setup(&state, &user, &code).await?;
    let user = reload(&state, &user).await?;
    respond(&state, &browser, json!(totp), Known { user: Some(&user), ..Known::default() }).await
}

async fn delete_totp(State(state): State<AppState>, browser: Browser) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    if !second_factor::disable_totp(&state, &crate::flows::audit::Actor::user(Some(&user.id)), &user.id).await? {
        return Err(ApiError::NotFound("totp"));
    }
    let user = reload(&state, &user).await?;
    let answer = json!({"object": "totp", "id": null, "deleted": true});
    respond(&state, &browser, answer, Known { user: Some(&user), ..Known::default() }).await
}

async fn create_backup_codes(State(state): State<AppState>, browser: Browser) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let codes = second_factor::regenerate_backup_codes(&state, &user).await?;
    let user = reload(&state, &user).await?;
    respond(&state, &browser, json!(codes), Known { user: Some(&user), ..Known::default() }).await
}
