//! `organizations`, `organizationRoles` and `organizationPermissions`: the calls behind
//! `clerkClient().organizations` and its role and permission resources.

use reqwest::Method;
use usher_types::{
    DeletedObject, Organization, OrganizationInvitation, OrganizationMembership, Paginated, Permission, Role,
    requests::{
        InvitationParams, MembershipParams, OrganizationMetadataParams, OrganizationParams, PermissionParams,
        RevokeInvitationParams, RoleParams,
    },
};

use super::{BackendClient, ClientError, segment};

/// Page size and offset of a list call; `None` takes the server's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageParams {
    /// Page size, 1..=500.
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

impl PageParams {
    fn query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(o) = self.offset {
            q.push(("offset", o.to_string()));
        }
        q
    }
}

/// Organization, membership and invitation calls; from [`BackendClient::organizations`].
///
/// ```no_run
/// # async fn f(client: usher::BackendClient, user_id: String) -> Result<(), usher::ClientError> {
/// use usher::types::requests::{InvitationParams, OrganizationParams};
/// let org = client.organizations().create(&OrganizationParams {
///     name: Some("Acme".into()),
///     created_by: Some(user_id),
///     ..Default::default()
/// }).await?;
/// client.organizations().create_invitation(&org.id, &InvitationParams {
///     email_address: Some("new@example.com".into()),
///     role: Some("org:member".into()),
///     ..Default::default()
/// }).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Organizations<'a>(pub(super) &'a BackendClient);

impl Organizations<'_> {
    /// `POST /v1/organizations`; `name` is required, `created_by` becomes its admin.
    pub async fn create(&self, params: &OrganizationParams) -> Result<Organization, ClientError> {
        self.0.send(Method::POST, "/organizations", &[], Some(params)).await
    }

    /// `GET /v1/organizations/{id_or_slug}`.
    pub async fn get(&self, id_or_slug: &str) -> Result<Organization, ClientError> {
        self.0.send(Method::GET, &format!("/organizations/{}", segment(id_or_slug)), &[], None::<&()>).await
    }

    /// `GET /v1/organizations`, optionally filtered by `query` (name, slug or id).
    pub async fn list(&self, query: Option<&str>, page: PageParams) -> Result<Paginated<Organization>, ClientError> {
        let mut q = page.query();
        if let Some(text) = query {
            q.push(("query", text.to_owned()));
        }
        self.0.send(Method::GET, "/organizations", &q, None::<&()>).await
    }

    /// `PATCH /v1/organizations/{id}`; absent fields keep their values.
    pub async fn update(&self, id: &str, params: &OrganizationParams) -> Result<Organization, ClientError> {
        self.0.send(Method::PATCH, &format!("/organizations/{}", segment(id)), &[], Some(params)).await
    }

    /// `PATCH /v1/organizations/{id}/metadata`: merged, `null` removes a key.
    pub async fn update_metadata(
        &self,
        id: &str,
        params: &OrganizationMetadataParams,
    ) -> Result<Organization, ClientError> {
        self.0.send(Method::PATCH, &format!("/organizations/{}/metadata", segment(id)), &[], Some(params)).await
    }

    /// `DELETE /v1/organizations/{id}`.
    pub async fn delete(&self, id: &str) -> Result<DeletedObject, ClientError> {
        self.0.send(Method::DELETE, &format!("/organizations/{}", segment(id)), &[], None::<&()>).await
    }

    /// `POST /v1/organizations/{id}/memberships` (`user_id`, `role`).
    pub async fn create_membership(
        &self,
        id: &str,
        params: &MembershipParams,
    ) -> Result<OrganizationMembership, ClientError> {
        self.0.send(Method::POST, &format!("/organizations/{}/memberships", segment(id)), &[], Some(params)).await
    }

    /// `GET /v1/organizations/{id}/memberships`.
    pub async fn list_memberships(
        &self,
        id: &str,
        page: PageParams,
    ) -> Result<Paginated<OrganizationMembership>, ClientError> {
        self.0
            .send(Method::GET, &format!("/organizations/{}/memberships", segment(id)), &page.query(), None::<&()>)
            .await
    }

    /// `PATCH /v1/organizations/{id}/memberships/{user_id}`: a new role.
    pub async fn update_membership(
        &self,
        id: &str,
        user_id: &str,
        role: &str,
    ) -> Result<OrganizationMembership, ClientError> {
        let body = MembershipParams { role: Some(role.to_owned()), ..MembershipParams::default() };
        let path = format!("/organizations/{}/memberships/{}", segment(id), segment(user_id));
        self.0.send(Method::PATCH, &path, &[], Some(&body)).await
    }

    /// `DELETE /v1/organizations/{id}/memberships/{user_id}`.
    pub async fn delete_membership(&self, id: &str, user_id: &str) -> Result<OrganizationMembership, ClientError> {
        let path = format!("/organizations/{}/memberships/{}", segment(id), segment(user_id));
        self.0.send(Method::DELETE, &path, &[], None::<&()>).await
    }

    /// `POST /v1/organizations/{id}/invitations`: mails the invitee a link; the answer's `url`
    /// is that link.
    pub async fn create_invitation(
        &self,
        id: &str,
        params: &InvitationParams,
    ) -> Result<OrganizationInvitation, ClientError> {
        self.0.send(Method::POST, &format!("/organizations/{}/invitations", segment(id)), &[], Some(params)).await
    }

    /// `GET /v1/organizations/{id}/invitations`, optionally by status (`pending`, …).
    pub async fn list_invitations(
        &self,
        id: &str,
        status: Option<&str>,
        page: PageParams,
    ) -> Result<Paginated<OrganizationInvitation>, ClientError> {
        let mut q = page.query();
        if let Some(s) = status {
            q.push(("status", s.to_owned()));
        }
        self.0.send(Method::GET, &format!("/organizations/{}/invitations", segment(id)), &q, None::<&()>).await
    }

    /// `GET /v1/organizations/{id}/invitations/{invitation_id}`.
    pub async fn get_invitation(&self, id: &str, invitation_id: &str) -> Result<OrganizationInvitation, ClientError> {
        let path = format!("/organizations/{}/invitations/{}", segment(id), segment(invitation_id));
        self.0.send(Method::GET, &path, &[], None::<&()>).await
    }

    /// `POST /v1/organizations/{id}/invitations/{invitation_id}/revoke`.
    pub async fn revoke_invitation(
        &self,
        id: &str,
        invitation_id: &str,
        requesting_user_id: Option<&str>,
    ) -> Result<OrganizationInvitation, ClientError> {
        let path = format!("/organizations/{}/invitations/{}/revoke", segment(id), segment(invitation_id));
        let body = RevokeInvitationParams { requesting_user_id: requesting_user_id.map(str::to_owned) };
        self.0.send(Method::POST, &path, &[], Some(&body)).await
    }
}

