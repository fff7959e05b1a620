//! Sessions.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{Bind, SqlBuilder, SqlStore, json, map_write_err, state};
use crate::store::{Change, Page, SessionFilter, SessionRecord, SessionStatus, SessionStore, StoreResult};

pub(super) const SESSION_COLUMNS: &str = "id, user_id, client_id, status, actor, last_active_organization_id, \
    last_active_at, expire_at, abandon_at, created_at, updated_at, first_factor_at, second_factor_at";

/// The statuses of a session that is still signed in, as SQL.
const LIVE: &str = "status IN ('active', 'pending')";

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, s: &SessionRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_session(&mut *tx, s).await?;
        self.emit(&mut tx, &[Change::SessionCreated(s)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_session(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn list_sessions(&self, filter: &SessionFilter, page: Page) -> StoreResult<(Vec<SessionRecord>, i64)> {
        let mut b = SqlBuilder::new(" FROM sessions WHERE 1 = 1");
        let status = filter.status.map(|s| s.as_str().to_owned());
        for (column, value) in [("user_id", &filter.user_id), ("client_id", &filter.client_id), ("status", &status)] {
            if let Some(v) = value {
                b.push(&format!(" AND {column} = ")).bind(Bind::Text(v.clone()));
            }
        }
        let total: i64 = {
            let count = SqlBuilder { sql: format!("SELECT COUNT(*) AS n{}", b.sql), binds: b.binds.clone() };
            count.query().fetch_one(&self.pool).await?.try_get("n")?
        };
        b.sql = format!("SELECT {SESSION_COLUMNS}{}", b.sql);
        b.push(" ORDER BY created_at DESC, id DESC LIMIT ").bind(Bind::Int(page.limit));
        b.push(" OFFSET ").bind(Bind::Int(page.offset));
        let rows = b.query().fetch_all(&self.pool).await?;
        Ok((rows.iter().map(session_from_row).collect::<StoreResult<_>>()?, total))
    }

    async fn client_sessions(&self, client_id: &str) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE client_id = $1 AND {LIVE} \
             ORDER BY created_at DESC, id DESC LIMIT 100"
        ))
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    async fn touch_session(&self, id: &str, now: i64, abandon_at: i64) -> StoreResult<Option<SessionRecord>> {
        sqlx::query(&format!(
            "UPDATE sessions SET last_active_at = $2, abandon_at = $3, updated_at = $2 WHERE id = $1 AND {LIVE}"
        ))
        .bind(id)
        .bind(now)
        .bind(abandon_at)
        .execute(&self.pool)
        .await?;
        self.get_session(id).await
    }

    async fn set_session_organization(
        &self,
        id: &str,
        organization_id: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<SessionRecord>> {
        let done = sqlx::query(&format!(
            "UPDATE sessions SET last_active_organization_id = $2, updated_at = $3 WHERE id = $1 AND {LIVE}"
        ))
        .bind(id)
        .bind(organization_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_session(id).await
    }

    async fn end_session(&self, id: &str, status: SessionStatus, now: i64) -> StoreResult<Option<SessionRecord>> {
        let mut tx = self.pool.begin().await?;
        let ended = end_returning(&mut tx, "id", id, status, now).await?;
        for s in &ended {
            self.emit(&mut tx, &[Change::SessionEnded(s)]).await?;
        }
        tx.commit().await?;
        if ended.is_empty() { self.get_session(id).await } else { Ok(ended.into_iter().next()) }
    }

    async fn activate_user_sessions(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("UPDATE sessions SET status = $2, updated_at = $3 WHERE user_id = $1 AND status = $4")
            .bind(user_id)
            .bind(SessionStatus::Active.as_str())
            .bind(now)
            .bind(SessionStatus::Pending.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn end_user_sessions(&self, user_id: &str, status: SessionStatus, now: i64) -> StoreResult<u64> {
        self.end_where("user_id", user_id, status, now).await
    }

    async fn end_client_sessions(&self, client_id: &str, status: SessionStatus, now: i64) -> StoreResult<u64> {
        self.end_where("client_id", client_id, status, now).await
    }
}

impl SqlStore {
    async fn end_where(&self, column: &str, value: &str, status: SessionStatus, now: i64) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let ended = end_returning(&mut tx, column, value, status, now).await?;
        let changes: Vec<Change<'_>> = ended.iter().map(Change::SessionEnded).collect();
        self.emit(&mut tx, &changes).await?;
        tx.commit().await?;
        Ok(ended.len() as u64)
    }
}

/// Ends the live sessions where `column = value`, returning them as they are after.
pub(super) async fn end_returning(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    column: &str,
    value: &str,
    status: SessionStatus,
    now: i64,
) -> StoreResult<Vec<SessionRecord>> {
    let rows = sqlx::query(&format!(
        "UPDATE sessions SET status = $2, updated_at = $3 WHERE {column} = $1 AND {LIVE} RETURNING {SESSION_COLUMNS}"
    ))
    .bind(value)
    .bind(status.as_str())
    .bind(now)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(session_from_row).collect()
}

/// Inserts a session (also inside a completed attempt's transaction).
pub(super) async fn insert_session<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    s: &SessionRecord,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&s.id)
    .bind(&s.user_id)
    .bind(&s.client_id)
    .bind(s.status.as_str())
    .bind(s.actor.as_ref().map(|a| a.to_string()))
    .bind(s.last_active_organization_id.as_deref())
    .bind(s.last_active_at)
    .bind(s.expire_at)
    .bind(s.abandon_at)
    .bind(s.created_at)
    .bind(s.updated_at)
    .bind(s.first_factor_at)
    .bind(s.second_factor_at)
    .execute(executor)
    .await
    .map_err(map_write_err)?;
    Ok(())
}

fn session_from_row(row: &AnyRow) -> StoreResult<SessionRecord> {
    let actor: Option<String> = row.try_get("actor")?;
    Ok(SessionRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        client_id: row.try_get("client_id")?,
        status: state(row, "status", SessionStatus::parse)?,
        actor: actor.as_deref().map(json).transpose()?,
        last_active_organization_id: row.try_get("last_active_organization_id")?,
        last_active_at: row.try_get("last_active_at")?,
        expire_at: row.try_get("expire_at")?,
        abandon_at: row.try_get("abandon_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        first_factor_at: row.try_get("first_factor_at")?,
        second_factor_at: row.try_get("second_factor_at")?,
    })
}
