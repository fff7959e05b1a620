//! The audit log: who did what to whom, from where, and how it ended. Append-only (the only
//! removal is [`AuditStore::prune_audit`], for the retention period), and never holding a
//! password, code or token: `detail` is a short note (a route, a reason), not a payload.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Page, StoreResult};

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorType {
    /// A signed-in user acting on their own account (or someone trying to sign in as one).
    User,
    /// An instance admin, through the admin console.
    Admin,
    /// A caller holding the instance's secret key (the Backend API).
    SecretKey,
    /// usher itself, or an operator at its command line.
    System,
}

impl ActorType {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
            Self::SecretKey => "secret_key",
            Self::System => "system",
        }
    }

    /// The type named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::User, Self::Admin, Self::SecretKey, Self::System].into_iter().find(|t| t.as_str() == s)
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It was done.
    Success,
    /// It was refused or failed; `reason` says why.
    Failure,
}

impl Outcome {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }

    /// The outcome named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Success, Self::Failure].into_iter().find(|o| o.as_str() == s)
    }
}

/// What was done. Security events have their own names; any other Backend API write is
/// [`AuditAction::BackendWrite`] with the method and route in `detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    /// A sign-in completed (a session was created).
    #[serde(rename = "sign_in.succeeded")]
    SignInSucceeded,
    /// A sign-in attempt was refused (`reason`: wrong password, wrong code, banned, locked…).
    #[serde(rename = "sign_in.failed")]
    SignInFailed,
    /// An impersonation session started from an actor token.
    #[serde(rename = "impersonation.started")]
    ImpersonationStarted,
    /// Failed attempts locked the account.
    #[serde(rename = "user.locked")]
    UserLocked,
    /// The account was unlocked.
    #[serde(rename = "user.unlocked")]
    UserUnlocked,
    /// The user was banned.
    #[serde(rename = "user.banned")]
    UserBanned,
    /// The user was unbanned.
    #[serde(rename = "user.unbanned")]
    UserUnbanned,
    /// The user was created.
    #[serde(rename = "user.created")]
    UserCreated,
    /// The user was deleted.
    #[serde(rename = "user.deleted")]
    UserDeleted,
    /// The user's metadata was changed.
    #[serde(rename = "user.metadata_updated")]
    MetadataUpdated,
    /// The password was changed by its owner, or set by an admin.
    #[serde(rename = "password.changed")]
    PasswordChanged,
    /// The password was reset with an emailed code.
    #[serde(rename = "password.reset")]
    PasswordReset,
    /// A second factor was added.
    #[serde(rename = "factor.added")]
    FactorAdded,
    /// A second factor was removed.
    #[serde(rename = "factor.removed")]
    FactorRemoved,
    /// One session was revoked.
    #[serde(rename = "session.revoked")]
    SessionRevoked,
    /// Every session of the user was revoked.
    #[serde(rename = "session.revoked_all")]
    SessionsRevoked,
    /// An actor token was issued.
    #[serde(rename = "actor_token.created")]
    ActorTokenCreated,
    /// The instance-admin role was granted.
    #[serde(rename = "admin.granted")]
    AdminGranted,
    /// The instance-admin role was taken away.
    #[serde(rename = "admin.revoked")]
    AdminRevoked,
    /// The admin console refused someone who is not an instance admin.
    #[serde(rename = "admin.denied")]
    AdminDenied,
    /// A Backend API write not named above (`detail`: method and route).
    #[serde(rename = "backend.write")]
    BackendWrite,
    /// A new signing key was added (the old ones stay published until their tokens expire).
    #[serde(rename = "signing_key.rotated")]
    KeyRotated,
    // The admin console's organization and webhook screens.
    /// An organization was created.
    #[serde(rename = "organization.created")]
    OrganizationCreated,
    /// An organization's profile or metadata was changed.
    #[serde(rename = "organization.updated")]
    OrganizationUpdated,
    /// An organization was deleted.
    #[serde(rename = "organization.deleted")]
    OrganizationDeleted,
    /// A user was made a member of an organization.
    #[serde(rename = "organization_membership.created")]
    MembershipCreated,
    /// A member's role was changed.
    #[serde(rename = "organization_membership.updated")]
    MembershipUpdated,
    /// A member was removed from an organization.
    #[serde(rename = "organization_membership.deleted")]
    MembershipDeleted,
    /// Someone was invited to an organization.
    #[serde(rename = "organization_invitation.created")]
    InvitationCreated,
    /// An invitation was revoked.
    #[serde(rename = "organization_invitation.revoked")]
    InvitationRevoked,
    /// An organization role was created.
    #[serde(rename = "role.created")]
    RoleCreated,
    /// An organization role was changed (name, description, permissions).
    #[serde(rename = "role.updated")]
    RoleUpdated,
    /// An organization role was deleted.
    #[serde(rename = "role.deleted")]
    RoleDeleted,
    /// A webhook endpoint was created.
    #[serde(rename = "webhook_endpoint.created")]
    WebhookEndpointCreated,
    /// A webhook endpoint was changed, enabled or disabled.
    #[serde(rename = "webhook_endpoint.updated")]
    WebhookEndpointUpdated,
    /// A webhook endpoint was deleted.
    #[serde(rename = "webhook_endpoint.deleted")]
    WebhookEndpointDeleted,
    /// A webhook endpoint's signing secret was replaced.
    #[serde(rename = "webhook_endpoint.secret_rotated")]
    WebhookSecretRotated,
    /// A webhook message was queued for delivery again.
    #[serde(rename = "webhook_message.replayed")]
    WebhookMessageReplayed,
    /// A JWT template was created (`detail`: its name).
    #[serde(rename = "jwt_template.created")]
    TemplateCreated,
    /// A JWT template was changed (`detail`: its name).
    #[serde(rename = "jwt_template.updated")]
    TemplateUpdated,
    /// A JWT template was deleted.
    #[serde(rename = "jwt_template.deleted")]
    TemplateDeleted,
    /// Runtime instance settings were changed (`detail`: which group and what changed).
    #[serde(rename = "instance_settings.updated")]
    SettingsUpdated,
    /// A custom organization permission was created (`detail`: its key).
    #[serde(rename = "permission.created")]
    PermissionCreated,
    /// A custom organization permission was changed (`detail`: its key).
    #[serde(rename = "permission.updated")]
    PermissionUpdated,
    /// A custom organization permission was deleted (`detail`: its key).
    #[serde(rename = "permission.deleted")]
    PermissionDeleted,
}

