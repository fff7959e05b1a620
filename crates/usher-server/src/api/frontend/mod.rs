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
// Passkeys (WebAuthn).
mod passkeys;

mod handshake;
pub use handshake::handshake_sealer;

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
        // clerk-js "touches" the environment with PATCH on every load of a development instance.
        .route("/v1/environment", get(environment).patch(environment))
        .merge(client::router(state))
        .merge(me::router(state))
        .merge(factors::router(state))
        .merge(organizations::me_router())
        .merge(passkeys::router(state))
        // (Reached through the rewrite in `http::tunnel`.)
        .nest(crate::http::tunnel::BROWSER_ORGANIZATIONS, organizations::org_router())
        .route_layer(middleware::from_fn_with_state(state.clone(), origin::refuse_foreign))
        // After the origin check: providers post Apple's form from their own origin.
        .merge(oauth_callback::router())
        // Navigations, not fetches: no Origin to check.
        .merge(handshake::router())
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

/// One `user_settings.attributes` entry with every flag clerk-js and `@clerk/ui` read.
fn attribute(
    enabled: bool,
    required: bool,
    first: &[Strategy],
    second: &[Strategy],
    verifications: &[Strategy],
) -> Value {
    json!({
        "enabled": enabled,
        "required": required,
        "used_for_first_factor": !first.is_empty(),
        "first_factors": first,
        "used_for_second_factor": !second.is_empty(),
        "second_factors": second,
        "verifications": verifications,
        "verify_at_sign_up": !verifications.is_empty(),
    })
}

