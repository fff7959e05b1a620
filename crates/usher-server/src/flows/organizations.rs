//! What a signed-in user may do in an organization: the rules behind the Frontend API's
//! organization routes. Every action is decided by the permissions of the caller's role, read
//! at each request (a role change takes effect at once).

use serde_json::{Map, Value};
use usher_types::ClerkError;

use super::audit::{Actor, Audited, Event};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{
        ADMIN_ROLE, AuditAction, MEMBER_ROLE, MembershipChange, MembershipRecord, OrganizationRecord, StoreError,
        UniqueField,
    },
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
pub async fn save_settings(store: &dyn crate::store::Store, settings: &Settings) -> ApiResult<()> {
    let text = serde_json::to_string(settings).map_err(|e| ApiError::Internal(e.into()))?;
    store.put_setting(SETTINGS_KEY, &text).await?;
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

// What an instance admin (the console) or the secret key (the Backend API) does to any
// organization: no membership needed, every change recorded with its actor. The store writes
// the webhook event of each change in the change's own transaction.

/// A new organization, as the Backend API and the console describe it; what is left out comes
/// from the instance's organization settings.
#[derive(Debug, Clone, Default)]
pub struct NewOrganization {
    /// Its name (required).
    pub name: Option<String>,
    /// Its slug; made from the name when absent.
    pub slug: Option<String>,
    /// A user made its first member, with the creator role.
    pub created_by: Option<String>,
    /// The membership limit (0: none).
    pub max_allowed_memberships: Option<i64>,
    /// Whether its admins may delete it.
    pub admin_delete_enabled: Option<bool>,
    /// `public_metadata`.
    pub public_metadata: Option<Map<String, Value>>,
    /// `private_metadata`.
    pub private_metadata: Option<Map<String, Value>>,
}

/// Creates an organization; answers it and whether its creator became a member.
pub async fn create(state: &AppState, actor: &Actor, new: NewOrganization) -> ApiResult<(OrganizationRecord, bool)> {
    let Some(raw_name) = new.name.as_deref() else {
        return Err(ApiError::invalid("form_param_missing", "name", "name must be included."));
    };
    let name = name(raw_name)?;
    let slug = match new.slug.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => slug("slug", s)?,
        None => slug_from(&name),
    };
    if let Some(creator) = &new.created_by
        && state.store.get_user(creator).await?.is_none()
    {
        return Err(ApiError::invalid("resource_not_found", "created_by", "No user was found with that created_by."));
    }
    let settings = settings(state).await?;
    let max = new.max_allowed_memberships.unwrap_or(settings.max_allowed_memberships);
    if max < 0 {
        return Err(ApiError::format("max_allowed_memberships", "max_allowed_memberships must be 0 or more."));
    }
    let now = state.now();
    let org = OrganizationRecord {
        id: ids::new_id("org"),
        name,
        slug,
        image_url: None,
        created_by: new.created_by.clone(),
        public_metadata: validate::metadata("public_metadata", new.public_metadata.unwrap_or_default())?,
        private_metadata: validate::metadata("private_metadata", new.private_metadata.unwrap_or_default())?,
        max_allowed_memberships: max,
        admin_delete_enabled: new.admin_delete_enabled.unwrap_or(settings.admin_delete_enabled),
        created_at: now,
        updated_at: now,
    };
    let creator = new.created_by.as_ref().map(|user_id| MembershipRecord {
        id: ids::new_id("orgmem"),
        organization_id: org.id.clone(),
        user_id: user_id.clone(),
        role: settings.creator_role.clone(),
        created_at: now,
        updated_at: now,
        ..MembershipRecord::default()
    });
    let audited = Audited::new(state, Event::success(actor, AuditAction::OrganizationCreated, Some(&org.id)));
    audited.store().create_organization(&org, creator.as_ref()).await?;
    audited.done();
    Ok((org, creator.is_some()))
}

/// The organization `id_or_slug`, or `404 organization`.
pub async fn load(state: &AppState, id_or_slug: &str) -> ApiResult<OrganizationRecord> {
    state.store.get_organization(id_or_slug).await?.ok_or(ApiError::NotFound("organization"))
}

