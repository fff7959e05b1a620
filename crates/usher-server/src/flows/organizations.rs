//! What a signed-in user may do in an organization: the rules behind the Frontend API's
//! organization routes. Every action is decided by the permissions of the caller's role, read
//! at each request (a role change takes effect at once).

use usher_types::ClerkError;

use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{ADMIN_ROLE, MembershipRecord, OrganizationRecord},
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

/// A new organization with the user as its admin.
pub fn new_organization(
    state: &AppState,
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
        max_allowed_memberships: 0,
        admin_delete_enabled: true,
        created_at: now,
        updated_at: now,
        ..OrganizationRecord::default()
    };
    let membership = MembershipRecord {
        id: ids::new_id("orgmem"),
        organization_id: org.id.clone(),
        user_id: user_id.to_owned(),
        role: ADMIN_ROLE.into(),
        created_at: now,
        updated_at: now,
        ..MembershipRecord::default()
    };
    (org, membership)
}
