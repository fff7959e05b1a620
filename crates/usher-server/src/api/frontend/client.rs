//! `/v1/client…`: the browser's client, its sign-in and sign-up attempts, sessions and tokens.

use axum::{
    Json, Router,
    extract::State,
    handler::Handler as _,
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use usher_types::{SessionStatus, Strategy};

use super::{
    respond, respond_with_client,
    view::{self, Known},
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser, account, email_link, oauth, reset,
        sign_in::{self, CreateSignIn},
        sign_up::{self, SignUpInput},
    },
    http::{
        cookies::set_cookies,
        extract::{FormOrJson, Path},
        throttle::{self, ClientIp, Limit, limit_attempt, limit_create},
    },
    state::AppState,
    store::SessionRecord,
    tokens::{ensure_live, mint_session_token, mint_template_token},
};

pub(super) fn router(state: &AppState) -> Router<AppState> {
    let create = || middleware::from_fn_with_state(state.clone(), limit_create);
    let attempt = || middleware::from_fn_with_state(state.clone(), limit_attempt);
    Router::new()
        .route("/v1/client", get(get_client).post(create_client).put(create_client).delete(delete_client))
        .route("/v1/client/sign_ins", post(create_sign_in).route_layer(create()))
        .route("/v1/client/sign_ins/{id}", get(get_sign_in))
        // Preparing sends mail: limited like creation, so nobody floods an inbox.
        .route("/v1/client/sign_ins/{id}/prepare_first_factor", post(prepare_first_factor).route_layer(create()))
        .route("/v1/client/sign_ins/{id}/attempt_first_factor", post(attempt_first_factor).route_layer(attempt()))
        // Hashes the new password: limited like a guess.
        .route("/v1/client/sign_ins/{id}/reset_password", post(reset_password).route_layer(attempt()))
        .route("/v1/client/sign_ups", post(create_sign_up).route_layer(create()))
        // Setting a password hashes it: limited like a guess, so nobody keeps Argon2 busy.
        .route("/v1/client/sign_ups/{id}", get(get_sign_up).patch(update_sign_up.layer(attempt())))
        .route("/v1/client/sign_ups/{id}/prepare_verification", post(prepare_verification).route_layer(create()))
        .route("/v1/client/sign_ups/{id}/attempt_verification", post(attempt_verification).route_layer(attempt()))
        .route("/v1/client/sessions", axum::routing::delete(sign_out_all))
        .route("/v1/client/sessions/{id}/touch", post(touch_session))
        .route("/v1/client/sessions/{id}/end", post(end_session))
        .route("/v1/client/sessions/{id}/remove", post(remove_session))
        .route("/v1/client/sessions/{id}/tokens", post(session_token))
        .route("/v1/client/sessions/{id}/tokens/{template}", post(template_token))
}

async fn get_client(State(state): State<AppState>, browser: Browser) -> ApiResult<Response> {
    respond_with_client(&state, &browser).await
}

async fn create_client(State(state): State<AppState>, mut browser: Browser) -> ApiResult<Response> {
    browser.client_mut(&state).await?;
    respond_with_client(&state, &browser).await
}

async fn delete_client(State(state): State<AppState>, mut browser: Browser) -> ApiResult<Response> {
    account::sign_out(&state, &mut browser, None).await?;
    let mut res = Json(json!({"response": null, "client": null})).into_response();
    set_cookies(&state, &browser, None, &mut res);
    Ok(res)
}

async fn create_sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut browser: Browser,
    FormOrJson(input): FormOrJson<CreateSignIn>,
) -> ApiResult<Response> {
    // A password given at creation is a guess: it spends the attempt bucket too.
    if input.password.is_some() {
        throttle::take(&state, Limit::Attempt, ip).await?;
    }
    let reset = input.strategy.as_deref() == Some(Strategy::ResetPasswordEmailCode.as_str());
    let passkey = input.strategy.as_deref() == Some(Strategy::Passkey.as_str());
    let mut attempt = match input.strategy.as_deref() {
        Some(strategy) if strategy.starts_with("oauth_") => {
            let (redirect, complete) = (input.redirect_url.as_deref(), input.action_complete_redirect_url.as_deref());
            oauth::start_sign_in(&state, &mut browser, strategy, redirect, complete).await?
        }
        _ => sign_in::create(&state, &mut browser, input).await?,
    };
    // As Clerk does: creating a reset sign-in with an identifier mails the code at once
    // (clerk-js's forgot-password flow goes straight from `create` to `attempt_first_factor`).
    if reset && attempt.status == sign_in::SignInStatus::NeedsFirstFactor {
        attempt = reset::prepare(&state, &mut browser, &attempt.id).await?;
    }
    // A passkey sign-in (clerk-js's discoverable and autofill flows create it with no
    // identifier) carries its challenge at once.
    if passkey && attempt.status != sign_in::SignInStatus::Complete {
        attempt = sign_in::prepare_passkey(&state, &mut browser, &attempt.id).await?;
    }
    respond(&state, &browser, view::sign_in(&attempt), Known { sign_in: Some(&attempt), ..Known::default() }).await
}

