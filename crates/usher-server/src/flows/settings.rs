//! Changing the instance settings that can change at runtime (stored, so every node reads the
//! same): today the organization settings. The Backend API (`PATCH
//! /v1/instance/organization_settings`) and the admin console both call this, so both apply the
//! same checks and both write the audit log.

use usher_types::requests::OrganizationSettingsParams;

use super::{
    audit::{Actor, Audited, Event},
    organizations::{self as orgs, MEMBERSHIPS_MANAGE, Settings},
};
use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
    store::AuditAction,
};

fn unsupported(param: &'static str, what: &str) -> ApiError {
    ApiError::invalid("form_param_value_invalid", param, format!("{what} are not supported by this server."))
}

/// Applies `p` to the organization settings (absent fields keep their values) and stores the
/// result; domains and role sets do not exist in usher, so turning them on is refused, not
/// ignored. Nothing is stored when any field is refused.
pub async fn change_organization_settings(
    state: &AppState,
    actor: &Actor,
    p: OrganizationSettingsParams,
) -> ApiResult<Settings> {
    let before = orgs::settings(state).await?;
    let mut s = before.clone();
    if p.domains_enabled == Some(true) {
        return Err(unsupported("domains_enabled", "Organization domains"));
    }
    if p.domains_enrollment_modes.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(unsupported("domains_enrollment_modes", "Organization domains"));
    }
    if p.domains_default_role_id.is_some() {
        return Err(unsupported("domains_default_role_id", "Organization domains"));
    }
    if let Some(enabled) = p.enabled {
        s.enabled = enabled;
    }
    if let Some(max) = p.max_allowed_memberships {
        if max < 0 {
            return Err(ApiError::format("max_allowed_memberships", "max_allowed_memberships must be 0 or more."));
        }
        s.max_allowed_memberships = max;
    }
    if let Some(v) = p.admin_delete_enabled {
        s.admin_delete_enabled = v;
    }
    if let Some(v) = p.slug_disabled {
        s.slug_disabled = v;
    }
    if let Some(id) = p.creator_role_id {
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
    let detail = format!("organization_settings: {}", changes(&before, &s));
    let audited = Audited::new(state, Event::success(actor, AuditAction::SettingsUpdated, None).detail(&detail));
    orgs::save_settings(audited.store(), &s).await?;
    audited.done();
    Ok(s)
}

/// What changed between `a` and `b`, as `field=value` pairs ("nothing" when nothing did).
fn changes(a: &Settings, b: &Settings) -> String {
    let mut out = Vec::new();
    if a.enabled != b.enabled {
        out.push(format!("enabled={}", b.enabled));
    }
    if a.max_allowed_memberships != b.max_allowed_memberships {
        out.push(format!("max_allowed_memberships={}", b.max_allowed_memberships));
    }
    if a.admin_delete_enabled != b.admin_delete_enabled {
        out.push(format!("admin_delete_enabled={}", b.admin_delete_enabled));
    }
    if a.creator_role != b.creator_role {
        out.push(format!("creator_role={}", b.creator_role));
    }
    if a.slug_disabled != b.slug_disabled {
        out.push(format!("slug_disabled={}", b.slug_disabled));
    }
    if out.is_empty() { "nothing".to_owned() } else { out.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_only_what_changed() {
        let a = Settings::default();
        assert_eq!(changes(&a, &a), "nothing");
        let b = Settings { enabled: false, max_allowed_memberships: 5, ..a.clone() };
        assert_eq!(changes(&a, &b), "enabled=false, max_allowed_memberships=5");
    }
}
