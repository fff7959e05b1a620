//! What a signed-in user may do in an organization: the rules behind the Frontend API's
//! organization routes. Every action is decided by the permissions of the caller's role, read
//! at each request (a role change takes effect at once).

use usher_types::ClerkError;

use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{ADMIN_ROLE, MembershipRecord, OrganizationRecord},
    validate,
};

/// Update the organization's profile.
pub const PROFILE_MANAGE: &str = "org:sys_profile:manage";
/// Delete the organization.
pub const PROFILE_DELETE: &str = "org:sys_profile:delete";
/// See the members.
pub const MEMBERSHIPS_READ: &str = "org:sys_memberships:read";
/// Invite, remove and change members.
pub const MEMBERSHIPS_MANAGE: &str = "org:sys_memberships:manage";

/// The caller's standing in an organization.
#[derive(Debug, Clone)]
pub struct Standing {
    /// The organization.
    pub organization: OrganizationRecord,
    /// The caller's membership.
    pub membership: MembershipRecord,
    /// Every permission of the caller's role, system ones included.
    pub permissions: Vec<String>,
}

impl Standing {
    /// Refuses unless the caller's role holds `permission`.
    pub fn require(&self, permission: &str) -> ApiResult<()> {
        if self.permissions.iter().any(|p| p == permission) {
            Ok(())
        } else {
            // Clerk's Frontend API answers a signed-in member's refused action so (403).
            let mut error = ClerkError::new(
                "not_allowed_access",
                "You are not authorized to perform this request",
                format!("This action needs the {permission} permission, which your role does not have."),
            );
            error.meta.insert("permission".into(), permission.into());
            Err(ApiError::Forbidden(error))
        }
    }
}

impl Standing {
    /// Refuses handing out the admin role unless the caller is an admin: a custom role that may
    /// manage members still cannot make anyone (itself included) an admin.
    pub fn may_grant(&self, role: &str) -> ApiResult<()> {
        if role == ADMIN_ROLE && self.membership.role != ADMIN_ROLE {
            return Err(ApiError::Forbidden(ClerkError::new(
                "not_allowed_access",
                "You are not authorized to perform this request",
                "Only an admin may give the admin role.",
            )));
        }
        Ok(())
    }
}

/// The caller's membership of `org_id` (an id or a slug). A non-member hears "not found", as
/// for an organization that does not exist: membership is not revealed.
pub async fn standing(state: &AppState, org_id: &str, user_id: &str) -> ApiResult<Standing> {
    let organization = state.store.get_organization(org_id).await?.ok_or(ApiError::NotFound("organization"))?;
    let membership =
        state.store.get_membership(&organization.id, user_id).await?.ok_or(ApiError::NotFound("organization"))?;
    let permissions = state.store.role_permissions(&membership.role).await?.into_iter().map(|p| p.key).collect();
    Ok(Standing { organization, membership, permissions })
}

/// A slug: lowercase letters, digits and dashes, not starting like an id.
pub fn slug(param: &str, raw: &str) -> ApiResult<String> {
    let s = raw.trim().to_lowercase();
    let valid = !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !s.starts_with("org_");
    if !valid {
        return Err(ApiError::format(
            param,
            "slug must be 1 to 64 lowercase letters, digits, '-' or '_', and must not start with 'org_'.",
        ));
    }
    Ok(s)
}

/// A slug from a name: `Acme Inc.` → `acme-inc`.
pub fn slug_from(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() || out.starts_with("org_") {
        format!("org-{}", ids::random_base62(8).to_lowercase())
    } else {
        out
    }
}

pub fn name(raw: &str) -> ApiResult<String> {
    let n = validate::text("name", raw)?;
    if n.trim().is_empty() || n.chars().count() > 256 {
        return Err(ApiError::format("name", "name must be 1 to 256 characters."));
    }
    Ok(n)
}

/// The refusal of a change that would leave an organization without an admin.
pub fn last_admin() -> ApiError {
    ApiError::Forbidden(ClerkError::new(
        "organization_minimum_permissions_needed",
        "There has to be at least one admin",
        "The organization must keep at least one member with the admin role.",
    ))
}

/// The instance's organization settings (`/v1/instance/organization_settings`), stored as one
/// JSON setting so that every node reads the same; absent fields have Clerk's defaults.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Organizations on: off, the Frontend API refuses creating one and the environment says so.
    pub enabled: bool,
    /// The membership limit of new organizations (0: none).
    pub max_allowed_memberships: i64,
    /// Whether admins of new organizations may delete them.
    pub admin_delete_enabled: bool,
    /// The role key creators get.
    pub creator_role: String,
    /// Organizations without slugs (the environment tells clerk-js).
    pub slug_disabled: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            enabled: true,
            max_allowed_memberships: 0,
            admin_delete_enabled: true,
            creator_role: ADMIN_ROLE.into(),
            slug_disabled: false,
        }
    }
}

const SETTINGS_KEY: &str = "organization_settings";

/// The instance's organization settings.
pub async fn settings(state: &AppState) -> ApiResult<Settings> {
    match state.store.setting(SETTINGS_KEY).await? {
        None => Ok(Settings::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored organization settings: {e}"))),
    }
}

/// Replaces the instance's organization settings.
pub async fn save_settings(state: &AppState, settings: &Settings) -> ApiResult<()> {
    let text = serde_json::to_string(settings).map_err(|e| ApiError::Internal(e.into()))?;
    state.store.put_setting(SETTINGS_KEY, &text).await?;
    Ok(())
}

/// Refuses creating an organization through the Frontend API while organizations are off.
pub fn ensure_enabled(settings: &Settings) -> ApiResult<()> {
    if settings.enabled {
        return Ok(());
    }
    Err(ApiError::Forbidden(ClerkError::new(
        "organizations_not_enabled_in_instance",
        "Organizations are not enabled",
        "Organizations are switched off for this instance.",
    )))
}

/// A new organization with the user as its creator, as the instance's settings say (the
/// creator's role, the membership limit, whether admins may delete it).
pub fn new_organization(
    state: &AppState,
    settings: &Settings,
    name: String,
    slug: String,
    user_id: &str,
) -> (OrganizationRecord, MembershipRecord) {
    let now = state.now();
    let org = OrganizationRecord {
        id: ids::new_id("org"),
        name,
        slug,
        image_url: None,
        created_by: Some(user_id.to_owned()),
        max_allowed_memberships: settings.max_allowed_memberships,
        admin_delete_enabled: settings.admin_delete_enabled,
        created_at: now,
        updated_at: now,
        ..OrganizationRecord::default()
    };
    let membership = MembershipRecord {
        id: ids::new_id("orgmem"),
        organization_id: org.id.clone(),
        user_id: user_id.to_owned(),
        role: settings.creator_role.clone(),
        created_at: now,
        updated_at: now,
        ..MembershipRecord::default()
    };
    (org, membership)
}
