//! The instance's organization roles and custom permissions: creating, changing and deleting
//! them. The Backend API (`/v1/organization_roles`, `/v1/organization_permissions`) and the
//! admin console both call these, so the same rules hold for both (key shapes, the default
//! roles stay, a role members hold stays, the admin keeps every system permission, system
//! permissions never change) and both record the same named audit entries.

use usher_types::ClerkError;

use super::audit::{Actor, Audited, Event};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{ADMIN_ROLE, AuditAction, MEMBER_ROLE, PermissionRecord, RoleRecord, SYSTEM_PERMISSION_PREFIX},
    validate,
};

fn segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `org:<name>`.
pub fn role_key(raw: &str) -> ApiResult<String> {
    let k = raw.trim();
    match k.strip_prefix("org:") {
        Some(rest) if segment_ok(rest) => Ok(k.to_owned()),
        _ => Err(ApiError::format("key", "key must look like org:<name> (lowercase letters, digits, '_' or '-').")),
    }
}

/// `org:<feature>:<permission>`, never in the system's namespace.
pub fn permission_key(raw: &str) -> ApiResult<String> {
    let k = raw.trim();
    if k.starts_with(SYSTEM_PERMISSION_PREFIX) {
        return Err(ApiError::format("key", "Keys starting with org:sys_ are reserved for system permissions."));
    }
    let parts: Vec<&str> = k.split(':').collect();
    if parts.len() != 3 || parts[0] != "org" || !segment_ok(parts[1]) || !segment_ok(parts[2]) {
        return Err(ApiError::format("key", "key must look like org:<feature>:<permission>."));
    }
    Ok(k.to_owned())
}

fn display_name(raw: &str) -> ApiResult<String> {
    let n = validate::text("name", raw)?;
    if n.trim().is_empty() || n.chars().count() > 256 {
        return Err(ApiError::format("name", "name must be 1 to 256 characters."));
    }
    Ok(n)
}

fn description(raw: &str) -> ApiResult<String> {
    let d = validate::text("description", raw)?;
    if d.chars().count() > 1024 {
        return Err(ApiError::format("description", "description must be at most 1024 characters."));
    }
    Ok(d)
}

fn missing(param: &str) -> ApiError {
    ApiError::invalid("form_param_missing", param, format!("{param} must be included."))
}

fn refused(code: &str, message: &str, long: String) -> ApiError {
    ApiError::BadRequest(ClerkError::new(code, message, long))
}

/// Whether `key` is one of the two roles every instance has (the creator's and the default).
pub fn is_default_role(key: &str) -> bool {
    [ADMIN_ROLE, MEMBER_ROLE].contains(&key)
}

/// The role `id`, or `404 role`.
pub async fn load_role(state: &AppState, id: &str) -> ApiResult<RoleRecord> {
    state.store.get_role(id).await?.ok_or(ApiError::NotFound("role"))
}

/// The permission `id`, or `404 permission`.
pub async fn load_permission(state: &AppState, id: &str) -> ApiResult<PermissionRecord> {
    state.store.get_permission(id).await?.ok_or(ApiError::NotFound("permission"))
}

/// The permissions `ids` name, each checked to exist (an unknown one is an error about
/// `permissions`), without repeats.
async fn known_permissions(state: &AppState, ids: &[String]) -> ApiResult<Vec<PermissionRecord>> {
    let mut found: Vec<PermissionRecord> = Vec::with_capacity(ids.len());
    for id in ids {
        if found.iter().any(|p| &p.id == id) {
            continue;
        }
        match state.store.get_permission(id).await? {
            Some(p) => found.push(p),
            None => {
                return Err(ApiError::invalid(
                    "resource_not_found",
                    "permissions",
                    format!("No permission {id} exists."),
                ));
            }
        }
    }
    Ok(found)
}

/// A new role, as the Backend API and the console describe it.
#[derive(Debug, Clone, Default)]
pub struct NewRole {
    /// `org:<name>` (required).
    pub key: Option<String>,
    /// Its display name (required).
    pub name: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// The ids of the permissions it holds.
    pub permissions: Vec<String>,
}

/// Creates a role holding the permissions asked for.
pub async fn create_role(state: &AppState, actor: &Actor, new: NewRole) -> ApiResult<RoleRecord> {
    let key = role_key(new.key.as_deref().ok_or_else(|| missing("key"))?)?;
    let name = display_name(new.name.as_deref().ok_or_else(|| missing("name"))?)?;
    let description = description(new.description.as_deref().unwrap_or(""))?;
    let permissions = known_permissions(state, &new.permissions).await?;
    let ids: Vec<String> = permissions.iter().map(|p| p.id.clone()).collect();
    let now = state.now();
    let r = RoleRecord { id: ids::new_id("role"), key, name, description, created_at: now, updated_at: now };
    let audited = Audited::new(state, Event::success(actor, AuditAction::RoleCreated, Some(&r.id)).detail(&r.key));
    audited.store().create_role(&r, &ids).await?;
    audited.done();
    Ok(r)
}