/// `GET /v1/environment` (and clerk-js's `PATCH`): what the instance offers, and where its pages
/// are. Everything usher does not support is present and disabled, so Clerk's components hide it
/// instead of guessing from defaults.
async fn environment(State(state): State<AppState>) -> crate::error::ApiResult<Json<Value>> {
    let base = &state.issuer;
    let org_settings = crate::flows::organizations::settings(&state).await?;
    let second_factors = [Strategy::Totp, Strategy::BackupCode];
    let off = || attribute(false, false, &[], &[], &[]);
    let display_config = json!({
        "object": "display_config",
        "id": "display_config_usher",
        "instance_environment_type": if state.config.production { "production" } else { "development" },
        "application_name": state.config.application_name,
        "theme": {"general": {"color": "#6c47ff", "background_color": "#ffffff", "font_family": "", "font_color": "#151515", "label_font_weight": "600", "padding": "1em", "border_radius": "0.5em", "box_shadow": "0 2px 8px rgba(0, 0, 0, 0.2)"}, "buttons": {"font_color": "#ffffff", "font_family": "", "font_weight": "600"}, "accounts": {"background_color": "#f2f2f2"}},
        "preferred_sign_in_strategy": "password",
        "logo_image_url": "",
        "favicon_image_url": "",
        "home_url": "/",
        "sign_in_url": format!("{base}/sign-in"),
        "sign_up_url": format!("{base}/sign-up"),
        "user_profile_url": format!("{base}/user"),
        "waitlist_url": "",
        "after_sign_in_url": "/",
        "after_sign_up_url": "/",
        "after_sign_out_one_url": "/",
        "after_sign_out_all_url": "/",
        "after_switch_session_url": "/",
        "after_join_waitlist_url": "",
        "organization_profile_url": "",
        "create_organization_url": "",
        "after_leave_organization_url": "/",
        "after_create_organization_url": "/",
        "support_email": null,
        "branded": false,
        "experimental_force_oauth_first": false,
        "clerk_js_version": null,
        "show_devmode_warning": false,
        "google_one_tap_client_id": null,
        "help_url": null,
        "privacy_policy_url": null,
        "terms_url": null,
        "logo_link_url": "/",
        "captcha_public_key": null,
        "captcha_widget_type": null,
        "captcha_public_key_invisible": null,
        "captcha_provider": null,
        "captcha_oauth_bypass": [],
        "captcha_heartbeat": false,
        "captcha_heartbeat_interval_ms": null,
    });
    let user_settings = json!({
        "attributes": {
            "email_address": attribute(true, true, &[Strategy::EmailCode], &[], &[Strategy::EmailCode]),
            "password": attribute(true, true, &[], &[], &[]),
            "first_name": attribute(true, false, &[], &[], &[]),
            "last_name": attribute(true, false, &[], &[], &[]),
            "username": {
                "enabled": true, "required": false, "used_for_first_factor": true, "first_factors": [],
                "used_for_second_factor": false, "second_factors": [], "verifications": [], "verify_at_sign_up": false,
            },
            "authenticator_app": attribute(true, false, &[], &second_factors[..1], &[]),
            "backup_code": attribute(true, false, &[], &second_factors[1..], &[]),
            "phone_number": off(),
            "web3_wallet": off(),
            "passkey": attribute(true, false, &[Strategy::Passkey], &[], &[Strategy::Passkey]),
        },
        "password_settings": {
            "min_length": state.config.password_min_length,
            "max_length": state.config.password_max_length,
            "disable_hibp": true,
            "show_zxcvbn": false,
            "min_zxcvbn_strength": 0,
            "require_special_char": false,
            "require_numbers": false,
            "require_uppercase": false,
            "require_lowercase": false,
            "allowed_special_characters": "",
            "enforce_hibp_on_sign_in": false,
        },
        "username_settings": {"min_length": 4, "max_length": 64},
        "passkey_settings": {"allow_autofill": true, "show_sign_in_button": true},
        // Authenticator apps and backup codes are always offered as second factors.
        "sign_in": {"second_factor": {"required": state.config.second_factor_required, "enabled": true}},
        "sign_up": {
            "mode": "public",
            "progressive": true,
            "captcha_enabled": false,
            "captcha_widget_type": "smart",
            "custom_action_required": false,
            "allowlist_only": false,
            "legal_consent_enabled": false,
            "mfa": {"required": state.config.second_factor_required},
        },
        "restrictions": {
            "allowlist": {"enabled": false},
            "blocklist": {"enabled": false},
            "block_email_subaddresses": {"enabled": false},
            "block_disposable_email_domains": {"enabled": false},
            "ignore_dots_for_gmail_addresses": {"enabled": false},
        },
        "actions": {"delete_self": false, "create_organization": true, "create_organizations_limit": null},
        "attack_protection": {
            "user_lockout": {"enabled": true, "max_attempts": state.config.lockout_attempts, "duration_in_minutes": state.config.lockout_duration.map(|d| d.as_secs() / 60)},
            "pii": {"enabled": false},
            "email_link": {"require_same_client": true},
            "enumeration_protection": {"enabled": state.config.enumeration_protection},
        },
        "enterprise_sso": {"enabled": false, "self_serve_sso": false},
        "social": social(&state),
        "saml": {"enabled": false},
    });
    let commerce_settings = json!({
        "billing": {"enabled": false, "has_paid_plans": false, "stripe_publishable_key": null, "user": {"enabled": false, "has_paid_plans": false}, "organization": {"enabled": false, "has_paid_plans": false}},
    });
    Ok(Json(json!({
        "object": "environment",
        "id": "env_usher",
        "auth_config": {
            "object": "auth_config",
            "id": "aac_usher",
            "single_session_mode": true,
            "claimed_at": null,
            "reverification": false,
            "preferred_channels": {},
            // Tokens come from `/v1/client/sessions/{id}/tokens`, never a separate minter.
            "session_minter": false,
        },
        "display_config": display_config,
        "user_settings": user_settings,
        "organization_settings": {
            "enabled": org_settings.enabled,
            "max_allowed_memberships": org_settings.max_allowed_memberships,
            "force_organization_selection": false,
            "actions": {"admin_delete": org_settings.admin_delete_enabled},
            "domains": {"enabled": false, "enrollment_modes": [], "default_role": null},
            "slug": {"disabled": org_settings.slug_disabled},
            "organization_creation_defaults": {"enabled": false},
        },
        "commerce_settings": commerce_settings,
        "api_keys_settings": {"enabled": false, "user_api_keys_enabled": false, "orgs_api_keys_enabled": false},
        "protect_config": {"object": "protect_config", "id": "protect_config_usher", "loaders": [], "tokens_invalid_before": null},
        "maintenance_mode": false,
        "client_debug_mode": false,
        // usher's cookies carry no `Partitioned` attribute (first-party through the proxy).
        "partitioned_cookies": false,
    })))
}
