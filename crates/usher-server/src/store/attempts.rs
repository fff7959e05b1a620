//! Sign-in and sign-up attempts, and what finishing one writes.

use async_trait::async_trait;

use serde_json::Value;

use super::{ClientRecord, SessionRecord, StoreResult, UserRecord};

/// What an attempt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptKind {
    /// A sign-in (`sia_…`).
    SignIn,
    /// A sign-up (`sua_…`).
    SignUp,
}

impl AttemptKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignUp => "sign_up",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sign_in" => Some(Self::SignIn),
            "sign_up" => Some(Self::SignUp),
            _ => None,
        }
    }
}

/// A sign-in or sign-up attempt, stored as a JSON document (`data`) the Frontend API owns.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// `sia_…` or `sua_…`.
    pub id: String,
    /// The client it belongs to.
    pub client_id: String,
    /// A sign-in or a sign-up.
    pub kind: AttemptKind,
    /// The attempt's state.
    pub data: Value,
    /// When it is abandoned.
    pub expire_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Everything a finished sign-in or sign-up writes, applied in one transaction so a browser
/// never sees half of it: the new session, the session it replaces, the new user (sign-up),
/// the user's sign-in marks, the attempt and the client.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    /// The attempt, now complete.
    pub attempt: &'a AttemptRecord,
    /// The client after (current session, rotated cookie secret, current attempt).
    pub client: &'a ClientRecord,
    /// The session the attempt created.
    pub session: &'a SessionRecord,
    /// The client's earlier session, which the new one ends (one session per browser).
    pub replaces: Option<&'a str>,
    /// The user a sign-up creates, inserted first.
    pub new_user: Option<&'a UserRecord>,
    /// The user a sign-in signs in, as the sign-in read it: its `user.updated` event (the new
    /// `last_sign_in_at`) is this record with the marks the transaction writes, so the hot path
    /// reads nothing more.
    pub signed_in: Option<&'a UserRecord>,
    /// The provider account an OAuth sign-in links (or a transfer sign-up creates the user
    /// with), inserted after the user.
    pub new_external_account: Option<&'a super::ExternalAccountRecord>,
    /// The audit-log entry of the sign-in, written with it.
    pub audit: Option<&'a super::AuditEntry>,
}

/// Attempts.
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// Inserts or replaces an attempt; with `client`, saves the client in the same transaction
    /// (when the attempt became the client's current one).
    async fn save_attempt(&self, attempt: &AttemptRecord, client: Option<&ClientRecord>) -> StoreResult<()>;
    /// An attempt.
    async fn get_attempt(&self, id: &str) -> StoreResult<Option<AttemptRecord>>;
    /// Writes a finished attempt, all or nothing (see [`Completion`]); a new user whose
    /// identifier was taken meanwhile is a conflict and nothing is written.
    async fn complete_attempt(&self, completion: Completion<'_>) -> StoreResult<()>;
}
