//! Users and their identifiers (email addresses, phone numbers).

use async_trait::async_trait;
use serde_json::{Map, Value};
use usher_types::{ClerkError, Strategy};

use super::{Page, StoreResult};

/// A user and its identifiers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserRecord {
    /// `user_…`.
    pub id: String,
    /// Optimistic-concurrency counter, bumped by every update.
    pub version: i64,
    /// The application's own id for the user; unique.
    pub external_id: Option<String>,
    /// Unique case-insensitively.
    pub username: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Preferred locale.
    pub locale: Option<String>,
    /// A PHC string (`$argon2id$…` or `$2b$…` for imported bcrypt digests).
    pub password_hash: Option<String>,
    /// When the password was last set.
    pub password_updated_at: Option<i64>,
    /// Readable by the frontend.
    pub public_metadata: Map<String, Value>,
    /// Backend only.
    pub private_metadata: Map<String, Value>,
    /// Readable and writable by the frontend.
    pub unsafe_metadata: Map<String, Value>,
    /// One of `emails`.
    pub primary_email_address_id: Option<String>,
    /// One of `phones`.
    pub primary_phone_number_id: Option<String>,
    /// Banned users cannot sign in.
    pub banned: bool,
    /// Locked until this time; `i64::MAX` for "until unlocked".
    pub locked_until: Option<i64>,
    /// Consecutive failed sign-in attempts.
    pub failed_attempts: i64,
    /// Whether a verified authenticator app is a second factor (read only: [`super::FactorStore`] writes it).
    pub totp_enabled: bool,
    /// Whether unused backup codes are left (read only, likewise).
    pub backup_code_enabled: bool,
    /// Whether the user may delete their own account.
    pub delete_self_enabled: bool,
    /// Whether the user may create organizations.
    pub create_organization_enabled: bool,
    /// How many organizations the user may create.
    pub create_organizations_limit: Option<i64>,
    /// When the user accepted the legal terms.
    pub legal_accepted_at: Option<i64>,
    /// Last sign-in.
    pub last_sign_in_at: Option<i64>,
    /// Last activity.
    pub last_active_at: Option<i64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Email addresses, oldest first.
    pub emails: Vec<IdentifierRecord>,
    /// Phone numbers, oldest first.
    pub phones: Vec<IdentifierRecord>,
    /// Verified passkeys, oldest first, without their credentials (read only:
    /// [`super::PasskeyStore`] writes them and reads them whole).
    pub passkeys: Vec<super::PasskeyRecord>,
}

impl UserRecord {
    /// Whether the user has a second factor.
    pub fn two_factor_enabled(&self) -> bool {
        self.totp_enabled || self.backup_code_enabled
    }

    /// Whether the user is locked at `now`.
    pub fn is_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// The primary email address, if any.
    pub fn primary_email(&self) -> Option<&IdentifierRecord> {
        let id = self.primary_email_address_id.as_deref()?;
        self.emails.iter().find(|e| e.id == id)
    }

    /// The primary phone number, if any.
    pub fn primary_phone(&self) -> Option<&IdentifierRecord> {
        let id = self.primary_phone_number_id.as_deref()?;
        self.phones.iter().find(|e| e.id == id)
    }
}

/// An email address or phone number of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierRecord {
    /// `idn_…`.
    pub id: String,
    /// The address or number as given.
    pub value: String,
    /// Whether it is verified.
    pub verified: bool,
    /// How it was (or is to be) verified.
    pub strategy: Strategy,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Filters of the user list, as `GET /v1/users` takes them. Empty lists do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFilter {
    /// Any of these email addresses (case-insensitive).
    pub email_address: Vec<String>,
    /// Any of these phone numbers.
    pub phone_number: Vec<String>,
    /// Any of these external ids.
    pub external_id: Vec<String>,
    /// Any of these usernames (case-insensitive).
    pub username: Vec<String>,
    /// Any of these user ids.
    pub user_id: Vec<String>,
    /// None of these user ids.
    pub exclude_user_id: Vec<String>,
    /// A case-insensitive substring of an email, phone, username, name or id.
    pub query: Option<String>,
    /// Only banned (or only not banned) users.
    pub banned: Option<bool>,
    /// Created strictly before this time.
    pub created_at_before: Option<i64>,
    /// Created strictly after this time.
    pub created_at_after: Option<i64>,
    /// Active strictly before this time.
    pub last_active_at_before: Option<i64>,
    /// Active strictly after this time.
    pub last_active_at_after: Option<i64>,
    /// Signed in strictly before this time.
    pub last_sign_in_at_before: Option<i64>,
    /// Signed in strictly after this time.
    pub last_sign_in_at_after: Option<i64>,
    /// Only users locked at this time (the admin console's filter).
    pub locked_at: Option<i64>,
}

/// What users can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserOrder {
    /// `created_at`.
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
    /// `first_name`.
    FirstName,
    /// `last_name`.
    LastName,
    /// `username`.
    Username,
    /// `email_address` (the primary one).
    EmailAddress,
    /// `phone_number` (the primary one).
    PhoneNumber,
    /// `last_active_at`.
    LastActiveAt,
    /// `last_sign_in_at`.
    LastSignInAt,
}

/// A filtered, ordered page of users.
#[derive(Debug, Clone, PartialEq)]
pub struct UserQuery {
    /// Which users.
    pub filter: UserFilter,
    /// In which order.
    pub order_by: UserOrder,
    /// Descending when true.
    pub descending: bool,
    /// Which page.
    pub page: Page,
}

/// An in-place edit of a user, applied by [`UserStore::update_user`] inside its
/// read-modify-write (so it may run more than once). An `Err` abandons the update, leaves the
/// user unchanged and comes back as [`super::StoreError::Refused`].
pub type UserEdit<'a> = &'a mut (dyn FnMut(&mut UserRecord) -> Result<(), ClerkError> + Send);

/// Users and their identifiers.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user with its email addresses and phone numbers, all or nothing.
    async fn create_user(&self, user: &UserRecord) -> StoreResult<()>;
    /// A user with its identifiers.
    async fn get_user(&self, id: &str) -> StoreResult<Option<UserRecord>>;
    /// A page of users, with their identifiers.
    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<UserRecord>>;
    /// How many users match.
    async fn count_users(&self, filter: &UserFilter) -> StoreResult<i64>;
    /// Applies `edit` to the user's own fields (not its identifiers) without losing concurrent
    /// edits; `None` if there is no such user.
    async fn update_user(&self, id: &str, edit: UserEdit<'_>) -> StoreResult<Option<UserRecord>>;
    /// Counts a failed password or code in one statement: the `threshold`-th consecutive
    /// failure locks the user until `lock_until` and starts the count again.
    async fn record_failed_attempt(&self, id: &str, threshold: i64, lock_until: i64) -> StoreResult<()>;
    /// Deletes a user and everything it owns; returns what was deleted.
    async fn delete_user(&self, id: &str) -> StoreResult<Option<UserRecord>>;
    /// Adds an email address to a user ([`super::StoreError::Conflict`] if any user has it).
    async fn add_email_address(&self, user_id: &str, email: &IdentifierRecord) -> StoreResult<()>;
    /// Marks a user's email address verified by an emailed code; false if the user has no
    /// such address.
    async fn verify_email_address(&self, user_id: &str, id: &str, now: i64) -> StoreResult<bool>;
    /// Removes a user's email address; false if the user has no such address.
    async fn delete_email_address(&self, user_id: &str, id: &str) -> StoreResult<bool>;
}