async fn get_sign_in(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let attempt = sign_in::load(&state, &browser, &id).await?;
    // The tab that asked for an email link polls here; once the link was confirmed on another
    // device, this read finishes the sign-in in this browser.
    let attempt = email_link::finish_sign_in(&state, &mut browser, attempt).await?;
    respond(&state, &browser, view::sign_in(&attempt), Known { sign_in: Some(&attempt), ..Known::default() }).await
}

#[derive(Debug, Deserialize)]
struct Factor {
    strategy: Option<Strategy>,
    password: Option<String>,
    code: Option<String>,
    redirect_url: Option<String>,
    /// `strategy=passkey`: the browser's assertion, as JSON text (clerk-js's shape).
    public_key_credential: Option<String>,
}

async fn prepare_first_factor(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(factor): FormOrJson<Factor>,
) -> ApiResult<Response> {
    let attempt = match factor.strategy {
        Some(Strategy::EmailCode) => sign_in::prepare_email_code(&state, &mut browser, &id).await?,
        Some(Strategy::ResetPasswordEmailCode) => reset::prepare(&state, &mut browser, &id).await?,
        Some(Strategy::EmailLink) => {
            email_link::prepare_sign_in(&state, &mut browser, &id, factor.redirect_url.as_deref()).await?
        }
        // A password needs no preparation.
        Some(Strategy::Password) => sign_in::load(&state, &browser, &id).await?,
        Some(Strategy::Passkey) => sign_in::prepare_passkey(&state, &mut browser, &id).await?,
        _ => {
            return Err(ApiError::format(
                "strategy",
                "strategy must be email_code, email_link, reset_password_email_code, passkey or password.",
            ));
        }
    };
    respond(&state, &browser, view::sign_in(&attempt), Known { sign_in: Some(&attempt), ..Known::default() }).await
}

async fn attempt_first_factor(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(factor): FormOrJson<Factor>,
) -> ApiResult<Response> {
    let secret = match factor.strategy {
        Some(Strategy::Password) => factor.password,
        Some(Strategy::Passkey) => factor.public_key_credential,
        _ => factor.code,
    };
    let attempt = sign_in::attempt(&state, &mut browser, &id, factor.strategy, secret).await?;
    respond(&state, &browser, view::sign_in(&attempt), Known { sign_in: Some(&attempt), ..Known::default() }).await
}

#[derive(Debug, Deserialize)]
struct NewPassword {
    password: Option<String>,
    #[serde(default, deserialize_with = "crate::validate::bool_or_text")]
    sign_out_of_other_sessions: Option<bool>,
}

async fn reset_password(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(body): FormOrJson<NewPassword>,
) -> ApiResult<Response> {
    let Some(password) = body.password.filter(|p| !p.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "password", "Enter a new password."));
    };
    let others = body.sign_out_of_other_sessions.unwrap_or(false);
    let attempt = reset::reset_password(&state, &mut browser, &id, &password, others).await?;
    respond(&state, &browser, view::sign_in(&attempt), Known { sign_in: Some(&attempt), ..Known::default() }).await
}

async fn create_sign_up(
    State(state): State<AppState>,
    mut browser: Browser,
    FormOrJson(input): FormOrJson<SignUpInput>,
) -> ApiResult<Response> {
    let attempt = sign_up::create(&state, &mut browser, input).await?;
    respond(&state, &browser, view::sign_up(&attempt), Known { sign_up: Some(&attempt), ..Known::default() }).await
}

async fn get_sign_up(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let attempt = sign_up::load(&state, &browser, &id).await?;
    let attempt = email_link::finish_sign_up(&state, &mut browser, attempt).await?;
    respond(&state, &browser, view::sign_up(&attempt), Known { sign_up: Some(&attempt), ..Known::default() }).await
}

async fn update_sign_up(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(input): FormOrJson<SignUpInput>,
) -> ApiResult<Response> {
    let attempt = sign_up::update(&state, &mut browser, &id, input).await?;
    respond(&state, &browser, view::sign_up(&attempt), Known { sign_up: Some(&attempt), ..Known::default() }).await
}

async fn prepare_verification(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(factor): FormOrJson<Factor>,
) -> ApiResult<Response> {
    let attempt = match factor.strategy {
        None | Some(Strategy::EmailCode) => sign_up::prepare_verification(&state, &mut browser, &id).await?,
        Some(Strategy::EmailLink) => {
            email_link::prepare_sign_up(&state, &mut browser, &id, factor.redirect_url.as_deref()).await?
        }
        _ => return Err(ApiError::format("strategy", "strategy must be email_code or email_link.")),
    };
    respond(&state, &browser, view::sign_up(&attempt), Known { sign_up: Some(&attempt), ..Known::default() }).await
}

async fn attempt_verification(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(factor): FormOrJson<Factor>,
) -> ApiResult<Response> {
    let Some(code) = factor.code else {
        return Err(ApiError::invalid("form_param_missing", "code", "Enter the code."));
    };
    let attempt = sign_up::attempt_verification(&state, &mut browser, &id, &code).await?;
    respond(&state, &browser, view::sign_up(&attempt), Known { sign_up: Some(&attempt), ..Known::default() }).await
}