/// Replaces the organization's public and private metadata (each checked against the size
/// limit and named in its error).
pub async fn replace_metadata(
    state: &AppState,
    actor: &Actor,
    id: &str,
    public: Map<String, Value>,
    private: Map<String, Value>,
) -> ApiResult<OrganizationRecord> {
    let mut org = load(state, id).await?;
    org.public_metadata = validate::metadata("public_metadata", public)?;
    org.private_metadata = validate::metadata("private_metadata", private)?;
    org.updated_at = state.now();
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::OrganizationUpdated, Some(&org.id)).detail("metadata"));
    if !audited.store().update_organization(&org).await? {
        return Err(ApiError::NotFound("organization"));
    }
    audited.done();
    Ok(org)
}

/// Deletes the organization, its memberships and invitations.
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> ApiResult<OrganizationRecord> {
    let org = load(state, id).await?;
    let audited = Audited::new(state, Event::success(actor, AuditAction::OrganizationDeleted, Some(&org.id)));
    if !audited.store().delete_organization(&org.id).await? {
        return Err(ApiError::NotFound("organization"));
    }
    audited.done();
    Ok(org)
}

/// A new membership, as the Backend API and the console describe it.
#[derive(Debug, Clone, Default)]
pub struct NewMembership {
    /// The user (required).
    pub user_id: Option<String>,
    /// The role key; `org:member` when absent.
    pub role: Option<String>,
    /// `public_metadata`.
    pub public_metadata: Option<Map<String, Value>>,
    /// `private_metadata`.
    pub private_metadata: Option<Map<String, Value>>,
}

/// Makes a user a member of `org`: the role must exist, the user too, and the organization
/// must have room.
pub async fn add_member(
    state: &AppState,
    actor: &Actor,
    org: &OrganizationRecord,
    new: NewMembership,
) -> ApiResult<MembershipRecord> {
    let Some(user_id) = new.user_id.filter(|u| !u.trim().is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "user_id", "user_id must be included."));
    };
    let role = new.role.filter(|r| !r.trim().is_empty()).unwrap_or_else(|| MEMBER_ROLE.into());
    super::invitations::known_role(state, &role).await?;
    if state.store.get_user(&user_id).await?.is_none() {
        return Err(ApiError::invalid("resource_not_found", "user_id", "No user was found with that user_id."));
    }
    // A member asking again hears that, not that the organization is full; the database still
    // decides races through its unique constraint.
    if state.store.get_membership(&org.id, &user_id).await?.is_some() {
        return Err(StoreError::Conflict(UniqueField::Membership).into());
    }
    let now = state.now();
    let m = MembershipRecord {
        id: ids::new_id("orgmem"),
        organization_id: org.id.clone(),
        user_id,
        role,
        public_metadata: validate::metadata("public_metadata", new.public_metadata.unwrap_or_default())?,
        private_metadata: validate::metadata("private_metadata", new.private_metadata.unwrap_or_default())?,
        created_at: now,
        updated_at: now,
    };
    let detail = format!("{} as {}", m.user_id, m.role);
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::MembershipCreated, Some(&org.id)).detail(&detail));
    if !audited.store().create_membership(&m).await? {
        return Err(super::invitations::quota_exceeded());
    }
    audited.done();
    Ok(m)
}

/// Gives a member another role; the last admin keeps theirs.
pub async fn change_role(
    state: &AppState,
    actor: &Actor,
    org: &OrganizationRecord,
    user_id: &str,
    role: Option<&str>,
) -> ApiResult<MembershipRecord> {
    let Some(role) = role.map(str::trim).filter(|r| !r.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "role", "role must be included."));
    };
    super::invitations::known_role(state, role).await?;
    let detail = format!("{user_id} to {role}");
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::MembershipUpdated, Some(&org.id)).detail(&detail));
    match audited.store().update_membership_role(&org.id, user_id, role, state.now()).await? {
        MembershipChange::Done(m) => {
            audited.done();
            Ok(m)
        }
        MembershipChange::NotFound => Err(ApiError::NotFound("organization membership")),
        MembershipChange::LastAdmin => Err(last_admin()),
    }
}

/// Removes a member; the last admin stays.
pub async fn remove_member(
    state: &AppState,
    actor: &Actor,
    org: &OrganizationRecord,
    user_id: &str,
) -> ApiResult<MembershipRecord> {
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::MembershipDeleted, Some(&org.id)).detail(user_id));
    match audited.store().delete_membership(&org.id, user_id).await? {
        MembershipChange::Done(m) => {
            audited.done();
            Ok(m)
        }
        MembershipChange::NotFound => Err(ApiError::NotFound("organization membership")),
        MembershipChange::LastAdmin => Err(last_admin()),
    }
}
