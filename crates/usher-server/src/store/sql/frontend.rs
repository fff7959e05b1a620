//! What the Frontend API keeps: clients, attempts, one-time codes, the mail outbox, and the
//! email addresses users add themselves.

use sqlx::{Row, any::AnyRow};

use super::{SqlStore, map_write_err};
use crate::store::{
    AttemptRecord, ClientRecord, CodeRecord, IdentifierRecord, MailRecord, SessionRecord, StoreError, StoreResult,
};

const CLIENT_COLUMNS: &str =
    "id, token_hash, sign_in_id, sign_up_id, last_active_session_id, expire_at, created_at, updated_at";
const MAIL_COLUMNS: &str = "id, to_address, subject, body, attempts, next_attempt_at, sent_at, last_error, created_at";

fn client_from_row(row: &AnyRow) -> StoreResult<ClientRecord> {
    Ok(ClientRecord {
        id: row.try_get("id")?,
        token_hash: row.try_get("token_hash")?,
        sign_in_id: row.try_get("sign_in_id")?,
        sign_up_id: row.try_get("sign_up_id")?,
        last_active_session_id: row.try_get("last_active_session_id")?,
        expire_at: row.try_get("expire_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
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

impl SqlStore {
    pub(super) async fn touch_session_row(
        &self,
        id: &str,
        now: i64,
        abandon_at: i64,
    ) -> StoreResult<Option<SessionRecord>> {
        sqlx::query(
            "UPDATE sessions SET last_active_at = $2, abandon_at = $3, updated_at = $2 \
             WHERE id = $1 AND status IN ('active', 'pending')",
        )
        .bind(id)
        .bind(now)
        .bind(abandon_at)
        .execute(&self.pool)
        .await?;
        crate::store::Store::get_session(self, id).await
    }

    pub(super) async fn insert_client(&self, c: &ClientRecord) -> StoreResult<()> {
        sqlx::query(&format!("INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(&c.id)
            .bind(&c.token_hash)
            .bind(c.sign_in_id.as_deref())
            .bind(c.sign_up_id.as_deref())
            .bind(c.last_active_session_id.as_deref())
            .bind(c.expire_at)
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(&self.pool)
            .await
            .map_err(map_write_err)?;
        Ok(())
    }

    pub(super) async fn client_by_id(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        let row = sqlx::query(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    pub(super) async fn update_client(&self, c: &ClientRecord) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE clients SET token_hash = $2, sign_in_id = $3, sign_up_id = $4, last_active_session_id = $5, \
             expire_at = $6, updated_at = $7 WHERE id = $1",
        )
        .bind(&c.id)
        .bind(&c.token_hash)
        .bind(c.sign_in_id.as_deref())
        .bind(c.sign_up_id.as_deref())
        .bind(c.last_active_session_id.as_deref())
        .bind(c.expire_at)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn upsert_attempt(&self, a: &AttemptRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO attempts (id, client_id, kind, data, expire_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET data = $4, expire_at = $5, updated_at = $7",
        )
        .bind(&a.id)
        .bind(&a.client_id)
        .bind(&a.kind)
        .bind(a.data.to_string())
        .bind(a.expire_at)
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(())
    }

    pub(super) async fn attempt_by_id(&self, id: &str) -> StoreResult<Option<AttemptRecord>> {
        let row = sqlx::query(
            "SELECT id, client_id, kind, data, expire_at, created_at, updated_at FROM attempts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let data: String = row.try_get("data")?;
        Ok(Some(AttemptRecord {
            id: row.try_get("id")?,
            client_id: row.try_get("client_id")?,
            kind: row.try_get("kind")?,
            data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("attempt data: {e}")))?,
            expire_at: row.try_get("expire_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    pub(super) async fn store_code_and_mail(&self, code: &CodeRecord, mail: &MailRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO verification_codes (subject_id, code_hash, attempts, expire_at, created_at) \
             VALUES ($1, $2, 0, $3, $4) \
             ON CONFLICT (subject_id) DO UPDATE SET code_hash = $2, attempts = 0, expire_at = $3, created_at = $4",
        )
        .bind(&code.subject_id)
        .bind(&code.code_hash)
        .bind(code.expire_at)
        .bind(code.created_at)
        .execute(&mut *tx)
        .await?;
        insert_mail(&mut *tx, mail).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn code_for(&self, subject_id: &str) -> StoreResult<Option<CodeRecord>> {
        let row = sqlx::query(
            "SELECT subject_id, code_hash, attempts, expire_at, created_at FROM verification_codes WHERE subject_id = $1",
        )
        .bind(subject_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(CodeRecord {
            subject_id: row.try_get("subject_id")?,
            code_hash: row.try_get("code_hash")?,
            attempts: row.try_get("attempts")?,
            expire_at: row.try_get("expire_at")?,
            created_at: row.try_get("created_at")?,
        }))
    }

    pub(super) async fn delete_code(&self, subject_id: &str, code_hash: &str) -> StoreResult<bool> {
        // Two requests racing with the right code: only one deletes the row.
        let done = sqlx::query("DELETE FROM verification_codes WHERE subject_id = $1 AND code_hash = $2")
            .bind(subject_id)
            .bind(code_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn count_code_failure(&self, subject_id: &str) -> StoreResult<i64> {
        sqlx::query("UPDATE verification_codes SET attempts = attempts + 1 WHERE subject_id = $1")
            .bind(subject_id)
            .execute(&self.pool)
            .await?;
        Ok(self.code_for(subject_id).await?.map_or(0, |c| c.attempts))
    }

    pub(super) async fn queue_mail(&self, mail: &MailRecord) -> StoreResult<()> {
        insert_mail(&self.pool, mail).await
    }

    pub(super) async fn mail_due(&self, now: i64, limit: i64) -> StoreResult<Vec<MailRecord>> {
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

    pub(super) async fn take_mail(&self, mail: &MailRecord, until: i64) -> StoreResult<bool> {
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

    pub(super) async fn mark_mail_sent(&self, id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET sent_at = $2, body = '', attempts = attempts + 1 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn mark_mail_failed(&self, id: &str, error: &str, retry_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1")
            .bind(id)
            .bind(error)
            .bind(retry_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn insert_email_address(&self, user_id: &str, e: &IdentifierRecord) -> StoreResult<()> {
        super::users::insert_email(&self.pool, user_id, e).await?;
        self.bump_user(user_id, e.updated_at).await
    }

    pub(super) async fn mark_email_verified(&self, user_id: &str, id: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE email_addresses SET verified = 1, strategy = 'email_code', updated_at = $3 WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.bump_user(user_id, now).await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn remove_email_address(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM email_addresses WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Identifier changes are changes of the user: bump its version so optimistic updates
    /// that read the old identifiers retry.
    async fn bump_user(&self, user_id: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE users SET version = version + 1, updated_at = $2 WHERE id = $1")
            .bind(user_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

async fn insert_mail<'e>(executor: impl sqlx::Executor<'e, Database = sqlx::Any>, m: &MailRecord) -> StoreResult<()> {
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