async fn sign_out_all(State(state): State<AppState>, mut browser: Browser) -> ApiResult<Response> {
    account::sign_out(&state, &mut browser, None).await?;
    respond_with_client(&state, &browser).await
}

/// The session `id` of this browser, live.
async fn live_session(state: &AppState, browser: &Browser, id: &str) -> ApiResult<SessionRecord> {
    let session = browser.own_session(state, id).await?;
    if !session.is_live(state.now()) {
        return Err(ApiError::SignedOut);
    }
    Ok(session)
}

#[derive(Debug, Default, Deserialize)]
struct TouchRequest {
    /// The organization to make active; empty for the personal account; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    active_organization_id: Option<String>,
}

/// `Some` whenever the field is there, even empty (form decoding would make an empty value `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d).map(|v| Some(v.unwrap_or_default()))
}

/// The organization `org_id` (id or slug) if the session's user is a member, for a token or
/// to make it active; `None` for empty (the personal account).
async fn member_organization(state: &AppState, session: &SessionRecord, org_id: &str) -> ApiResult<Option<String>> {
    if org_id.trim().is_empty() {
        return Ok(None);
    }
    let standing = crate::flows::organizations::standing(state, org_id.trim(), &session.user_id).await?;
    Ok(Some(standing.organization.id))
}

async fn touch_session(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    FormOrJson(body): FormOrJson<TouchRequest>,
) -> ApiResult<Response> {
    let mut session = live_session(&state, &browser, &id).await?;
    if let Some(org_id) = body.active_organization_id.as_deref() {
        let active = member_organization(&state, &session, org_id).await?;
        session = state
            .store
            .set_session_organization(&session.id, active.as_deref(), state.now())
            .await?
            .ok_or(ApiError::SignedOut)?;
    }
    let session = account::touch(&state, &session).await?;
    if let Some(client) = browser.client.as_mut() {
        client.last_active_session_id = Some(session.id.clone());
    }
    browser.save(&state).await?;
    let user = state.store.get_user(&session.user_id).await?.ok_or(ApiError::SignedOut)?;
    let lifetime = state.config.session_token_lifetime.as_secs() as i64;
    let jwt = mint_session_token(state.minter(), &session, lifetime, browser.origin.as_deref()).await?;
    let known = Known { user: Some(&user), ..Known::default() };
    respond(&state, &browser, view::session(&state, &session, &user, &jwt), known).await
}

async fn end_session(state: State<AppState>, browser: Browser, id: Path<String>) -> ApiResult<Response> {
    finish_session(state, browser, id, SessionStatus::Ended).await
}

async fn remove_session(state: State<AppState>, browser: Browser, id: Path<String>) -> ApiResult<Response> {
    finish_session(state, browser, id, SessionStatus::Removed).await
}

async fn finish_session(
    State(state): State<AppState>,
    mut browser: Browser,
    Path(id): Path<String>,
    status: SessionStatus,
) -> ApiResult<Response> {
    let session = browser.own_session(&state, &id).await?;
    account::end_sessions(&state, &mut browser, Some(&session.id), status).await?;
    let ended = state.store.get_session(&id).await?.unwrap_or(session);
    let response = serde_json::to_value(crate::wire::session(&ended)).unwrap_or(Value::Null);
    respond(&state, &browser, response, Known::default()).await
}

#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    organization_id: Option<String>,
}

/// A fresh session token (what clerk-js calls every ~50 s). Counts as activity.
async fn session_token(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    FormOrJson(body): FormOrJson<TokenRequest>,
) -> ApiResult<Response> {
    let session = live_session(&state, &browser, &id).await?;
    let mut session = account::touch(&state, &session).await?;
    ensure_live(&session, state.now())?;
    // A token for the organization asked for (a member's only), without changing which one is
    // active: that is the touch's job.
    if let Some(org_id) = body.organization_id.as_deref() {
        session.last_active_organization_id = member_organization(&state, &session, org_id).await?;
    }
    let lifetime = state.config.session_token_lifetime.as_secs() as i64;
    let jwt = mint_session_token(state.minter(), &session, lifetime, browser.origin.as_deref()).await?;
    let mut res = Json(json!({"object": "token", "jwt": jwt})).into_response();
    // Only the browser's current session decides its `__session` cookie.
    let current = browser.current_session_id() == Some(id.as_str());
    if current {
        set_cookies(&state, &browser, Some(&jwt), &mut res);
    }
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn template_token(
    State(state): State<AppState>,
    browser: Browser,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let session = live_session(&state, &browser, &id).await?;
    let template = state.store.get_template_by_name(&name).await?.ok_or(ApiError::NotFound("JWT template"))?;
    let user = state.store.get_user(&session.user_id).await?.ok_or(ApiError::SignedOut)?;
    let jwt = mint_template_token(state.minter(), &template, &session, &user, None, browser.origin.as_deref()).await?;
    let mut res = Json(json!({"object": "token", "jwt": jwt})).into_response();
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(res)
}
