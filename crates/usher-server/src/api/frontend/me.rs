//! `/v1/me…`: the signed-in user managing their own account.

use axum::{
    Json, Router,
    extract::State,
    middleware,
    response::{IntoResponse, Response},
    routing::{delete, get, patch, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use usher_types::VerificationStatus;

use super::{
    respond,
    view::{self, Known},
};
use crate::{
    error::ApiResult,
    flows::{
        Browser, oauth,
        profile::{self, ProfileChanges},
    },
    http::{
        extract::{FormOrJson, Path},
        throttle::{limit_attempt, limit_create},
    },
    state::AppState,
    store::{IdentifierRecord, UserRecord},
    validate::bool_or_text,
};

pub(super) fn router(state: &AppState) -> Router<AppState> {
    let create = || middleware::from_fn_with_state(state.clone(), limit_create);
    let attempt = || middleware::from_fn_with_state(state.clone(), limit_attempt);
    Router::new()
        .route("/v1/me", get(get_me).patch(update_me))
        // Each add answers whether the address is taken: limited like any create, so it is no free oracle.
        .route("/v1/me/email_addresses", post(add_email).route_layer(create()))
        .route("/v1/me/email_addresses/{id}", delete(remove_email))
        .route("/v1/me/email_addresses/{id}/prepare_verification", post(prepare_email).route_layer(create()))
        .route("/v1/me/email_addresses/{id}/attempt_verification", post(verify_email).route_layer(attempt()))
        .route("/v1/me/change_password", post(change_password).route_layer(attempt()))
        .route("/v1/me/sessions/active", get(active_sessions))
        .route("/v1/me/sessions/{id}/revoke", post(revoke_session))
        // Connecting a provider account sends the browser there: limited like any create.
        .route("/v1/me/external_accounts", post(connect_account).route_layer(create()))
        .route("/v1/me/external_accounts/{id}", delete(disconnect_account))
        .route("/v1/me/external_accounts/{id}/reauthorize", patch(reauthorize_account).route_layer(create()))
}

async fn get_me(State(state): State<AppState>, browser: Browser) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    respond_user(&state, &browser, &user).await
}

/// The user as the answer, and in the client.
async fn respond_user(state: &AppState, browser: &Browser, user: &UserRecord) -> ApiResult<Response> {
    let answer = super::organizations::user_with_memberships(state, user).await?;
    respond(state, browser, answer, Known { user: Some(user), ..Known::default() }).await
}

/// `answer` for the signed-in `user`, with the client.
async fn respond_for(state: &AppState, browser: &Browser, user: &UserRecord, answer: Value) -> ApiResult<Response> {
    respond(state, browser, answer, Known { user: Some(user), ..Known::default() }).await
}

async fn update_me(
    State(state): State<AppState>,
    browser: Browser,
    FormOrJson(changes): FormOrJson<ProfileChanges>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let user = profile::update(&state, &user, changes).await?;
    respond_user(&state, &browser, &user).await
}

#[derive(Debug, Deserialize)]
struct PasswordChange {
    current_password: Option<String>,
    new_password: Option<String>,
    #[serde(default, deserialize_with = "bool_or_text")]
    sign_out_of_other_sessions: Option<bool>,
}

async fn change_password(
    State(state): State<AppState>,
    browser: Browser,
    FormOrJson(change): FormOrJson<PasswordChange>,
) -> ApiResult<Response> {
    let (session, user) = browser.signed_in(&state).await?;
    let Some(new) = change.new_password else {
        return Err(crate::error::ApiError::invalid("form_param_missing", "new_password", "Enter a new password."));
    };
    let others = change.sign_out_of_other_sessions.unwrap_or(false);
    let user =
        profile::change_password(&state, &session, &user, change.current_password.as_deref(), &new, others).await?;
    respond_user(&state, &browser, &user).await
}

fn email_json(e: &IdentifierRecord) -> Value {
    json!({
        "object": "email_address",
        "id": e.id,
        "email_address": e.value,
        "verification": {
            "status": if e.verified { VerificationStatus::Verified } else { VerificationStatus::Unverified },
            "strategy": e.strategy,
        },
        "linked_to": [],
        "created_at": e.created_at,
        "updated_at": e.updated_at,
    })
}

#[derive(Debug, Deserialize)]
struct NewEmail {
    email_address: Option<String>,
    code: Option<String>,
}

async fn add_email(
    State(state): State<AppState>,
    browser: Browser,
    FormOrJson(input): FormOrJson<NewEmail>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let email = profile::add_email(&state, &user, input.email_address.as_deref().unwrap_or_default()).await?;
    respond(&state, &browser, email_json(&email), Known::default()).await
}

async fn prepare_email(State(state): State<AppState>, browser: Browser, Path(id): Path<String>) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let email = profile::prepare_email(&state, &user, &id).await?;
    respond_for(&state, &browser, &user, email_json(&email)).await
}

