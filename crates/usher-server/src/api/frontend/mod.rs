//! The Frontend API (`/v1/client…`, `/v1/me…`, `/v1/environment`) for browsers: Clerk's FAPI
//! conventions (form bodies, `{response, client}` envelopes), cookies, CORS for allowed origins
//! only, a foreign-`Origin` refusal on state changes, and per-IP limits. See
//! `docs/frontend-api.md`; the flows themselves are in [`crate::flows`], the cookies, origins and
//! limits in [`crate::http`].

mod client;
mod factors;
mod me;
mod oauth_callback;
pub mod organizations;
pub mod view;

use axum::{
    Json, Router,
    extract::State,
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use usher_types::Strategy;

use self::view::Known;
use crate::{
    error::ApiResult,
    flows::Browser,
    http::{cookies::set_cookies, origin},
    state::AppState,
};

/// Every Frontend API route.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/environment", get(environment))
        .merge(client::router(state))
        .merge(me::router(state))
        .merge(factors::router(state))
        .merge(organizations::me_router())
        // (Reached through the rewrite in `http::tunnel`.)
        .nest(crate::http::tunnel::BROWSER_ORGANIZATIONS, organizations::org_router())
        .route_layer(middleware::from_fn_with_state(state.clone(), origin::refuse_foreign))
        // After the origin check: providers post Apple's form from their own origin.
        .merge(oauth_callback::router())
        .layer(origin::cors(state))
}

/// Clerk's envelope, `{response, client}`, with the cookies reflecting the client. `known` is
/// what the handler already holds, so the client is built without reading it again.
pub async fn respond(state: &AppState, browser: &Browser, response: Value, known: Known<'_>) -> ApiResult<Response> {
    let (client, token) = view::client(state, browser, known).await?;
    Ok(envelope(state, browser, response, client, token.as_deref()))
}

/// The envelope whose response is the client itself (built once: it mints a token per session).
pub async fn respond_with_client(state: &AppState, browser: &Browser) -> ApiResult<Response> {
    let (client, token) = view::client(state, browser, Known::default()).await?;
    Ok(envelope(state, browser, client.clone(), client, token.as_deref()))
}

fn envelope(state: &AppState, browser: &Browser, response: Value, client: Value, token: Option<&str>) -> Response {
    let mut res = Json(json!({"response": response, "client": client})).into_response();
    set_cookies(state, browser, token, &mut res);
    res
}

/// `user_settings.social`: one entry per configured provider, keyed by strategy, in Clerk's shape.
fn social(state: &AppState) -> Value {
    let entries = state.config.oauth_providers.iter().map(|p| {
        let entry = json!({
            "enabled": true, "required": false, "authenticatable": true, "block_email_subaddresses": false,
            "strategy": p.strategy, "not_selectable": false, "deprecated": false, "name": p.name, "logo_url": null,
        });
        (p.strategy.clone(), entry)
    });
    Value::Object(entries.collect())
}

/// `GET /v1/environment`: what the instance offers, and where its pages are.
async fn environment(State(state): State<AppState>) -> crate::error::ApiResult<Json<Value>> {
    let base = &state.issuer;
    let org_settings = crate::flows::organizations::settings(&state).await?;
    Ok(Json(json!({
        "object": "environment",
        "auth_config": {"object": "auth_config", "single_session_mode": true, "claimed_at": null},
        "display_config": {
            "object": "display_config",
            "application_name": state.config.application_name,
            "sign_in_url": format!("{base}/sign-in"),
            "sign_up_url": format!("{base}/sign-up"),
            "user_profile_url": format!("{base}/user"),
            "after_sign_in_url": "/",
            "after_sign_up_url": "/",
            "after_sign_out_all_url": "/",
            "after_sign_out_one_url": "/",
            "home_url": "/",
        },
        "user_settings": {
            "attributes": {
                "email_address": {"enabled": true, "required": true, "used_for_first_factor": true,
                    "first_factors": [Strategy::EmailCode], "verifications": [Strategy::EmailCode], "verify_at_sign_up": true},
                "password": {"enabled": true, "required": true},
                "first_name": {"enabled": true, "required": false},
                "last_name": {"enabled": true, "required": false},
                "username": {"enabled": true, "required": false, "used_for_first_factor": true},
            },
            "password_settings": {
                "min_length": state.config.password_min_length,
                "max_length": state.config.password_max_length,
            },
            "sign_in": {"second_factor": {"required": state.config.second_factor_required}},
            "sign_up": {"mode": "public", "progressive": true},
            "social": social(&state),
        },
        "organization_settings": {
            "enabled": org_settings.enabled,
            "max_allowed_memberships": org_settings.max_allowed_memberships,
            "force_organization_selection": false,
            "actions": {"admin_delete": org_settings.admin_delete_enabled},
            "domains": {"enabled": false, "enrollment_modes": [], "default_role": null},
            "slug": {"disabled": org_settings.slug_disabled},
            "organization_creation_defaults": {"enabled": false},
        },
        "maintenance_mode": false,
        "client_debug_mode": false,
    })))
}
