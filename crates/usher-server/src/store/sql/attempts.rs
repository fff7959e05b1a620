//! Sign-in and sign-up attempts, and the one transaction that completes one.

use async_trait::async_trait;
use sqlx::Row;

use super::{SqlStore, clients, map_write_err, sessions, state, users};
use crate::store::{
    AttemptKind, AttemptRecord, AttemptStore, Change, ClientRecord, Completion, SessionStatus, StoreError, StoreResult,
    UserRecord,
};

#[async_trait]
impl AttemptStore for SqlStore {
    async fn save_attempt(&self, attempt: &AttemptRecord, client: Option<&ClientRecord>) -> StoreResult<()> {
        let Some(client) = client else { return upsert_attempt(&self.pool, attempt).await };
        let mut tx = self.pool.begin().await?;
        upsert_attempt(&mut *tx, attempt).await?;
        clients::save_client(&mut *tx, client).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_attempt(&self, id: &str) -> StoreResult<Option<AttemptRecord>> {
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
            kind: state(&row, "kind", AttemptKind::parse)?,
            data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("attempt data: {e}")))?,
            expire_at: row.try_get("expire_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    async fn complete_attempt(&self, c: Completion<'_>) -> StoreResult<()> {
        let now = c.session.created_at;
        let mut tx = self.pool.begin().await?;
        if let Some(user) = c.new_user {
            users::insert_user(&mut tx, user).await?;
        }
        if let Some(account) = c.new_external_account {
            super::external_accounts::insert_account(&mut *tx, account).await?;
        }
        let replaced = match c.replaces {
            Some(previous) => sessions::end_returning(&mut tx, "id", previous, SessionStatus::Ended, now).await?,
            None => Vec::new(),
        };
        sessions::insert_session(&mut *tx, c.session).await?;
        users::mark_signed_in(&mut *tx, &c.session.user_id, now).await?;
        upsert_attempt(&mut *tx, c.attempt).await?;
        clients::save_client(&mut *tx, c.client).await?;
        if let Some(entry) = c.audit {
            super::audit::insert_entry(&mut *tx, entry).await?;
        }
        // A returning user's sign-in changes `last_sign_in_at`: Clerk sends `user.updated`.
        let signed_in = c.signed_in.filter(|u| u.id == c.session.user_id).map(|u| UserRecord {
            version: u.version + 1,
            last_sign_in_at: Some(now),
            last_active_at: Some(now),
            failed_attempts: 0,
            ..u.clone()
        });
        let mut changes: Vec<Change<'_>> = replaced.iter().map(Change::SessionEnded).collect();
        changes.extend(c.new_user.map(Change::UserCreated));
        changes.extend(signed_in.as_ref().map(Change::UserUpdated));
        changes.push(Change::SessionCreated(c.session));
        self.emit(&mut tx, &changes).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn upsert_attempt<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    a: &AttemptRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO attempts (id, client_id, kind, data, expire_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET data = $4, expire_at = $5, updated_at = $7",
    )
    .bind(&a.id)
    .bind(&a.client_id)
    .bind(a.kind.as_str())
    .bind(a.data.to_string())
    .bind(a.expire_at)
    .bind(a.created_at)
    .bind(a.updated_at)
    .execute(executor)
    .await
    .map_err(map_write_err)?;
    Ok(())
}