async fn verify_email(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    FormOrJson(input): FormOrJson<NewEmail>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let email = profile::verify_email(&state, &user, &id, input.code.as_deref().unwrap_or_default()).await?;
    respond(&state, &browser, email_json(&email), Known::default()).await
}

async fn remove_email(State(state): State<AppState>, browser: Browser, Path(id): Path<String>) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    profile::remove_email(&state, &user, &id).await?;
    respond(&state, &browser, json!({"object": "email_address", "id": id, "deleted": true}), Known::default()).await
}

async fn active_sessions(State(state): State<AppState>, browser: Browser) -> ApiResult<Response> {
    let (current, user) = browser.signed_in(&state).await?;
    let sessions = profile::active_sessions(&state, &user.id).await?;
    let list: Vec<Value> = sessions.iter().map(|s| view::session_summary(s, s.id == current.id)).collect();
    Ok(Json(list).into_response())
}

async fn revoke_session(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let session = profile::revoke_session(&state, &user, &id).await?;
    respond_for(&state, &browser, &user, view::session_summary(&session, false)).await
}

// ---- provider accounts (`/v1/me/external_accounts`, [`crate::flows::oauth`]) ----

#[derive(Debug, Deserialize)]
struct Connect {
    strategy: Option<String>,
    redirect_url: Option<String>,
}

/// The account as Clerk shows it while at the provider: its verification `unverified`, with
/// the provider's authorize URL.
fn pending_json(pending: &crate::flows::oauth::PendingConnect) -> Value {
    let mut v = crate::wire::external_account(&pending.account);
    if let Some(map) = v.as_object_mut() {
        map.insert("verification".into(), pending.verification.view());
    }
    v
}

async fn connect_account(
    State(state): State<AppState>,
    mut browser: Browser,
    FormOrJson(input): FormOrJson<Connect>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let Some(strategy) = input.strategy.filter(|s| !s.is_empty()) else {
        return Err(crate::error::ApiError::invalid("form_param_missing", "strategy", "Choose a provider."));
    };
    let pending =
        oauth::start_connect(&state, &mut browser, &user, &strategy, input.redirect_url.as_deref(), None).await?;
    respond_for(&state, &browser, &user, pending_json(&pending)).await
}

#[derive(Debug, Deserialize)]
struct Reauthorize {
    redirect_url: Option<String>,
}

async fn reauthorize_account(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(input): FormOrJson<Reauthorize>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let accounts = state.store.external_accounts_of_user(&user.id).await?;
    let account =
        accounts.into_iter().find(|a| a.id == id).ok_or(crate::error::ApiError::NotFound("external account"))?;
    let strategy = account.provider.clone();
    let pending =
        oauth::start_connect(&state, &mut browser, &user, &strategy, input.redirect_url.as_deref(), Some(account))
            .await?;
    respond_for(&state, &browser, &user, pending_json(&pending)).await
}

async fn disconnect_account(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    oauth::disconnect(&state, &user, &id).await?;
    let deleted = json!({"object": "external_account", "id": id, "deleted": true});
    respond_for(&state, &browser, &user, deleted).await
}
