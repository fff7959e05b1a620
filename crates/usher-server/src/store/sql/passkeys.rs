//! Passkeys.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, map_write_err};
use crate::store::{PasskeyRecord, PasskeyStore, StoreResult};

const COLUMNS: &str = "id, user_id, name, credential_id, credential, registration_state, sign_count, last_used_at, \
    expire_at, created_at, updated_at";

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn create_passkey(&self, p: &PasskeyRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // Registrations nobody finished go when the user starts another, so they cannot pile up.
        sqlx::query("DELETE FROM passkeys WHERE user_id = $1 AND credential_id IS NULL AND expire_at <= $2")
            .bind(&p.user_id)
            .bind(p.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("INSERT INTO passkeys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
            .bind(&p.id)
            .bind(&p.user_id)
            .bind(&p.name)
            .bind(p.credential_id.as_deref())
            .bind(p.credential.as_deref())
            .bind(p.registration_state.as_deref())
            .bind(p.sign_count)
            .bind(p.last_used_at)
            .bind(p.expire_at)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(map_write_err)?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_passkey(&self, user_id: &str, id: &str) -> StoreResult<Option<PasskeyRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM passkeys WHERE id = $1 AND user_id = $2"))
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    async fn find_passkey_by_credential(&self, credential_id: &str) -> StoreResult<Option<PasskeyRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1"))
            .bind(credential_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    async fn list_passkeys(&self, user_id: &str) -> StoreResult<Vec<PasskeyRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 AND credential_id IS NOT NULL ORDER BY created_at, id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    async fn verify_passkey(
        &self,
        id: &str,
        credential_id: &str,
        credential: &str,
        sign_count: i64,
        now: i64,
    ) -> StoreResult<bool> {
        // One conditional statement: two answers racing for one ceremony cannot both verify it.
        let done = sqlx::query(
            "UPDATE passkeys SET credential_id = $2, credential = $3, sign_count = $4, registration_state = NULL, \
             expire_at = NULL, updated_at = $5 WHERE id = $1 AND credential_id IS NULL AND expire_at > $5",
        )
        .bind(id)
        .bind(credential_id)
        .bind(credential)
        .bind(sign_count)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn use_passkey(&self, id: &str, sign_count: i64, credential: &str, now: i64) -> StoreResult<bool> {
        // The counter only goes up: of two sign-ins with one assertion (a replay, or a cloned
        // authenticator) at most one raises it. Authenticators without a counter send 0 always.
        let done = sqlx::query(
            "UPDATE passkeys SET sign_count = $2, credential = $3, last_used_at = $4, updated_at = $4 \
             WHERE id = $1 AND credential_id IS NOT NULL AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))",
        )
        .bind(id)
        .bind(sign_count)
        .bind(credential)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE passkeys SET name = $3, updated_at = $4 WHERE id = $1 AND user_id = $2 AND credential_id IS NOT NULL",
        )
        .bind(id)
        .bind(user_id)
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_passkey(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn from_row(row: &AnyRow) -> StoreResult<PasskeyRecord> {
    Ok(PasskeyRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        credential_id: row.try_get("credential_id")?,
        credential: row.try_get("credential")?,
        registration_state: row.try_get("registration_state")?,
        sign_count: row.try_get("sign_count")?,
        last_used_at: row.try_get("last_used_at")?,
        expire_at: row.try_get("expire_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
