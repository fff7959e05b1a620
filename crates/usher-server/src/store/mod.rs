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
    /// Replaces a key's stored private key with its sealed form.
    async fn seal_signing_key(&self, kid: &str, sealed: &[u8]) -> StoreResult<()>;
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

    /// Records activity on a live session: `last_active_at = now`, `abandon_at`; the session after.
    async fn touch_session(&self, id: &str, now: i64, abandon_at: i64) -> StoreResult<Option<SessionRecord>>;

    /// Inserts a client.
    async fn create_client(&self, client: &ClientRecord) -> StoreResult<()>;
    /// A client.
    async fn get_client(&self, id: &str) -> StoreResult<Option<ClientRecord>>;
    /// Replaces a client's fields; false if there is no such client.
    async fn save_client(&self, client: &ClientRecord) -> StoreResult<bool>;

    /// Inserts or replaces an attempt.
    async fn save_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()>;
    /// An attempt.
    async fn get_attempt(&self, id: &str) -> StoreResult<Option<AttemptRecord>>;

    /// Stores `code` (replacing the subject's previous one) and queues `mail` in one
    /// transaction, so an issued code is never without its message.
    async fn issue_code(&self, code: &CodeRecord, mail: &MailRecord) -> StoreResult<()>;
    /// The subject's live code.
    async fn get_code(&self, subject_id: &str) -> StoreResult<Option<CodeRecord>>;
    /// Deletes the subject's code if it is still `code_hash`; true if this call used it.
    async fn consume_code(&self, subject_id: &str, code_hash: &str) -> StoreResult<bool>;
    /// Counts a wrong guess against the subject's code; returns the count.
    async fn code_failed(&self, subject_id: &str) -> StoreResult<i64>;

    /// Queues a message.
    async fn enqueue_mail(&self, mail: &MailRecord) -> StoreResult<()>;
    /// Up to `limit` unsent messages due at `now`, oldest first.
    async fn due_mail(&self, now: i64, limit: i64) -> StoreResult<Vec<MailRecord>>;
    /// Takes `mail` (as read by [`Store::due_mail`]) for sending until `until`, so no other node
    /// sends it meanwhile; false if another node took it first.
    async fn claim_mail(&self, mail: &MailRecord, until: i64) -> StoreResult<bool>;
    /// Marks a message sent and blanks its body.
    async fn mail_sent(&self, id: &str, now: i64) -> StoreResult<()>;
    /// Records a failed delivery; the next attempt is not before `retry_at`.
    async fn mail_failed(&self, id: &str, error: &str, retry_at: i64) -> StoreResult<()>;

    /// Adds an email address to a user ([`StoreError::Conflict`] if any user has it).
    async fn add_email_address(&self, user_id: &str, email: &IdentifierRecord) -> StoreResult<()>;
    /// Marks a user's email address verified; false if the user has no such address.
    async fn verify_email_address(&self, user_id: &str, id: &str, now: i64) -> StoreResult<bool>;
    /// Removes a user's email address; false if the user has no such address.
    async fn delete_email_address(&self, user_id: &str, id: &str) -> StoreResult<bool>;

    /// Inserts a sign-in token.
    async fn create_sign_in_token(&self, token: &SignInTokenRecord) -> StoreResult<()>;
    /// Accepts the pending, unexpired sign-in token with this hash; `None` unless this call
    /// accepted it (so a ticket signs in once).
    async fn accept_sign_in_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>>;
    /// Revokes a pending sign-in token; `None` if there is no such token. A token that is no
    /// longer pending is returned unchanged.
    async fn revoke_sign_in_token(&self, id: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>>;
}
