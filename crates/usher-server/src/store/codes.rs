//! One-time codes, kept only as keyed hashes.

use async_trait::async_trait;

use super::{MailRecord, StoreResult};

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

/// One-time codes.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores `code` (replacing the subject's previous one) and queues `mail` in one
    /// transaction, so an issued code is never without its message. Without a mail the code is
    /// a decoy nobody knows (for an identifier with no account), kept exactly like a real one.
    async fn issue_code(&self, code: &CodeRecord, mail: Option<&MailRecord>) -> StoreResult<()>;
    /// The subject's live code.
    async fn get_code(&self, subject_id: &str) -> StoreResult<Option<CodeRecord>>;
    /// Deletes the subject's code if it is still `code_hash`; true if this call used it.
    async fn consume_code(&self, subject_id: &str, code_hash: &str) -> StoreResult<bool>;
    /// Takes one of the subject's `max_guesses` guesses in one conditional write, so concurrent
    /// guesses never evaluate more than `max_guesses`; the code (with this guess counted), or
    /// `None` when there is no code or its guesses are spent.
    async fn take_guess(&self, subject_id: &str, max_guesses: i64) -> StoreResult<Option<CodeRecord>>;
    /// Deletes the subject's code, whatever it is (a password reset revokes outstanding codes).
    async fn delete_code(&self, subject_id: &str) -> StoreResult<()>;
}
