//! Organizations, their memberships and invitations, and the instance's roles and permissions.
//!
//! A membership names its role by key; roles hold permissions. The rules that need every row of
//! an organization at once — one membership per user, the membership limit, never removing the
//! last admin — are decided by the database inside the write, so concurrent requests cannot
//! both pass a check that only one of them may.

use async_trait::async_trait;
use serde_json::{Map, Value};
pub use usher_types::organization::InvitationStatus;

use super::{Page, StoreResult};

/// The role every creator gets and that the last member may never lose.
pub const ADMIN_ROLE: &str = "org:admin";
/// The role given when none is asked for.
pub const MEMBER_ROLE: &str = "org:member";
/// Prefix of the permissions the system defines (never put in tokens).
pub const SYSTEM_PERMISSION_PREFIX: &str = "org:sys_";

/// An organization.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrganizationRecord {
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique, URL-safe.
    pub slug: String,
    /// Logo URL, if one was set.
    pub image_url: Option<String>,
    /// The user who created it.
    pub created_by: Option<String>,
    /// Readable by the frontend.
    pub public_metadata: Map<String, Value>,
    /// Backend only.
    pub private_metadata: Map<String, Value>,
    /// At most this many memberships; 0 is unlimited.
    pub max_allowed_memberships: i64,
    /// Whether admins may delete it.
    pub admin_delete_enabled: bool,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// How to order organizations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrganizationOrder {
    /// Creation time.
    #[default]
    CreatedAt,
    /// Name.
    Name,
    /// Number of members.
    MembersCount,
}

/// Filters and order of the organization list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationQuery {
    /// Organizations whose name, slug or id contains this, case-insensitively.
    pub query: Option<String>,
    /// Order.
    pub order: OrganizationOrder,
    /// Descending instead of ascending.
    pub descending: bool,
}

/// What a session token says of its active organization: read at every mint, in one statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TokenOrganization {
    /// The organization's id.
    pub id: String,
    /// Its slug.
    pub slug: String,
    /// The member's role, `org:`-prefixed as stored.
    pub role: String,
    /// The keys of the role's permissions, sorted, system permissions included.
    pub permission_keys: Vec<String>,
}

/// A user's membership of an organization.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MembershipRecord {
    /// `orgmem_…`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// The member.
    pub user_id: String,
    /// The role's key (`org:admin`).
    pub role: String,
    /// Readable by the frontend.
    pub public_metadata: Map<String, Value>,
    /// Backend only.
    pub private_metadata: Map<String, Value>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Filters of the membership list. `None` and empty lists do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipFilter {
    /// Memberships of this organization.
    pub organization_id: Option<String>,
    /// Memberships of these users.
    pub user_ids: Vec<String>,
    /// Memberships with one of these roles.
    pub roles: Vec<String>,
}

/// What a membership write did.
#[derive(Debug, Clone, PartialEq)]
pub enum MembershipChange {
    /// Done; the membership as it is now (or was, for a deletion).
    Done(MembershipRecord),
    /// There is no such membership.
    NotFound,
    /// Refused: it would leave the organization without an admin.
    LastAdmin,
}

/// What accepting an invitation did.
#[derive(Debug, Clone, PartialEq)]
pub enum InvitationAcceptance {
    /// The invitee is now a member; the invitation is accepted.
    Joined(MembershipRecord),
    /// The invitee already was a member; the invitation is accepted all the same (used up).
    AlreadyMember,
    /// Nothing changed: the invitation is no longer pending, or ran out.
    NotPending,
    /// Nothing changed: the organization is at its membership limit.
    Full,
}

