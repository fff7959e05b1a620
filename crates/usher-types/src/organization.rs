//! Organizations, memberships, invitations, roles and permissions as the Backend API shows them
//! (Clerk's shapes, which `@clerk/backend` decodes).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `organization`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Organization {
    /// Always `"organization"`.
    pub object: String,
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// Logo URL, empty without one.
    #[serde(default)]
    pub image_url: String,
    /// Whether a logo was set.
    #[serde(default)]
    pub has_image: bool,
    /// Number of members, when asked for (`include_members_count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_count: Option<i64>,
    /// At most this many members; 0 is unlimited.
    #[serde(default)]
    pub max_allowed_memberships: i64,
    /// Whether admins may delete it.
    #[serde(default)]
    pub admin_delete_enabled: bool,
    /// Readable by the frontend.
    #[serde(default)]
    pub public_metadata: Map<String, Value>,
    /// Backend only.
    #[serde(default)]
    pub private_metadata: Map<String, Value>,
    /// The user who created it.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
}

/// The member as a membership shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PublicUserData {
    /// The user.
    pub user_id: String,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Avatar URL.
    #[serde(default)]
    pub image_url: String,
    /// Whether the user set an avatar.
    #[serde(default)]
    pub has_image: bool,
    /// The primary email address, else phone number, else username.
    #[serde(default)]
    pub identifier: String,
    /// Username.
    #[serde(default)]
    pub username: Option<String>,
}

/// `organization_membership`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OrganizationMembership {
    /// Always `"organization_membership"`.
    pub object: String,
    /// `orgmem_…`.
    pub id: String,
    /// The role's key (`org:admin`).
    pub role: String,
    /// The role's name.
    #[serde(default)]
    pub role_name: String,
    /// Every permission of the role, system ones included.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Readable by the frontend.
    #[serde(default)]
    pub public_metadata: Map<String, Value>,
    /// Backend only.
    #[serde(default)]
    pub private_metadata: Map<String, Value>,
    /// The organization.
    pub organization: Organization,
    /// The member.
    pub public_user_data: PublicUserData,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
}

/// Where an invitation is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    /// Sent, not yet answered.
    #[default]
    Pending,
    /// The invitee joined.
    Accepted,
    /// Withdrawn by an administrator.
    Revoked,
    /// Its ticket ran out.
    Expired,
    /// A status this version does not know (a newer server's).
    #[serde(other)]
    Unknown,
}

impl InvitationStatus {
    /// The wire name, e.g. `"pending"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a wire name; `None` for anything unknown.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.into())).ok().filter(|s| *s != Self::Unknown)
    }
}

/// What an invitation shows of its organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PublicOrganizationData {
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Logo URL.
    #[serde(default)]
    pub image_url: String,
    /// Whether a logo was set.
    #[serde(default)]
    pub has_image: bool,
}

/// `organization_invitation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OrganizationInvitation {
    /// Always `"organization_invitation"`.
    pub object: String,
    /// `orginv_…`.
    pub id: String,
    /// Who is invited.
    pub email_address: String,
    /// The role they get.
    pub role: String,
    /// The role's name.
    #[serde(default)]
    pub role_name: String,
    /// The organization.
    pub organization_id: String,
    /// What the invitee may see of the organization.
    #[serde(default)]
    pub public_organization_data: Option<PublicOrganizationData>,
    /// Who invited them.
    #[serde(default)]
    pub inviter_user_id: Option<String>,
    /// Where it is in its life cycle.
    pub status: InvitationStatus,
    /// The invitation link; only in the answer that created the invitation.
    #[serde(default)]
    pub url: Option<String>,
    /// Readable by the frontend.
    #[serde(default)]
    pub public_metadata: Map<String, Value>,
    /// Backend only.
    #[serde(default)]
    pub private_metadata: Map<String, Value>,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
}

/// `permission`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Permission {
    /// Always `"permission"`.
    pub object: String,
    /// `perm_…`.
    pub id: String,
    /// `org:<feature>:<permission>`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// What it allows.
    #[serde(default)]
    pub description: String,
    /// `"system"` or `"user"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
}

/// `role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Role {
    /// Always `"role"`.
    pub object: String,
    /// `role_…`.
    pub id: String,
    /// `org:<name>`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// Whether a creator may be given it.
    #[serde(default)]
    pub is_creator_eligible: bool,
    /// Its permissions.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
}

/// `organization_settings`: the instance's organization settings
/// (`GET|PATCH /v1/instance/organization_settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OrganizationSettings {
    /// `organization_settings`.
    pub object: String,
    /// Whether organizations are on.
    pub enabled: bool,
    /// The membership limit new organizations get; 0 is unlimited.
    pub max_allowed_memberships: i64,
    /// Roles the instance may define; 0 is unlimited.
    pub max_allowed_roles: i64,
    /// Role sets; usher has none.
    pub max_role_sets_allowed: i64,
    /// Domains per organization; usher has none.
    pub max_allowed_domains: i64,
    /// Deprecated by Clerk (permissions are unlimited); always 0.
    pub max_allowed_permissions: i64,
    /// The role key a creator gets.
    pub creator_role: String,
    /// The default of whether admins may delete an organization through the Frontend API.
    pub admin_delete_enabled: bool,
    /// Organization domains; not supported, always false.
    pub domains_enabled: bool,
    /// Whether organizations go without slugs.
    pub slug_disabled: bool,
    /// Domain enrollment modes; none.
    pub domains_enrollment_modes: Vec<String>,
    /// The role domain enrollment would give.
    pub domains_default_role: String,
    /// Role sets are not supported: null.
    pub initial_role_set_key: Option<String>,
}
