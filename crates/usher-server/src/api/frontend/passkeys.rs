//! `/v1/me/passkeys…`: registering, renaming and deleting the signed-in user's passkeys.

use axum::{
    Router,
    extract::State,
    middleware,
    response::Response,
    routing::{patch, post},
};
use serde::Deserialize;
use serde_json::json;

use super::{respond, view::Known};
use crate::{
    error::{ApiError, ApiResult},
    flows::{Browser, passkeys},
    http::{
        extract::{FormOrJson, Path},
        throttle::{limit_attempt, limit_create},
    },
    state::AppState,
    store::UserRecord,
    wire,
};

pub(super) fn router(state: &AppState) -> Router<AppState> {
    let create = || middleware::from_fn_with_state(state.clone(), limit_create);
    let attempt = || middleware::from_fn_with_state(state.clone(), limit_attempt);
    Router::new()
        .route("/v1/me/passkeys", post(create_passkey).route_layer(create()))
        .route("/v1/me/passkeys/{id}", patch(rename_passkey).delete(delete_passkey))
        // clerk-js posts the credential; the PATCH is the documented form of the same call.
        .route("/v1/me/passkeys/{id}/attempt_verification", post(verify).patch(verify).route_layer(attempt()))
}

async fn reload(state: &AppState, user: &UserRecord) -> ApiResult<UserRecord> {
    state.store.get_user(&user.id).await?.ok_or(ApiError::SignedOut)
}

async fn create_passkey(State(state): State<AppState>, browser: Browser) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let (record, options) = passkeys::create(&state, &user).await?;
    let answer = wire::passkey(&record, Some(&options));
    respond(&state, &browser, answer, Known { user: Some(&user), ..Known::default() }).await
}

#[derive(Debug, Deserialize)]
struct Credential {
    public_key_credential: Option<String>,
}

async fn verify(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    FormOrJson(body): FormOrJson<Credential>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let Some(credential) = body.public_key_credential.filter(|c| !c.trim().is_empty()) else {
        return Err(ApiError::invalid(
            "form_param_missing",
            "public_key_credential",
            "public_key_credential is required.",
        ));
    };
    let record = passkeys::verify(&state, &user, &id, &credential).await?;
    let user = reload(&state, &user).await?;
    respond(&state, &browser, wire::passkey(&record, None), Known { user: Some(&user), ..Known::default() }).await
}

#[derive(Debug, Deserialize)]
struct Rename {
    name: Option<String>,
}

async fn rename_passkey(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    FormOrJson(body): FormOrJson<Rename>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let Some(name) = body.name else {
        return Err(ApiError::invalid("form_param_missing", "name", "name is required."));
    };
    let record = passkeys::rename(&state, &user, &id, &name).await?;
    let user = reload(&state, &user).await?;
    respond(&state, &browser, wire::passkey(&record, None), Known { user: Some(&user), ..Known::default() }).await
}

async fn delete_passkey(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    if !passkeys::delete(&state, &user.id, &id).await? {
        return Err(ApiError::NotFound("passkey"));
    }
    let user = reload(&state, &user).await?;
    let answer = json!({"object": "passkey", "id": id, "deleted": true});
    respond(&state, &browser, answer, Known { user: Some(&user), ..Known::default() }).await
}