impl AuditAction {
    /// Every action, for parsing and for the console's filter.
    pub const ALL: [Self; 45] = [
        Self::SignInSucceeded,
        Self::SignInFailed,
        Self::ImpersonationStarted,
        Self::UserLocked,
        Self::UserUnlocked,
        Self::UserBanned,
        Self::UserUnbanned,
        Self::UserCreated,
        Self::UserDeleted,
        Self::MetadataUpdated,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::FactorAdded,
        Self::FactorRemoved,
        Self::SessionRevoked,
        Self::SessionsRevoked,
        Self::ActorTokenCreated,
        Self::AdminGranted,
        Self::AdminRevoked,
        Self::AdminDenied,
        Self::BackendWrite,
        Self::KeyRotated,
        Self::OrganizationCreated,
        Self::OrganizationUpdated,
        Self::OrganizationDeleted,
        Self::MembershipCreated,
        Self::MembershipUpdated,
        Self::MembershipDeleted,
        Self::InvitationCreated,
        Self::InvitationRevoked,
        Self::RoleCreated,
        Self::RoleUpdated,
        Self::RoleDeleted,
        Self::WebhookEndpointCreated,
        Self::WebhookEndpointUpdated,
        Self::WebhookEndpointDeleted,
        Self::WebhookSecretRotated,
        Self::WebhookMessageReplayed,
        Self::TemplateCreated,
        Self::TemplateUpdated,
        Self::TemplateDeleted,
        Self::SettingsUpdated,
        Self::PermissionCreated,
        Self::PermissionUpdated,
        Self::PermissionDeleted,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInSucceeded => "sign_in.succeeded",
            Self::SignInFailed => "sign_in.failed",
            Self::ImpersonationStarted => "impersonation.started",
            Self::UserLocked => "user.locked",
            Self::UserUnlocked => "user.unlocked",
            Self::UserBanned => "user.banned",
            Self::UserUnbanned => "user.unbanned",
            Self::UserCreated => "user.created",
            Self::UserDeleted => "user.deleted",
            Self::MetadataUpdated => "user.metadata_updated",
            Self::PasswordChanged => "password.changed",
            Self::PasswordReset => "password.reset",
            Self::FactorAdded => "factor.added",
            Self::FactorRemoved => "factor.removed",
            Self::SessionRevoked => "session.revoked",
            Self::SessionsRevoked => "session.revoked_all",
            Self::ActorTokenCreated => "actor_token.created",
            Self::AdminGranted => "admin.granted",
            Self::AdminRevoked => "admin.revoked",
            Self::AdminDenied => "admin.denied",
            Self::BackendWrite => "backend.write",
            Self::KeyRotated => "signing_key.rotated",
            Self::OrganizationCreated => "organization.created",
            Self::OrganizationUpdated => "organization.updated",
            Self::OrganizationDeleted => "organization.deleted",
            Self::MembershipCreated => "organization_membership.created",
            Self::MembershipUpdated => "organization_membership.updated",
            Self::MembershipDeleted => "organization_membership.deleted",
            Self::InvitationCreated => "organization_invitation.created",
            Self::InvitationRevoked => "organization_invitation.revoked",
            Self::RoleCreated => "role.created",
            Self::RoleUpdated => "role.updated",
            Self::RoleDeleted => "role.deleted",
            Self::WebhookEndpointCreated => "webhook_endpoint.created",
            Self::WebhookEndpointUpdated => "webhook_endpoint.updated",
            Self::WebhookEndpointDeleted => "webhook_endpoint.deleted",
            Self::WebhookSecretRotated => "webhook_endpoint.secret_rotated",
            Self::WebhookMessageReplayed => "webhook_message.replayed",
            Self::TemplateCreated => "jwt_template.created",
            Self::TemplateUpdated => "jwt_template.updated",
            Self::TemplateDeleted => "jwt_template.deleted",
            Self::SettingsUpdated => "instance_settings.updated",
            Self::PermissionCreated => "permission.created",
            Self::PermissionUpdated => "permission.updated",
            Self::PermissionDeleted => "permission.deleted",
        }
    }

    /// The action named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// `aud_…`; ordered with `at`.
    pub id: String,
    /// When, in ms since the epoch.
    pub at: i64,
    /// Who acted.
    pub actor_type: ActorType,
    /// The acting user or admin (`user_…`); `None` for the secret key and the system.
    pub actor_id: Option<String>,
    /// The impersonator (an actor token's `actor.sub`) when the actor acted in an
    /// impersonation session.
    pub via_actor: Option<String>,
    /// The record acted on (`user_…`, `sess_…`, …).
    pub subject_id: Option<String>,
    /// What was done.
    pub action: AuditAction,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it failed (a Clerk error code like `form_password_incorrect`), or a status.
    pub reason: Option<String>,
    /// A short note: the Backend API route, the factor, the identifier typed.
    pub detail: Option<String>,
    /// The client's address (blank outside a request).
    pub client_ip: String,
    /// Its `User-Agent` (blank outside a request).
    pub user_agent: String,
}

