//! Decoy email addresses.

use async_trait::async_trait;

use super::SqlStore;
use crate::store::{DecoyEmailStore, IdentifierRecord, StoreResult};

#[async_trait]
impl DecoyEmailStore for SqlStore {
    async fn add_decoy_email_address(&self, user_id: &str, e: &IdentifierRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO decoy_email_addresses (id, user_id, email_address, strategy, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&e.id)
        .bind(user_id)
        .bind(&e.value)
        .bind(e.strategy.as_str())
        .bind(e.created_at)
        .bind(e.updated_at)
        .execute(&mut *tx)
        .await?;
        // Like a real address, the add is a change of the user.
        sqlx::query("UPDATE users SET version = version + 1, updated_at = $2 WHERE id = $1")
            .bind(user_id)
            .bind(e.updated_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn is_decoy_email_address(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT id FROM decoy_email_addresses WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }
}
