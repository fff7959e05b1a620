//! The mail outbox: messages queued with the change that caused them, sent by a worker.

use async_trait::async_trait;

use super::StoreResult;

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
/// The mail outbox.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues a message.
    async fn enqueue_mail(&self, mail: &MailRecord) -> StoreResult<()>;
    /// Up to `limit` unsent messages due at `now`, oldest first.
    async fn due_mail(&self, now: i64, limit: i64) -> StoreResult<Vec<MailRecord>>;
    /// Takes `mail` (as read by [`OutboxStore::due_mail`]) for sending until `until`, so no other
    /// node sends it meanwhile; false if another node took it first.
    async fn claim_mail(&self, mail: &MailRecord, until: i64) -> StoreResult<bool>;
    /// Marks a message sent and blanks its body.
    async fn mail_sent(&self, id: &str, now: i64) -> StoreResult<()>;
    /// Records a failed delivery; the next attempt is not before `retry_at`.
    async fn mail_failed(&self, id: &str, error: &str, retry_at: i64) -> StoreResult<()>;
}