/// An invitation to join an organization.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvitationRecord {
    /// `orginv_…`.
    pub id: String,
    /// The organization.
    pub organization_id: String,
    /// Who is invited.
    pub email_address: String,
    /// The role they get on joining.
    pub role: String,
    /// Where it is in its life cycle.
    pub status: InvitationStatus,
    /// Who invited them.
    pub inviter_user_id: Option<String>,
    /// Where the link leads after joining.
    pub redirect_url: Option<String>,
    /// SHA-256 of the ticket in the invitation link; the ticket itself is never stored.
    pub ticket_digest: String,
    /// Readable by the frontend; copied to the membership.
    pub public_metadata: Map<String, Value>,
    /// Backend only; copied to the membership.
    pub private_metadata: Map<String, Value>,
    /// The ticket's end.
    pub expires_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Filters of the invitation list. `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationFilter {
    /// Invitations to this organization.
    pub organization_id: Option<String>,
    /// Invitations of this (normalised) email address.
    pub email_address: Option<String>,
    /// Invitations in this status.
    pub status: Option<InvitationStatus>,
}

/// A permission.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PermissionRecord {
    /// `perm_…`.
    pub id: String,
    /// `org:<feature>:<permission>`; unique.
    pub key: String,
    /// Display name.
    pub name: String,
    /// What it allows.
    pub description: String,
    /// One of the system's (`org:sys_…`), which cannot be changed or deleted.
    pub system: bool,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A role.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoleRecord {
    /// `role_…`.
    pub id: String,
    /// `org:<name>`; unique.
    pub key: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Organizations and their memberships and invitations.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Inserts an organization and, when given, its creator's membership, in one transaction.
    async fn create_organization(
        &self,
        organization: &OrganizationRecord,
        creator: Option<&MembershipRecord>,
    ) -> StoreResult<()>;
    /// An organization by id or, failing that, by slug.
    async fn get_organization(&self, id_or_slug: &str) -> StoreResult<Option<OrganizationRecord>>;
    /// A page of organizations with their member counts, and how many match in all.
    async fn list_organizations(
        &self,
        query: &OrganizationQuery,
        page: Page,
    ) -> StoreResult<(Vec<(OrganizationRecord, i64)>, i64)>;
    /// Replaces an organization's fields; false if there is no such organization.
    async fn update_organization(&self, organization: &OrganizationRecord) -> StoreResult<bool>;
    /// Deletes an organization with its memberships and invitations; false if there was none.
    async fn delete_organization(&self, id: &str) -> StoreResult<bool>;

    /// Inserts a membership unless the organization is at its `max_allowed_memberships`
    /// (false then). A second membership of the same user is a conflict.
    async fn create_membership(&self, membership: &MembershipRecord) -> StoreResult<bool>;
    /// A user's membership of an organization.
    async fn get_membership(&self, organization_id: &str, user_id: &str) -> StoreResult<Option<MembershipRecord>>;
    /// A page of memberships with their organizations, oldest first, and how many match in all.
    async fn list_memberships(
        &self,
        filter: &MembershipFilter,
        page: Page,
    ) -> StoreResult<(Vec<(MembershipRecord, OrganizationRecord)>, i64)>;
    /// Every membership of a user with its organization, oldest first, in one statement (the
    /// Frontend API embeds them in each answer's user).
    async fn user_memberships(&self, user_id: &str) -> StoreResult<Vec<(MembershipRecord, OrganizationRecord)>>;
    /// Changes a member's role, unless that demotes the organization's last admin.
    async fn update_membership_role(
        &self,
        organization_id: &str,
        user_id: &str,
        role: &str,
        now: i64,
    ) -> StoreResult<MembershipChange>;
    /// Replaces a membership's metadata; false if there is no such membership.
    async fn update_membership_metadata(&self, membership: &MembershipRecord) -> StoreResult<bool>;
    /// Removes a member, unless they are the organization's last admin.
    async fn delete_membership(&self, organization_id: &str, user_id: &str) -> StoreResult<MembershipChange>;

    /// Inserts an invitation.
    async fn create_invitation(&self, invitation: &InvitationRecord) -> StoreResult<()>;
    /// An invitation by id.
    async fn get_invitation(&self, id: &str) -> StoreResult<Option<InvitationRecord>>;
    /// The invitation whose ticket has this digest.
    async fn get_invitation_by_ticket(&self, ticket_digest: &str) -> StoreResult<Option<InvitationRecord>>;
    /// A page of invitations, newest first, and how many match in all.
    async fn list_invitations(
        &self,
        filter: &InvitationFilter,
        page: Page,
    ) -> StoreResult<(Vec<InvitationRecord>, i64)>;
    /// Moves a pending invitation to `status`; `None` if there is no such invitation. One that
    /// is no longer pending is returned unchanged.
    async fn settle_invitation(
        &self,
        id: &str,
        status: InvitationStatus,
        now: i64,
    ) -> StoreResult<Option<InvitationRecord>>;
    /// Accepts a pending, unexpired invitation and inserts `membership` (its user's), in one
    /// transaction: a ticket joins once, and never without the membership.
    async fn accept_invitation(
        &self,
        invitation_id: &str,
        membership: &MembershipRecord,
        now: i64,
    ) -> StoreResult<InvitationAcceptance>;
}

/// The instance's roles and permissions.
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// Inserts a permission.
    async fn create_permission(&self, permission: &PermissionRecord) -> StoreResult<()>;
    /// A permission by id.
    async fn get_permission(&self, id: &str) -> StoreResult<Option<PermissionRecord>>;
    /// A page of permissions (system ones first, then by key), and how many there are.
    async fn list_permissions(&self, page: Page) -> StoreResult<(Vec<PermissionRecord>, i64)>;
    /// Replaces a permission's key, name and description; false if there is none.
    async fn update_permission(&self, permission: &PermissionRecord) -> StoreResult<bool>;
    /// Deletes a permission, removing it from every role; false if there was none.
    async fn delete_permission(&self, id: &str) -> StoreResult<bool>;

    /// Inserts a role with these permissions.
    async fn create_role(&self, role: &RoleRecord, permission_ids: &[String]) -> StoreResult<()>;
    /// A role by id.
    async fn get_role(&self, id: &str) -> StoreResult<Option<RoleRecord>>;
    /// A role by key.
    async fn get_role_by_key(&self, key: &str) -> StoreResult<Option<RoleRecord>>;
    /// A page of roles by key, and how many there are.
    async fn list_roles(&self, page: Page) -> StoreResult<(Vec<RoleRecord>, i64)>;
    /// Replaces a role's key, name and description, and gives it the permissions in `add` and
    /// takes those in `remove` (ids; unknown ones are skipped), all in one transaction that
    /// tells the webhooks once; false if there is no such role. Members holding the old key
    /// keep it: callers refuse renaming a role in use.
    async fn update_role(&self, role: &RoleRecord, add: &[String], remove: &[String]) -> StoreResult<bool>;
    /// Deletes a role unless a membership holds its key (checked in the same statement, so a
    /// member added meanwhile keeps a role that exists); false if it was not deleted.
    async fn delete_role(&self, id: &str) -> StoreResult<bool>;
    /// How many memberships hold the role with this key.
    async fn count_role_members(&self, key: &str) -> StoreResult<i64>;
    /// Gives a role a permission (idempotent); false if either does not exist.
    async fn add_role_permission(&self, role_id: &str, permission_id: &str) -> StoreResult<bool>;
    /// Takes a permission from a role; false if the role did not have it.
    async fn remove_role_permission(&self, role_id: &str, permission_id: &str) -> StoreResult<bool>;
    /// The permissions of the role with this key, by key; empty for an unknown role.
    async fn role_permissions(&self, key: &str) -> StoreResult<Vec<PermissionRecord>>;

    /// The organization `organization_id` as a token of `user_id`'s shows it, in one statement
    /// (a mint reads it every time); `None` unless the organization exists and the user is a
    /// member.
    async fn token_organization(&self, organization_id: &str, user_id: &str) -> StoreResult<Option<TokenOrganization>>;
}

/// A membership as its webhook events show it (the Backend API's shape needs the organization,
/// the role's name and permissions and the member's public data), read inside the transaction of
/// the change so the event describes exactly what was committed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MembershipView {
    /// The membership (as it was, for a deletion).
    pub membership: MembershipRecord,
    /// Its organization.
    pub organization: OrganizationRecord,
    /// The role's display name (its key when the role is gone).
    pub role_name: String,
    /// The role's permission keys, system ones included.
    pub permissions: Vec<String>,
    /// The member, if the user still exists.
    pub user: Option<super::UserRecord>,
}

/// An invitation as its webhook events show it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InvitationView {
    /// The invitation after the change.
    pub invitation: InvitationRecord,
    /// Its organization.
    pub organization: Option<OrganizationRecord>,
    /// The role's display name (its key when the role is gone).
    pub role_name: String,
}

/// A role with its permissions, as its webhook events show it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoleView {
    /// The role after the change.
    pub role: RoleRecord,
    /// Its permissions.
    pub permissions: Vec<PermissionRecord>,
}