/// Role and permission calls; from [`BackendClient::roles`].
#[derive(Debug, Clone, Copy)]
pub struct Roles<'a>(pub(super) &'a BackendClient);

impl Roles<'_> {
    /// `GET /v1/organization_roles`.
    pub async fn list(&self, page: PageParams) -> Result<Paginated<Role>, ClientError> {
        self.0.send(Method::GET, "/organization_roles", &page.query(), None::<&()>).await
    }

    /// `POST /v1/organization_roles` (`key` `org:<name>`, `name`, `permissions` ids).
    pub async fn create(&self, params: &RoleParams) -> Result<Role, ClientError> {
        self.0.send(Method::POST, "/organization_roles", &[], Some(params)).await
    }

    /// `GET /v1/organization_roles/{id}`.
    pub async fn get(&self, id: &str) -> Result<Role, ClientError> {
        self.0.send(Method::GET, &format!("/organization_roles/{}", segment(id)), &[], None::<&()>).await
    }

    /// `PATCH /v1/organization_roles/{id}`.
    pub async fn update(&self, id: &str, params: &RoleParams) -> Result<Role, ClientError> {
        self.0.send(Method::PATCH, &format!("/organization_roles/{}", segment(id)), &[], Some(params)).await
    }

    /// `DELETE /v1/organization_roles/{id}` (refused for the default roles and roles in use).
    pub async fn delete(&self, id: &str) -> Result<DeletedObject, ClientError> {
        self.0.send(Method::DELETE, &format!("/organization_roles/{}", segment(id)), &[], None::<&()>).await
    }

    /// `POST /v1/organization_roles/{id}/permissions/{permission_id}`.
    pub async fn assign_permission(&self, id: &str, permission_id: &str) -> Result<Role, ClientError> {
        let path = format!("/organization_roles/{}/permissions/{}", segment(id), segment(permission_id));
        self.0.send(Method::POST, &path, &[], None::<&()>).await
    }

    /// `DELETE /v1/organization_roles/{id}/permissions/{permission_id}`.
    pub async fn remove_permission(&self, id: &str, permission_id: &str) -> Result<Role, ClientError> {
        let path = format!("/organization_roles/{}/permissions/{}", segment(id), segment(permission_id));
        self.0.send(Method::DELETE, &path, &[], None::<&()>).await
    }

    /// `GET /v1/organization_permissions` (system ones first).
    pub async fn list_permissions(&self, page: PageParams) -> Result<Paginated<Permission>, ClientError> {
        self.0.send(Method::GET, "/organization_permissions", &page.query(), None::<&()>).await
    }

    /// `POST /v1/organization_permissions` (`key` `org:<feature>:<permission>`, `name`).
    pub async fn create_permission(&self, params: &PermissionParams) -> Result<Permission, ClientError> {
        self.0.send(Method::POST, "/organization_permissions", &[], Some(params)).await
    }

    /// `DELETE /v1/organization_permissions/{id}` (not for system permissions).
    pub async fn delete_permission(&self, id: &str) -> Result<DeletedObject, ClientError> {
        self.0.send(Method::DELETE, &format!("/organization_permissions/{}", segment(id)), &[], None::<&()>).await
    }
}
