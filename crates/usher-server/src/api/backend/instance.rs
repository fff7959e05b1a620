//! `/v1/instance/organization_settings`: the instance's organization settings, as Clerk's
//! `instanceSettings.getOrganizationSettings` / `updateOrganizationSettings` read and write them.
//! Domains and role sets do not exist in usher: turning them on is refused, not ignored.

use axum::{Json, Router, extract::State, routing::get};
use usher_types::{OrganizationSettings, requests::OrganizationSettingsParams};

use crate::{
    error::{ApiError, ApiResult},
    flows::organizations::{self as orgs, MEMBERSHIPS_MANAGE, Settings},
    http::extract::JsonBody,
    state::AppState,
    store::MEMBER_ROLE,
};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/instance/organization_settings", get(get_settings).patch(update_settings))
}

fn wire(s: &Settings) -> OrganizationSettings {
    OrganizationSettings {
        object: "organization_settings".into(),
        enabled: s.enabled,
        max_allowed_memberships: s.max_allowed_memberships,
        // Roles and permissions are not capped: 0, as for memberships, is "no limit".
        max_allowed_roles: 0,
        max_role_sets_allowed: 0,
        max_allowed_domains: 0,
        max_allowed_permissions: 0,
        creator_role: s.creator_role.clone(),
        admin_delete_enabled: s.admin_delete_enabled,
        domains_enabled: false,
        slug_disabled: s.slug_disabled,
        domains_enrollment_modes: vec![],
        domains_default_role: MEMBER_ROLE.into(),
        initial_role_set_key: None,
    }
}

async fn get_settings(State(state): State<AppState>) -> ApiResult<Json<OrganizationSettings>> {
    Ok(Json(wire(&orgs::settings(&state).await?)))
}

fn unsupported(param: &'static str, what: &str) -> ApiError {
    ApiError::invalid("form_param_value_invalid", param, format!("{what} are not supported by this server."))
}

async fn update_settings(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<OrganizationSettingsParams>,
) -> ApiResult<Json<OrganizationSettings>> {
    let mut s = orgs::settings(&state).await?;
    if b.domains_enabled == Some(true) {
        return Err(unsupported("domains_enabled", "Organization domains"));
    }
    if b.domains_enrollment_modes.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(unsupported("domains_enrollment_modes", "Organization domains"));
    }
    if b.domains_default_role_id.is_some() {
        return Err(unsupported("domains_default_role_id", "Organization domains"));
    }
    if let Some(enabled) = b.enabled {
        s.enabled = enabled;
    }
    if let Some(max) = b.max_allowed_memberships {
        if max < 0 {
            return Err(ApiError::format("max_allowed_memberships", "max_allowed_memberships must be 0 or more."));
        }
        s.max_allowed_memberships = max;
    }
    if let Some(v) = b.admin_delete_enabled {
        s.admin_delete_enabled = v;
    }
    if let Some(v) = b.slug_disabled {
        s.slug_disabled = v;
    }
    if let Some(id) = b.creator_role_id {
        let role = state.store.get_role(&id).await?.ok_or_else(|| {
            ApiError::invalid("resource_not_found", "creator_role_id", "No role was found with that creator_role_id.")
        })?;
        // A creator must be able to manage the members of what they created (Clerk's rule).
        let permissions = state.store.role_permissions(&role.key).await?;
        if !permissions.iter().any(|p| p.key == MEMBERSHIPS_MANAGE) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "creator_role_id",
                format!("The creator's role needs the {MEMBERSHIPS_MANAGE} permission."),
            ));
        }
        s.creator_role = role.key;
    }
    orgs::save_settings(&state, &s).await?;
    Ok(Json(wire(&s)))
}
