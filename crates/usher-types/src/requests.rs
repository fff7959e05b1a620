//! Request bodies of the Backend API, shared by the server (which deserialises them) and the
//! SDK (which serialises them). Absent fields are not sent; on updates, `Some(None)` sends
//! `null`, which clears the field.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `POST /v1/users`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreateUser {
    /// Email addresses; the first becomes the primary one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_address: Vec<String>,
    /// Phone numbers in E.164; the first becomes the primary one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_number: Vec<String>,
    /// A unique username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// A password, hashed with Argon2id by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// An imported hash instead of a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_digest: Option<String>,
    /// `argon2id`, `argon2i` or `bcrypt`, with `password_digest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hasher: Option<String>,
    /// Skips the password length policy (imports).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_password_checks: bool,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The application's own id for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Preferred locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Public metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Map<String, Value>>,
    /// Private metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Map<String, Value>>,
    /// Unsafe metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Map<String, Value>>,
    /// Whether the user may delete their own account (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_self_enabled: Option<bool>,
    /// Whether the user may create organizations (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_organization_enabled: Option<bool>,
    /// How many organizations the user may create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_organizations_limit: Option<i64>,
    /// An authenticator app's base32 secret to import (a Clerk export's `totp_secret`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// Backup codes to import, in the clear; stored hashed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_codes: Vec<String>,
}

/// `PATCH /v1/users/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UpdateUser {
    /// Given name; `Some(None)` clears it.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Option<String>>,
    /// Family name; `Some(None)` clears it.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Option<String>>,
    /// Username; `Some(None)` clears it.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub username: Option<Option<String>>,
    /// External id; `Some(None)` clears it.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Option<String>>,
    /// Locale; `Some(None)` clears it.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub locale: Option<Option<String>>,
    /// A new password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// An imported hash instead of a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_digest: Option<String>,
    /// `argon2id`, `argon2i` or `bcrypt`, with `password_digest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hasher: Option<String>,
    /// Skips the password length policy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_password_checks: bool,
    /// With a new password: end the user's sessions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sign_out_of_other_sessions: bool,
    /// One of the user's email address ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_email_address_id: Option<String>,
    /// One of the user's phone number ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_phone_number_id: Option<String>,
    /// Replaces the public metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Map<String, Value>>,
    /// Replaces the private metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Map<String, Value>>,
    /// Replaces the unsafe metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Map<String, Value>>,
    /// Whether the user may delete their own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_self_enabled: Option<bool>,
    /// Whether the user may create organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_organization_enabled: Option<bool>,
    /// How many organizations the user may create; `Some(None)` removes the limit.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub create_organizations_limit: Option<Option<i64>>,
}

/// `PATCH` (deep merge, `null` removes) or `PUT` (replace) `/v1/users/{id}/metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UserMetadata {
    /// Public metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Map<String, Value>>,
    /// Private metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Map<String, Value>>,
    /// Unsafe metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsafe_metadata: Option<Map<String, Value>>,
}

/// `POST /v1/users/{id}/verify_password`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct VerifyPassword {
    /// The password to check.
    pub password: String,
}

/// `POST /v1/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreateSession {
    /// The user to sign in.
    pub user_id: String,
    /// The organization to make active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_organization_id: Option<String>,
}

/// `POST /v1/sessions/{id}/tokens[/{template}]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TokenOptions {
    /// A lifetime other than the default, 30..=315360000 s (default: the server's session-token
    /// lifetime, 60 s unless configured; for a template, its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
}

/// `POST` and `PATCH /v1/jwt_templates[/{id}]`; on update, absent fields keep their values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JwtTemplateParams {
    /// Unique name (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Claims with shortcodes (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Value>,
    /// Token lifetime in seconds, 30..=315360000 (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<i64>,
    /// `nbf` back-dating in seconds, 0..=300 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_clock_skew: Option<i64>,
    /// Sign with `signing_key` instead of the instance key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_signing_key: Option<bool>,
    /// `HS256`…`HS512` or `RS256`…`RS512`, with a custom key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<String>,
    /// The secret (HS*, 32+ bytes) or PEM private key (RS*); write-only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

/// `POST /v1/sign_in_tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CreateSignInToken {
    /// The user the token signs in.
    pub user_id: String,
    /// Lifetime in seconds, at most (and by default) 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn updates_tell_absent_from_null() {
        let update: UpdateUser = serde_json::from_value(json!({"first_name": "Ada", "last_name": null})).unwrap();
        assert_eq!(
            (update.first_name, update.last_name, update.username),
            (Some(Some("Ada".into())), Some(None), None)
        );
        let sent = serde_json::to_value(UpdateUser { last_name: Some(None), ..Default::default() }).unwrap();
        assert_eq!(sent, json!({"last_name": null}));
    }
}

/// `POST /v1/organizations` and `PATCH /v1/organizations/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OrganizationParams {
    /// Display name (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unique slug; derived from the name when absent on create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// The creating user, who becomes its first admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// At most this many members; 0 is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_memberships: Option<i64>,
    /// Whether admins may delete it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_delete_enabled: Option<bool>,
    /// Readable by the frontend (replaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Map<String, Value>>,
    /// Backend only (replaces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Map<String, Value>>,
}

/// `PATCH|PUT /v1/organizations/{id}/metadata` and the membership metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OrganizationMetadataParams {
    /// Readable by the frontend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Map<String, Value>>,
    /// Backend only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Map<String, Value>>,
}

/// `POST /v1/organizations/{id}/memberships` and `PATCH …/memberships/{user_id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MembershipParams {
    /// The member (create only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The role's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Readable by the frontend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Map<String, Value>>,
    /// Backend only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Map<String, Value>>,
}

/// `POST /v1/organizations/{id}/invitations` (and each item of `…/bulk`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct InvitationParams {
    /// Who is invited (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    /// The role they get on joining; `org:member` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The member who invites them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inviter_user_id: Option<String>,
    /// Where the invitee lands after joining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// Days the link works (1 to 30; 30 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<i64>,
    /// Copied to the membership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_metadata: Option<Map<String, Value>>,
    /// Copied to the membership.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_metadata: Option<Map<String, Value>>,
}

/// `POST /v1/organizations/{id}/invitations/{inv}/revoke`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RevokeInvitationParams {
    /// The member revoking it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requesting_user_id: Option<String>,
}

/// `POST /v1/organization_roles` and `PATCH /v1/organization_roles/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RoleParams {
    /// `org:<name>` (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Display name (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permission ids the role starts with (create only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// `POST /v1/organization_permissions` and `PATCH /v1/organization_permissions/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PermissionParams {
    /// `org:<feature>:<permission>` (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Display name (required on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `PATCH /v1/instance/organization_settings`; absent fields keep their value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OrganizationSettingsParams {
    /// Organizations on or off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The membership limit new organizations get; 0 is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_memberships: Option<i64>,
    /// Whether admins of new organizations may delete them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_delete_enabled: Option<bool>,
    /// Organization domains (only `false` is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains_enabled: Option<bool>,
    /// Organizations without slugs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug_disabled: Option<bool>,
    /// Domain enrollment modes (only an empty list is accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains_enrollment_modes: Option<Vec<String>>,
    /// The id of the role creators get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_role_id: Option<String>,
    /// The id of the role domain enrollment gives (domains are not supported: only null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains_default_role_id: Option<String>,
}
