//! Signing keys.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, map_write_err};
use crate::store::{KeyStore, SigningKeyRecord, StoreResult};

#[async_trait]
impl KeyStore for SqlStore {
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>> {
        let rows = sqlx::query("SELECT kid, private_der, created_at, activates_at, retired_at, publish_until, max_lifetime FROM signing_keys ORDER BY activates_at DESC, created_at DESC")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(signing_key_from_row).collect()
    }

    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signing_keys (kid, private_der, created_at, activates_at, max_lifetime) \
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
        )
        .bind(&key.kid)
        .bind(&key.private_der)
        .bind(key.created_at)
        .bind(key.activates_at)
        .bind(key.max_lifetime)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn rotate_signing_key(&self, key: &SigningKeyRecord, publish_margin_ms: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE signing_keys SET retired_at = $1, publish_until = $1 + max_lifetime * 1000 + $2 WHERE retired_at IS NULL",
        )
        .bind(key.activates_at)
        .bind(publish_margin_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO signing_keys (kid, private_der, created_at, activates_at, max_lifetime) VALUES ($1, $2, $3, $4, $5)")
            .bind(&key.kid)
            .bind(&key.private_der)
            .bind(key.created_at)
            .bind(key.activates_at)
            .bind(key.max_lifetime)
            .execute(&mut *tx)
            .await
            .map_err(map_write_err)?;
        self.emit(&mut tx, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn seal_signing_key(&self, kid: &str, sealed: &[u8]) -> StoreResult<()> {
        sqlx::query("UPDATE signing_keys SET private_der = $2 WHERE kid = $1")
            .bind(kid)
            .bind(sealed)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn record_key_lifetime(&self, kid: &str, seconds: i64) -> StoreResult<()> {
        // A retired key's publish window must keep covering its longest token too.
        sqlx::query(
            "UPDATE signing_keys SET max_lifetime = $2, \
             publish_until = CASE WHEN publish_until IS NULL THEN NULL ELSE publish_until + ($2 - max_lifetime) * 1000 END \
             WHERE kid = $1 AND max_lifetime < $2",
        )
        .bind(kid)
        .bind(seconds)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn signing_key_from_row(row: &AnyRow) -> StoreResult<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: row.try_get("kid")?,
        private_der: row.try_get("private_der")?,
        created_at: row.try_get("created_at")?,
        activates_at: row.try_get("activates_at")?,
        retired_at: row.try_get("retired_at")?,
        publish_until: row.try_get("publish_until")?,
        max_lifetime: row.try_get("max_lifetime")?,
    })
}