/// A change of a role; what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct RoleChange {
    /// A new key: refused for the default roles and for a role members hold.
    pub key: Option<String>,
    /// A new display name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// The ids of every permission the role is to hold from now on.
    pub permissions: Option<Vec<String>>,
}

/// Changes a role; everything is checked before anything is written.
pub async fn update_role(state: &AppState, actor: &Actor, id: &str, change: RoleChange) -> ApiResult<RoleRecord> {
    let stored = load_role(state, id).await?;
    let mut r = stored.clone();
    if let Some(k) = change.key.as_deref() {
        let key = role_key(k)?;
        if key != r.key {
            // Memberships and tokens name roles by key: renaming one in use would strand them.
            if is_default_role(&r.key) || state.store.count_role_members(&r.key).await? > 0 {
                return Err(refused(
                    "organization_role_in_use",
                    "Role is in use",
                    format!("The key of {} cannot change while it is a default role or has members.", r.key),
                ));
            }
            r.key = key;
        }
    }
    if let Some(n) = change.name.as_deref() {
        r.name = display_name(n)?;
    }
    if let Some(d) = change.description.as_deref() {
        r.description = description(d)?;
    }
    let (add, remove) = match &change.permissions {
        None => (Vec::new(), Vec::new()),
        Some(ids) => {
            let wanted = known_permissions(state, ids).await?;
            let held = state.store.role_permissions(&stored.key).await?;
            let add: Vec<PermissionRecord> =
                wanted.iter().filter(|w| !held.iter().any(|h| h.id == w.id)).cloned().collect();
            let remove: Vec<PermissionRecord> =
                held.into_iter().filter(|h| !wanted.iter().any(|w| w.id == h.id)).collect();
            for p in &remove {
                keeps_system_permissions(&r, p)?;
            }
            (add, remove)
        }
    };
    let mut detail = r.key.clone();
    for p in &add {
        detail.push_str(&format!(" +{}", p.key));
    }
    for p in &remove {
        detail.push_str(&format!(" -{}", p.key));
    }
    r.updated_at = state.now();
    let id_list = |ps: &[PermissionRecord]| ps.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    let audited = Audited::new(state, Event::success(actor, AuditAction::RoleUpdated, Some(&r.id)).detail(&detail));
    if !audited.store().update_role(&r, &id_list(&add), &id_list(&remove)).await? {
        return Err(ApiError::NotFound("role"));
    }
    audited.done();
    Ok(r)
}

/// The admin keeps every system permission: without them nobody could manage the members.
fn keeps_system_permissions(r: &RoleRecord, p: &PermissionRecord) -> ApiResult<()> {
    if r.key == ADMIN_ROLE && p.system {
        return Err(refused(
            "organization_role_permission_required",
            "The admin role keeps its system permissions",
            format!("{} cannot be taken from {ADMIN_ROLE}.", p.key),
        ));
    }
    Ok(())
}

/// Gives a role one more permission (nothing changes when it holds it already).
pub async fn add_permission(state: &AppState, actor: &Actor, id: &str, permission_id: &str) -> ApiResult<RoleRecord> {
    let r = load_role(state, id).await?;
    let p = load_permission(state, permission_id).await?;
    let detail = format!("{} +{}", r.key, p.key);
    let audited = Audited::new(state, Event::success(actor, AuditAction::RoleUpdated, Some(&r.id)).detail(&detail));
    if !audited.store().add_role_permission(&r.id, &p.id).await? {
        return Err(ApiError::NotFound("permission"));
    }
    audited.done();
    Ok(r)
}

/// Takes a permission from a role.
pub async fn remove_permission(
    state: &AppState,
    actor: &Actor,
    id: &str,
    permission_id: &str,
) -> ApiResult<RoleRecord> {
    let r = load_role(state, id).await?;
    let p = load_permission(state, permission_id).await?;
    keeps_system_permissions(&r, &p)?;
    let detail = format!("{} -{}", r.key, p.key);
    let audited = Audited::new(state, Event::success(actor, AuditAction::RoleUpdated, Some(&r.id)).detail(&detail));
    if !audited.store().remove_role_permission(&r.id, &p.id).await? {
        return Err(ApiError::NotFound("role permission"));
    }
    audited.done();
    Ok(r)
}

