//! Storage: one trait per resource, and their SQL implementation for SQLite and PostgreSQL.
//!
//! Everything that must survive a restart or be shared between nodes lives behind these
//! traits. Each resource has its records and its trait in one module here ([`users`],
//! [`sessions`], [`clients`], [`attempts`], [`codes`], [`outbox`], [`sign_in_tokens`],
//! [`keys`], [`settings`], [`templates`], [`organizations`], [`webhooks`]) and its SQL in the file of the same name under `sql/`.
//! [`Store`] is all of them at once, which is what the server holds. Uniqueness (email addresses
//! case-insensitively, phone numbers, usernames, external ids, template names) is enforced by
//! the database and reported as [`StoreError::Conflict`]; callers never check-then-insert.
//!
//! A method's name says what it does to which resource, and there is one name per operation.

pub mod attempts;
pub mod clients;
pub mod codes;
pub mod decoy_emails;
pub mod external_accounts;
pub mod factors;
pub mod keys;
pub mod organizations;
pub mod outbox;
pub mod sessions;
pub mod settings;
pub mod sign_in_tokens;
mod sql;
pub mod templates;
pub mod users;
pub mod webhooks;
// Operations: scrape-time figures and bulk user import/export.
pub mod gauges;
pub mod imports;
// Passkeys (WebAuthn).
pub mod passkeys;
// Admin: the audit log and instance admins.
pub mod audit;

pub use attempts::*;
pub use clients::*;
pub use codes::*;
pub use decoy_emails::*;
pub use external_accounts::*;
pub use factors::*;
pub use gauges::*;
pub use imports::*;
pub use keys::*;
pub use organizations::*;
pub use outbox::*;
pub use passkeys::*;
pub use sessions::*;
pub use settings::*;
pub use sign_in_tokens::*;
pub use sql::{Backend, SqlStore};
pub use templates::*;
pub use users::*;
pub use webhooks::*;
// Admin: the audit log and instance admins.
pub use audit::*;

use async_trait::async_trait;

/// Which column a uniqueness conflict was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueField {
    /// `email_addresses.email_lower`.
    EmailAddress,
    /// `phone_numbers.phone_number`.
    PhoneNumber,
    /// `users.username_lower`.
    Username,
    /// `users.external_id`.
    ExternalId,
    /// `jwt_templates.name`.
    TemplateName,
    /// `organizations.slug`.
    OrganizationSlug,
    /// One membership per user and organization.
    Membership,
    /// `organization_roles.role_key`.
    RoleKey,
    /// `organization_permissions.permission_key`.
    PermissionKey,
    /// `external_accounts (provider, provider_user_id)`: the provider account is linked already.
    ExternalAccount,
    /// Anything else (an id collision, which 160 random bits make theoretical).
    Other,
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; nothing was written.
    #[error("unique constraint violated on {0:?}")]
    Conflict(UniqueField),
    /// The row changed under a read-modify-write too many times in a row.
    #[error("too much contention updating {0}")]
    Contention(String),
    /// A [`UserEdit`] refused the change, for the reason it gives; nothing was written.
    #[error("edit refused: {}", .0.message)]
    Refused(usher_types::ClerkError),
    /// Stored data could not be decoded (for example corrupt JSON or an unknown state).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Shorthand for storage results.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// At most this many rows.
    pub limit: i64,
    /// After skipping this many.
    pub offset: i64,
}

/// Everything usher keeps: every resource's store at once. The server holds an
/// `Arc<dyn Store>`; code that needs one resource can take `&dyn UserStore` and so on.
#[async_trait]
pub trait Store:
    UserStore
    + SessionStore
    + ClientStore
    + AttemptStore
    + CodeStore
    + OutboxStore
    + SignInTokenStore
    + KeyStore
    + SettingStore
    + TemplateStore
    + OrganizationStore
    + RoleStore
    + ExternalAccountStore
    + FactorStore
    + WebhookStore
    + DecoyEmailStore
    + GaugeStore
    + ImportStore
    + PasskeyStore
    // Admin: the audit log and instance admins.
    + AuditStore
    + AdminStore
{
    /// Checks the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;
}
