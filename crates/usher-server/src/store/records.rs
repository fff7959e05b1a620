//! The rows the store keeps. Times are milliseconds since the Unix epoch.

use serde_json::{Map, Value};

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
}

impl UserRecord {
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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentifierRecord {
    /// `idn_…`.
    pub id: String,
    /// The address or number as given.
    pub value: String,
    /// Whether it is verified.
    pub verified: bool,
    /// How it was (or is to be) verified: `admin`, `email_code`, `phone_code`.
    pub strategy: String,
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

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// At most this many rows.
    pub limit: i64,
    /// After skipping this many.
    pub offset: i64,
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

/// A session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionRecord {
    /// `sess_…`.
    pub id: String,
    /// The signed-in user.
    pub user_id: String,
    /// The client the session lives on.
    pub client_id: String,
    /// `active`, `pending`, `ended`, `revoked`, …
    pub status: String,
    /// The impersonator, as JSON.
    pub actor: Option<Value>,
    /// The organization last made active.
    pub last_active_organization_id: Option<String>,
    /// Last activity.
    pub last_active_at: i64,
    /// End of the session's maximum lifetime.
    pub expire_at: i64,
    /// End of the session if it stays inactive.
    pub abandon_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

impl SessionRecord {
    /// Whether the session can mint tokens at `now`: live, and within both of its lifetimes.
    pub fn is_live(&self, now: i64) -> bool {
        matches!(self.status.as_str(), "active" | "pending") && now < self.expire_at && now < self.abandon_at
    }
}

/// Filters of the session list. `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Sessions of this user.
    pub user_id: Option<String>,
    /// Sessions on this client.
    pub client_id: Option<String>,
    /// Sessions in this status.
    pub status: Option<String>,
}

/// A JWT template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateRecord {
    /// `jtmp_…`.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Claims with shortcodes.
    pub claims: Value,
    /// Token lifetime, seconds.
    pub lifetime: i64,
    /// `nbf` back-dating, seconds.
    pub allowed_clock_skew: i64,
    /// Whether `signing_key` signs instead of the instance key.
    pub custom_signing_key: bool,
    /// `RS256` … `HS512`.
    pub signing_algorithm: String,
    /// The template's own secret or private key (PEM), when `custom_signing_key`.
    pub signing_key: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A Backend API sign-in token. Only a hash of the secret is kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignInTokenRecord {
    /// `sit_…`.
    pub id: String,
    /// The user it signs in.
    pub user_id: String,
    /// SHA-256 of the secret, hex.
    pub token_hash: String,
    /// `pending`, `accepted` or `revoked`.
    pub status: String,
    /// When it stops working.
    pub expire_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// An instance signing key (RSA-2048, e=65537).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigningKeyRecord {
    /// Key id, `ins_…`-style, shown as `kid`.
    pub kid: String,
    /// PKCS#8 DER of the private key.
    pub private_der: Vec<u8>,
    /// Creation time.
    pub created_at: i64,
    /// From when it signs (it is published before that).
    pub activates_at: i64,
    /// When a newer key replaced it.
    pub retired_at: Option<i64>,
    /// Until when its public half stays in the JWKS.
    pub publish_until: Option<i64>,
    /// The longest lifetime, in seconds, of any token it signed.
    pub max_lifetime: i64,
}

/// A browser (Clerk's "client"). The `__client` cookie carries its id and a secret whose hash is
/// kept here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientRecord {
    /// `client_…`.
    pub id: String,
    /// Keyed hash of the cookie secret, hex; replaced on every sign-in and sign-out.
    pub token_hash: String,
    /// The sign-in in progress.
    pub sign_in_id: Option<String>,
    /// The sign-up in progress.
    pub sign_up_id: Option<String>,
    /// The session the browser uses.
    pub last_active_session_id: Option<String>,
    /// When the cookie expires.
    pub expire_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A sign-in or sign-up attempt, stored as a JSON document (`data`) the Frontend API owns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttemptRecord {
    /// `sia_…` or `sua_…`.
    pub id: String,
    /// The client it belongs to.
    pub client_id: String,
    /// `sign_in` or `sign_up`.
    pub kind: String,
    /// The attempt's state.
    pub data: Value,
    /// When it is abandoned.
    pub expire_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A one-time code, kept only as a keyed hash, for one subject (an attempt or an email address).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CodeRecord {
    /// What the code verifies.
    pub subject_id: String,
    /// Keyed hash of the code, hex.
    pub code_hash: String,
    /// Wrong guesses so far.
    pub attempts: i64,
    /// When it stops working.
    pub expire_at: i64,
    /// Creation time.
    pub created_at: i64,
}

/// A message in the mail outbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailRecord {
    /// `mail_…`.
    pub id: String,
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body (blank once sent).
    pub body: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Not before this time.
    pub next_attempt_at: i64,
    /// When it was delivered.
    pub sent_at: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: i64,
}
