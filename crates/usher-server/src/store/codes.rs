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
    /// transaction, so an issued code is never without its message.
    async fn issue_code(&self, code: &CodeRecord, mail: &MailRecord) -> StoreResult<()>;
    /// The subject's live code.
    async fn get_code(&self, subject_id: &str) -> StoreResult<Option<CodeRecord>>;
    /// Deletes the subject's code if it is still `code_hash`; true if this call used it.
    async fn consume_code(&self, subject_id: &str, code_hash: &str) -> StoreResult<bool>;
    /// Counts a wrong guess against the subject's code; returns the count.
    async fn code_failed(&self, subject_id: &str) -> StoreResult<i64>;
}
