//! Clients (browsers).

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, map_write_err};
use crate::store::{ClientRecord, ClientStore, StoreResult};

const CLIENT_COLUMNS: &str =
    "id, token_hash, sign_in_id, sign_up_id, last_active_session_id, expire_at, created_at, updated_at";

#[async_trait]
impl ClientStore for SqlStore {
    async fn create_client(&self, c: &ClientRecord) -> StoreResult<()> {
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

    async fn get_client(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        let row = sqlx::query(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn save_client(&self, c: &ClientRecord) -> StoreResult<bool> {
        save_client(&self.pool, c).await
    }
}

/// Replaces a client's fields (also inside an attempt's transaction); false if there is none.
pub(super) async fn save_client<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    c: &ClientRecord,
) -> StoreResult<bool> {
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
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

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