/// Filters of the audit log; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Entries by this actor (`user_…`).
    pub actor_id: Option<String>,
    /// Entries by this kind of actor.
    pub actor_type: Option<ActorType>,
    /// Entries about this subject.
    pub subject_id: Option<String>,
    /// Entries that concern this user as actor or subject (a user's history).
    pub involving: Option<String>,
    /// Entries of these actions (empty: all).
    pub actions: Vec<AuditAction>,
    /// Entries with this outcome.
    pub outcome: Option<Outcome>,
    /// At or after this time (ms).
    pub since: Option<i64>,
    /// Strictly before this time (ms).
    pub until: Option<i64>,
}

/// An audit entry that a write appends in its own transaction: the change and its entry
/// commit together or not at all. The first transaction that changes something through
/// [`AuditStore::audited`]'s store writes it; later ones do not write it again.
#[derive(Debug)]
pub struct PendingAudit {
    /// The entry.
    pub entry: AuditEntry,
    written: std::sync::atomic::AtomicBool,
}

impl PendingAudit {
    /// An entry not yet written.
    pub fn new(entry: AuditEntry) -> Self {
        Self { entry, written: std::sync::atomic::AtomicBool::new(false) }
    }

    /// Claims the entry for the transaction about to write it (`false`: another one did).
    pub fn claim(&self) -> bool {
        !self.written.swap(true, std::sync::atomic::Ordering::AcqRel)
    }

    /// Whether a write took the entry (when that write succeeded, its transaction committed it).
    pub fn written(&self) -> bool {
        self.written.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// The audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an entry.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    /// This store, with the next write that changes something appending `pending` inside its
    /// transaction (an audited write; see [`PendingAudit`]).
    fn audited(&self, pending: std::sync::Arc<PendingAudit>) -> std::sync::Arc<dyn super::Store>;
    /// A page of entries, newest first, and how many match in all.
    async fn list_audit(&self, filter: &AuditFilter, page: Page) -> StoreResult<(Vec<AuditEntry>, i64)>;
    /// Entries oldest first after `after` (an entry id; `None`: from the start), at most `limit`:
    /// what an export walks without holding the whole log.
    async fn audit_after(&self, filter: &AuditFilter, after: Option<&str>, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// Removes entries older than `before` (ms); how many.
    async fn prune_audit(&self, before: i64) -> StoreResult<u64>;
}

/// Instance admins: users who may enter the admin console.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Makes the user an instance admin; `false` if they were one already.
    async fn add_admin(&self, user_id: &str, now: i64) -> StoreResult<bool>;
    /// Takes the role away; `false` if they did not have it.
    async fn remove_admin(&self, user_id: &str) -> StoreResult<bool>;
    /// Whether the user is an instance admin.
    async fn is_admin(&self, user_id: &str) -> StoreResult<bool>;
    /// Every instance admin's user id with when it was granted, oldest first.
    async fn list_admins(&self) -> StoreResult<Vec<(String, i64)>>;
}
