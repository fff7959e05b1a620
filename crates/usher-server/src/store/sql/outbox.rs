//! The mail outbox.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::SqlStore;
use crate::store::{Change, EmailView, MailRecord, OutboxStore, StoreResult};

const MAIL_COLUMNS: &str = "id, to_address, subject, body, attempts, next_attempt_at, sent_at, last_error, created_at";

impl SqlStore {
    /// Emits `email.created` for `mail`, queued in `tx`, naming the address record it goes to
    /// (looked up only when events are rendered at all).
    pub(super) async fn emit_mail(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        mail: &MailRecord,
    ) -> StoreResult<()> {
        if self.events.is_none() {
            return Ok(());
        }
        let row = sqlx::query("SELECT id, user_id FROM email_addresses WHERE email_lower = $1")
            .bind(mail.to.to_lowercase())
            .fetch_optional(&mut **tx)
            .await?;
        let (email_address_id, user_id) = match row {
            Some(r) => (Some(r.try_get("id")?), Some(r.try_get("user_id")?)),
            None => (None, None),
        };
        let view = EmailView { mail: mail.clone(), email_address_id, user_id };
        self.emit(tx, &[Change::EmailCreated(&view)]).await
    }
}

#[async_trait]
impl OutboxStore for SqlStore {
    async fn enqueue_mail(&self, mail: &MailRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_mail(&mut *tx, mail).await?;
        self.emit_mail(&mut tx, mail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn due_mail(&self, now: i64, limit: i64) -> StoreResult<Vec<MailRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {MAIL_COLUMNS} FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY created_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    async fn claim_mail(&self, mail: &MailRecord, until: i64) -> StoreResult<bool> {
        // Succeeds only if nobody moved `next_attempt_at` since `mail` was read.
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $3 WHERE id = $1 AND next_attempt_at = $2 AND sent_at IS NULL",
        )
        .bind(&mail.id)
        .bind(mail.next_attempt_at)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn mail_sent(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET sent_at = $2, body = '', attempts = attempts + 1 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn mail_failed(&self, id: &str, error: &str, retry_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1")
            .bind(id)
            .bind(error)
            .bind(retry_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Queues a message (also inside the transaction that issues its code).
pub(super) async fn insert_mail<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    m: &MailRecord,
) -> StoreResult<()> {
    sqlx::query(&format!("INSERT INTO outbox ({MAIL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
        .bind(&m.id)
        .bind(&m.to)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(m.attempts)
        .bind(m.next_attempt_at)
        .bind(m.sent_at)
        .bind(m.last_error.as_deref())
        .bind(m.created_at)
        .execute(executor)
        .await?;
    Ok(())
}

fn mail_from_row(row: &AnyRow) -> StoreResult<MailRecord> {
    Ok(MailRecord {
        id: row.try_get("id")?,
        to: row.try_get("to_address")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        sent_at: row.try_get("sent_at")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
    })
}
