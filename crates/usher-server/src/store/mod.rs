//! Storage: a narrow [`Store`] trait and its SQL implementation for SQLite and PostgreSQL.
//!
//! Everything that must survive a restart or be shared between nodes lives behind this trait.
//! Uniqueness (email addresses case-insensitively, phone numbers, usernames, external ids,
//! template names) is enforced by the database and reported as [`StoreError::Conflict`]; callers
//! never check-then-insert.
//!
//! Layout: `records` (the rows), `sql` (the one implementation, written in SQL both backends
//! accept), `sqlite` and `postgres` (opening each backend with its own settings and migrations).

mod records;
mod sql;

pub use records::*;
pub use sql::SqlStore;

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
    /// Stored data could not be decoded (for example corrupt JSON).
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

/// An in-place edit of a user, applied by [`Store::update_user`] inside its read-modify-write.
/// Returning false abandons the update (the caller noted why) and leaves the user unchanged.
pub type UserEdit<'a> = &'a (dyn Fn(&mut UserRecord) -> bool + Send + Sync);

/// Everything usher keeps.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Checks the database answers (for `/readyz`).
    async fn ping(&self) -> StoreResult<()>;

    /// Reads an instance setting.
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` under `key` unless the key exists; returns the value now stored. Nodes
    /// starting at once agree on one value this way.
    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String>;

    /// All signing keys, newest first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Inserts `key` only if there is no signing key yet (first start).
    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()>;
    /// Retires every current key at `key.activates_at`, keeping each published for
    /// `publish_margin_ms` past its longest token lifetime, and adds `key`; atomically.
    async fn rotate_signing_key(&self, key: &SigningKeyRecord, publish_margin_ms: i64) -> StoreResult<()>;
    /// Raises a key's recorded longest token lifetime to `seconds` if that is longer.
    async fn record_key_lifetime(&self, kid: &str, seconds: i64) -> StoreResult<()>;

    /// Inserts a user with its email addresses and phone numbers, all or nothing.
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// A user with its identifiers.
    async fn get_user(&self, id: &str) -> StoreResult<Option<UserRecord>>;
    /// A page of users.
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<UserRecord>>;
    /// How many users match.
    async fn count_users(&self, filter: &UserFilter) -> StoreResult<i64>;
    /// Applies `edit` to the user's own fields (not its identifiers) without losing concurrent
    /// edits; `None` if there is no such user. When `edit` abandons, the user as read is returned.
    async fn update_user(&self, id: &str, edit: UserEdit<'_>) -> StoreResult<Option<UserRecord>>;
    /// Deletes a user and everything it owns; returns what was deleted.
    async fn delete_user(&self, id: &str) -> StoreResult<Option<UserRecord>>;

    /// Inserts a session.
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// A session.
    async fn get_session(&self, id: &str) -> StoreResult<Option<SessionRecord>>;
    /// A page of sessions, newest first, and how many match in all.
    async fn list_sessions(&self, filter: &SessionFilter, page: Page) -> StoreResult<(Vec<SessionRecord>, i64)>;
    /// Ends a live (active or pending) session with `status`; `None` if there is no such session.
    /// A session that already ended is returned unchanged.
    async fn end_session(&self, id: &str, status: &str, now: i64) -> StoreResult<Option<SessionRecord>>;
    /// Ends every live session of a user with `status`; returns how many.
    async fn end_user_sessions(&self, user_id: &str, status: &str, now: i64) -> StoreResult<u64>;

    /// Inserts a template.
    async fn create_template(&self, template: &TemplateRecord) -> StoreResult<()>;
    /// A template by id.
    async fn get_template(&self, id: &str) -> StoreResult<Option<TemplateRecord>>;
    /// A template by its unique name.
    async fn get_template_by_name(&self, name: &str) -> StoreResult<Option<TemplateRecord>>;
    /// A page of templates by creation time, and how many there are.
    async fn list_templates(&self, page: Page) -> StoreResult<(Vec<TemplateRecord>, i64)>;
    /// Replaces a template; false if there is no such template.
    async fn update_template(&self, template: &TemplateRecord) -> StoreResult<bool>;
    /// Deletes a template; false if there was none.
    async fn delete_template(&self, id: &str) -> StoreResult<bool>;

    /// Inserts a sign-in token.
    async fn create_sign_in_token(&self, token: &SignInTokenRecord) -> StoreResult<()>;
    /// Revokes a pending sign-in token; `None` if there is no such token. A token that is no
    /// longer pending is returned unchanged.
    async fn revoke_sign_in_token(&self, id: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>>;
}