/// Deletes a role: never a default one, one that members hold, or the one new organizations'
/// creators get (each would leave memberships or organization creation naming a missing role).
pub async fn delete_role(state: &AppState, actor: &Actor, id: &str) -> ApiResult<RoleRecord> {
    let r = load_role(state, id).await?;
    if is_default_role(&r.key) {
        return Err(refused(
            "organization_role_is_default",
            "Default roles cannot be deleted",
            format!("{} is the creator's or the default role and cannot be deleted.", r.key),
        ));
    }
    in_use(state, &r).await?;
    if super::organizations::settings(state).await?.creator_role == r.key {
        return Err(refused(
            "organization_role_is_default",
            "Default roles cannot be deleted",
            format!("{} is the role creators of new organizations get; pick another in the settings first.", r.key),
        ));
    }
    let audited = Audited::new(state, Event::success(actor, AuditAction::RoleDeleted, Some(&r.id)).detail(&r.key));
    if !audited.store().delete_role(&r.id).await? {
        // A member given the role since the check above keeps it.
        in_use(state, &r).await?;
        return Err(ApiError::NotFound("role"));
    }
    audited.done();
    Ok(r)
}

/// Refuses when a membership holds `r`.
async fn in_use(state: &AppState, r: &RoleRecord) -> ApiResult<()> {
    let members = state.store.count_role_members(&r.key).await?;
    if members > 0 {
        return Err(refused(
            "organization_role_in_use",
            "Role is in use",
            format!(
                "{} is assigned to {members} member{}; change their role before deleting it.",
                r.key,
                if members == 1 { "" } else { "s" }
            ),
        ));
    }
    Ok(())
}

/// A new custom permission, or a change of one (what is `None` stays, when changing).
#[derive(Debug, Clone, Default)]
pub struct PermissionFields {
    /// `org:<feature>:<permission>` (required when creating).
    pub key: Option<String>,
    /// Its display name (required when creating).
    pub name: Option<String>,
    /// What it allows.
    pub description: Option<String>,
}

/// Creates a custom permission.
pub async fn create_permission(state: &AppState, actor: &Actor, new: PermissionFields) -> ApiResult<PermissionRecord> {
    let key = permission_key(new.key.as_deref().ok_or_else(|| missing("key"))?)?;
    let name = display_name(new.name.as_deref().ok_or_else(|| missing("name"))?)?;
    let description = description(new.description.as_deref().unwrap_or(""))?;
    let now = state.now();
    let p = PermissionRecord {
        id: ids::new_id("perm"),
        key,
        name,
        description,
        system: false,
        created_at: now,
        updated_at: now,
    };
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::PermissionCreated, Some(&p.id)).detail(&p.key));
    audited.store().create_permission(&p).await?;
    audited.done();
    Ok(p)
}

fn system_refused(p: &PermissionRecord) -> ApiError {
    refused(
        "system_permission_immutable",
        "System permissions cannot be changed",
        format!("{} is a system permission; it cannot be changed or deleted.", p.key),
    )
}

/// Changes a custom permission; system ones are refused.
pub async fn update_permission(
    state: &AppState,
    actor: &Actor,
    id: &str,
    change: PermissionFields,
) -> ApiResult<PermissionRecord> {
    let mut p = load_permission(state, id).await?;
    if p.system {
        return Err(system_refused(&p));
    }
    if let Some(k) = change.key.as_deref() {
        p.key = permission_key(k)?;
    }
    if let Some(n) = change.name.as_deref() {
        p.name = display_name(n)?;
    }
    if let Some(d) = change.description.as_deref() {
        p.description = description(d)?;
    }
    p.updated_at = state.now();
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::PermissionUpdated, Some(&p.id)).detail(&p.key));
    if !audited.store().update_permission(&p).await? {
        return Err(ApiError::NotFound("permission"));
    }
    audited.done();
    Ok(p)
}

/// Deletes a custom permission, taking it from every role that held it; system ones are
/// refused.
pub async fn delete_permission(state: &AppState, actor: &Actor, id: &str) -> ApiResult<PermissionRecord> {
    let p = load_permission(state, id).await?;
    if p.system {
        return Err(system_refused(&p));
    }
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::PermissionDeleted, Some(&p.id)).detail(&p.key));
    if !audited.store().delete_permission(&p.id).await? {
        return Err(ApiError::NotFound("permission"));
    }
    audited.done();
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_their_shapes() {
        assert_eq!(role_key(" org:billing ").unwrap(), "org:billing");
        for bad in ["billing", "org:", "org:Billing", "org:a:b", "org:a b"] {
            assert!(role_key(bad).is_err(), "{bad}");
        }
        assert_eq!(permission_key("org:invoices:create").unwrap(), "org:invoices:create");
        for bad in ["org:sys_profile:manage", "org:invoices", "org:invoices:create:now", "org::x", "x:a:b"] {
            assert!(permission_key(bad).is_err(), "{bad}");
        }
    }
}
