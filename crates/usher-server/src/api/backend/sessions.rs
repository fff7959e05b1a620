//! `/v1/sessions`: create, read, list, revoke, and mint session and template tokens.

use axum::{
    Json, Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use usher_types::{
    Session, SessionStatus, Token,
    requests::{CreateSession, TokenOptions},
};

use super::{list_response, users};
use crate::{
    error::{ApiError, ApiResult},
    http::extract::{JsonBody, Path, Query},
    ids,
    state::AppState,
    store::{SessionFilter, SessionRecord},
    tokens,
    validate::{self, Paging},
    wire,
};

/// Bounds of `expires_in_seconds` (Clerk's template lifetime range).
const TOKEN_LIFETIME: std::ops::RangeInclusive<i64> = 30..=315_360_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/sessions/{id}", get(get_session))
        .route("/sessions/{id}/revoke", post(revoke_session))
        .route("/sessions/{id}/tokens", post(session_token))
        .route("/sessions/{id}/tokens/{template}", post(template_token))
}

#[derive(Debug, Deserialize)]
struct ListSessions {
    user_id: Option<String>,
    client_id: Option<String>,
    status: Option<String>,
    #[serde(default)]
    paginated: bool,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_sessions(State(state): State<AppState>, Query(q): Query<ListSessions>) -> ApiResult<Response> {
    let status = match &q.status {
        Some(text) => Some(SessionStatus::parse(text).ok_or_else(|| {
            ApiError::invalid("form_param_value_invalid", "status", format!("{text} is not a session status."))
        })?),
        None => None,
    };
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    let filter = SessionFilter { user_id: q.user_id, client_id: q.client_id, status };
    let (sessions, total) = state.store.list_sessions(&filter, page).await?;
    Ok(list_response(sessions.iter().map(wire::session).collect(), total, q.paginated))
}

async fn create_session(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<CreateSession>,
) -> ApiResult<Json<Session>> {
    let user = users::load(&state, &b.user_id).await?;
    let now = state.now();
    if user.banned {
        return Err(ApiError::invalid("user_banned", "user_id", "This user is banned and cannot have sessions."));
    }
    if user.is_locked(now) {
        return Err(ApiError::invalid("user_locked", "user_id", "This user is locked and cannot have sessions."));
    }
    let active_organization_id = validate::opt_text("active_organization_id", b.active_organization_id)?;
    // The organization is only active for a member of it.
    if let Some(org_id) = active_organization_id.as_deref()
        && state.store.get_membership(org_id, &user.id).await?.is_none()
    {
        return Err(ApiError::invalid(
            "not_a_member_in_organization",
            "active_organization_id",
            "The user is not a member of that organization.",
        ));
    }
    let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let session = SessionRecord {
        id: ids::new_id("sess"),
        user_id: user.id,
        client_id: ids::new_id("client"),
        status: SessionStatus::Active,
        actor: None,
        last_active_organization_id: active_organization_id,
        last_active_at: now,
        expire_at: now.saturating_add(ms(state.config.session_max_lifetime)),
        abandon_at: now.saturating_add(ms(state.config.session_inactivity_timeout)),
        created_at: now,
        updated_at: now,
        first_factor_at: None,
        second_factor_at: None,
    };
    state.store.create_session(&session).await?;
    Ok(Json(wire::session(&session)))
}

async fn load(state: &AppState, id: &str) -> ApiResult<SessionRecord> {
    state.store.get_session(id).await?.ok_or(ApiError::NotFound("session"))
}

async fn get_session(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Session>> {
    Ok(Json(wire::session(&load(&state, &id).await?)))
}

async fn revoke_session(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Session>> {
    let session = crate::flows::admin::revoke_session(&state, &crate::flows::audit::Actor::secret_key(), &id).await?;
    Ok(Json(wire::session(&session)))
}

/// The requested lifetime, checked against Clerk's bounds.
fn lifetime(options: &TokenOptions) -> ApiResult<Option<i64>> {
    match options.expires_in_seconds {
        Some(s) if !TOKEN_LIFETIME.contains(&s) => Err(ApiError::invalid(
            "form_param_value_invalid",
            "expires_in_seconds",
            format!("expires_in_seconds must be between {} and {}.", TOKEN_LIFETIME.start(), TOKEN_LIFETIME.end()),
        )),
        other => Ok(other),
    }
}

/// A session that can mint tokens now, or a refusal.
async fn live_session(state: &AppState, id: &str) -> ApiResult<SessionRecord> {
    let session = load(state, id).await?;
    tokens::ensure_live(&session, state.now())?;
    Ok(session)
}

async fn session_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TokenOptions>,
) -> ApiResult<Json<Token>> {
    let lifetime = lifetime(&b)?;
    let session = live_session(&state, &id).await?;
    let default = i64::try_from(state.config.session_token_lifetime.as_secs()).unwrap_or(60);
    let jwt = tokens::mint_session_token(state.minter(), &session, lifetime.unwrap_or(default), None).await?;
    Ok(Json(Token::new(jwt)))
}

async fn template_token(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    JsonBody(b): JsonBody<TokenOptions>,
) -> ApiResult<Json<Token>> {
    let lifetime = lifetime(&b)?;
    let session = live_session(&state, &id).await?;
    let template = state.store.get_template_by_name(&name).await?.ok_or(ApiError::NotFound("JWT template"))?;
    let user = users::load(&state, &session.user_id).await?;
    let jwt = tokens::mint_template_token(state.minter(), &template, &session, &user, lifetime, None).await?;
    Ok(Json(Token::new(jwt)))
}
