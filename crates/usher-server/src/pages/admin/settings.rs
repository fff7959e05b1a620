//! `/admin/settings`: the instance settings that change at runtime (the organization settings,
//! through [`crate::flows::settings`], the Backend API's own code path), and, read-only and
//! marked so, what the configuration set at start.

use std::fmt::Write as _;

use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};
use usher_types::requests::OrganizationSettingsParams;

use super::{AdminPost, Fields, csrf_field, enter, frame, given, problem_page};
use crate::{
    error::{ApiError, ApiResult},
    flows::{Browser, audit::Actor, organizations, settings},
    http::extract::Query,
    pages::layout::{self, Problem, escape},
    state::AppState,
    store::Page,
};

/// The settings routes.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/admin/settings", get(show).post(save))
}

/// Roles offered as the creator's role.
const ROLES_SHOWN: i64 = 500;

/// `GET /admin/settings`.
async fn show(State(state): State<AppState>, browser: Browser, Query(f): Query<Fields>) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match body(&state, &f, &csrf_field(&admin)).await {
        Ok(body) => frame(&state, Some(&admin), StatusCode::OK, "Instance settings", &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin")),
    }
}

async fn body(state: &AppState, f: &Fields, csrf: &str) -> ApiResult<String> {
    let s = organizations::settings(state).await?;
    let (roles, _) = state.store.list_roles(Page { limit: ROLES_SHOWN, offset: 0 }).await?;
    let mut body = String::new();
    if given(&f.done) == Some("saved") {
        body.push_str(&layout::status(Some("Settings saved; they apply at once on every node")));
    }
    let mut options = String::new();
    for role in &roles {
        let selected = if role.key == s.creator_role { " selected" } else { "" };
        let _ = write!(
            options,
            "<option value=\"{}\"{selected}>{} ({})</option>",
            escape(&role.id),
            escape(&role.name),
            escape(&role.key)
        );
    }
    let checked = |on: bool| if on { " checked" } else { "" };
    let _ = write!(
        body,
        "<h2>Organizations</h2><p class=\"muted\">Changeable at runtime; the same settings as \
         <code>PATCH /v1/instance/organization_settings</code>.</p>\
         <form method=\"post\" action=\"/admin/settings\">{csrf}\
         <div class=\"field\"><label><input type=\"checkbox\" name=\"enabled\" value=\"on\"{enabled}> Organizations enabled</label>\
         <p class=\"hint\">Off: users cannot create organizations, and clerk-js hides them.</p></div>\
         <div class=\"field\"><label for=\"max_allowed_memberships\">Membership limit of new organizations</label>\
         <p class=\"hint\" id=\"max_allowed_memberships-hint\">0 is no limit.</p>\
         <input type=\"number\" id=\"max_allowed_memberships\" name=\"max_allowed_memberships\" min=\"0\" value=\"{max}\" aria-describedby=\"max_allowed_memberships-hint\"></div>\
         <div class=\"field\"><label><input type=\"checkbox\" name=\"admin_delete_enabled\" value=\"on\"{delete}> Admins of new organizations may delete them</label></div>\
         <div class=\"field\"><label><input type=\"checkbox\" name=\"slug_disabled\" value=\"on\"{slug}> Organizations without slugs</label></div>\
         <div class=\"field\"><label for=\"creator_role_id\">Role of an organization's creator</label>\
         <p class=\"hint\" id=\"creator_role_id-hint\">It must hold the permission to manage members.</p>\
         <select id=\"creator_role_id\" name=\"creator_role_id\" aria-describedby=\"creator_role_id-hint\">{options}</select></div>\
         <button type=\"submit\">Save organization settings</button></form>",
        enabled = checked(s.enabled),
        max = s.max_allowed_memberships,
        delete = checked(s.admin_delete_enabled),
        slug = checked(s.slug_disabled),
    );

    // What the configuration set: shown so an operator sees it in one place, changed only by
    // editing the configuration and restarting.
    let c = &state.config;
    let secs = |d: std::time::Duration| format!("{} s", d.as_secs());
    let on = |b: bool| if b { "on" } else { "off" }.to_owned();
    let rows: Vec<(&str, String)> = vec![
        ("Application name", c.application_name.clone()),
        ("Public URL", c.public_url.clone().unwrap_or_else(|| "(from each request)".into())),
        ("Production", on(c.production)),
        ("Session token lifetime", secs(c.session_token_lifetime)),
        ("Session maximum lifetime", secs(c.session_max_lifetime)),
        ("Session inactivity timeout", secs(c.session_inactivity_timeout)),
        ("Password length", format!("{} to {} characters", c.password_min_length, c.password_max_length)),
        (
            "Lockout",
            match c.lockout_duration {
                Some(d) => format!("after {} failures, for {}", c.lockout_attempts, secs(d)),
                None => format!("after {} failures, until unlocked", c.lockout_attempts),
            },
        ),
        ("Enumeration protection", on(c.enumeration_protection)),
        ("Second factor required", on(c.second_factor_required)),
        ("Email delivery", if c.smtp.is_some() { "SMTP".into() } else { "not configured".into() }),
        ("Allowed origins", if c.allowed_origins.is_empty() { "(none)".into() } else { c.allowed_origins.join(", ") }),
        ("OAuth providers", c.oauth_providers.len().to_string()),
        ("Backend API rate limit", format!("{} requests per 10 s", c.backend_requests_per_10s)),
        (
            "Audit log retention",
            c.audit_retention.map_or_else(|| "kept forever".into(), |d| format!("{} days", d.as_secs() / 86_400)),
        ),
    ];
    body.push_str(
        "<h2 id=\"startup-heading\">Set at start</h2><p class=\"muted\"><span class=\"tag\">read-only</span> \
         From the configuration file and environment; change them there and restart.</p>\
         <dl class=\"facts\" aria-labelledby=\"startup-heading\">",
    );
    for (label, value) in rows {
        let _ = write!(body, "<dt>{label}</dt><dd>{}</dd>", escape(&value));
    }
    body.push_str("</dl>");
    Ok(body)
}

/// The form as Backend API parameters: every field is sent, so unchecked boxes are `false`.
fn params(f: &Fields) -> ApiResult<OrganizationSettingsParams> {
    let max = match given(&f.max_allowed_memberships) {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            ApiError::format("max_allowed_memberships", "max_allowed_memberships must be a whole number.")
        })?),
    };
    Ok(OrganizationSettingsParams {
        enabled: Some(given(&f.enabled).is_some()),
        max_allowed_memberships: max,
        admin_delete_enabled: Some(given(&f.admin_delete_enabled).is_some()),
        slug_disabled: Some(given(&f.slug_disabled).is_some()),
        creator_role_id: given(&f.creator_role_id).map(str::to_owned),
        ..OrganizationSettingsParams::default()
    })
}

/// `POST /admin/settings`: the organization settings.
async fn save(State(state): State<AppState>, post: AdminPost) -> Response {
    post.answer(&state, "/admin/settings", async |state, admin, f| {
        settings::change_organization_settings(state, &Actor::admin(&admin.user.id), params(f)?).await?;
        Ok("/admin/settings?done=saved".to_owned())
    })
    .await
}
