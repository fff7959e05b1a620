//! Second factors.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, flag, read_flag};
use crate::store::{FactorStore, StoreResult, TotpRecord};

#[async_trait]
impl FactorStore for SqlStore {
    async fn get_totp(&self, user_id: &str) -> StoreResult<Option<TotpRecord>> {
        let row = sqlx::query(
            "SELECT id, user_id, secret_sealed, verified, last_step, created_at, updated_at FROM user_totp \
             WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(totp_from_row).transpose()
    }

    async fn put_totp(&self, t: &TotpRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_totp (user_id, id, secret_sealed, verified, last_step, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) DO UPDATE SET id = $2, secret_sealed = $3, \
             verified = $4, last_step = $5, created_at = $6, updated_at = $7",
        )
        .bind(&t.user_id)
        .bind(&t.id)
        .bind(&t.secret_sealed)
        .bind(flag(t.verified))
        .bind(t.last_step)
        .bind(t.created_at)
        .bind(t.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn verify_totp(&self, user_id: &str, step: i64, hashes: &[String], now: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE user_totp SET verified = 1, last_step = $2, updated_at = $3 \
             WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2)",
        )
        .bind(user_id)
        .bind(step)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        replace_codes(&mut tx, user_id, hashes, now).await?;
        self.emit(&mut tx, &[]).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn use_totp_step(&self, user_id: &str, step: i64, now: i64) -> StoreResult<bool> {
        // One conditional statement: two requests racing with the same code cannot both win.
        let done = sqlx::query(
            "UPDATE user_totp SET last_step = $2, updated_at = $3 \
             WHERE user_id = $1 AND verified = 1 AND (last_step IS NULL OR last_step < $2)",
        )
        .bind(user_id)
        .bind(step)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_totp(&self, user_id: &str) -> StoreResult<bool> {
        let done = self.write_one(sqlx::query("DELETE FROM user_totp WHERE user_id = $1").bind(user_id)).await?;
        Ok(done > 0)
    }

    async fn replace_backup_codes(&self, user_id: &str, hashes: &[String], now: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        replace_codes(&mut tx, user_id, hashes, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_backup_code(&self, user_id: &str, code_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM user_backup_codes WHERE user_id = $1 AND code_hash = $2")
            .bind(user_id)
            .bind(code_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_backup_codes(&self, user_id: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM user_backup_codes WHERE user_id = $1").bind(user_id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }
}

async fn replace_codes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM user_backup_codes WHERE user_id = $1").bind(user_id).execute(&mut **tx).await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO user_backup_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, code_hash) DO NOTHING",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn totp_from_row(row: &AnyRow) -> StoreResult<TotpRecord> {
    Ok(TotpRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        secret_sealed: row.try_get("secret_sealed")?,
        verified: read_flag(row, "verified")?,
        last_step: row.try_get("last_step")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
