//! One-time codes.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, outbox};
use crate::store::{CodeRecord, CodeStore, MailRecord, StoreResult};

#[async_trait]
impl CodeStore for SqlStore {
    async fn issue_code(&self, code: &CodeRecord, mail: Option<&MailRecord>) -> StoreResult<()> {
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
        if let Some(mail) = mail {
            outbox::insert_mail(&mut *tx, mail).await?;
            self.emit_mail(&mut tx, mail).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get_code(&self, subject_id: &str) -> StoreResult<Option<CodeRecord>> {
        let row = sqlx::query(
            "SELECT subject_id, code_hash, attempts, expire_at, created_at FROM verification_codes WHERE subject_id = $1",
        )
        .bind(subject_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(code_from_row).transpose()
    }

    async fn consume_code(&self, subject_id: &str, code_hash: &str) -> StoreResult<bool> {
        // Two requests racing with the right code: only one deletes the row.
        let done = sqlx::query("DELETE FROM verification_codes WHERE subject_id = $1 AND code_hash = $2")
            .bind(subject_id)
            .bind(code_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn take_guess(&self, subject_id: &str, max_guesses: i64) -> StoreResult<Option<CodeRecord>> {
        // The count is checked and raised by the same statement: a guess is evaluated only
        // after it got one of the code's slots.
        let row = sqlx::query(
            "UPDATE verification_codes SET attempts = attempts + 1 WHERE subject_id = $1 AND attempts < $2 \
             RETURNING subject_id, code_hash, attempts, expire_at, created_at",
        )
        .bind(subject_id)
        .bind(max_guesses)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(code_from_row).transpose()
    }

    async fn delete_code(&self, subject_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM verification_codes WHERE subject_id = $1")
            .bind(subject_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn code_from_row(row: &sqlx::any::AnyRow) -> StoreResult<CodeRecord> {
    Ok(CodeRecord {
        subject_id: row.try_get("subject_id")?,
        code_hash: row.try_get("code_hash")?,
        attempts: row.try_get("attempts")?,
        expire_at: row.try_get("expire_at")?,
        created_at: row.try_get("created_at")?,
    })
}
