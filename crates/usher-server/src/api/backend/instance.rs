//! `/v1/instance/organization_settings`: the instance's organization settings, as Clerk's
//! `instanceSettings.getOrganizationSettings` / `updateOrganizationSettings` read and write them.
//! Domains and role sets do not exist in usher: turning them on is refused, not ignored
//! ([`crate::flows::settings`], which the admin console calls too).

use axum::{Json, Router, extract::State, routing::get};
use usher_types::{OrganizationSettings, requests::OrganizationSettingsParams};

use crate::{
    error::ApiResult,
    flows::{
        audit::Actor,
        organizations::{self as orgs, Settings},
        settings,
    },
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

async fn update_settings(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<OrganizationSettingsParams>,
) -> ApiResult<Json<OrganizationSettings>> {
    let s = settings::change_organization_settings(&state, &Actor::secret_key(), b).await?;
    Ok(Json(wire(&s)))
}
