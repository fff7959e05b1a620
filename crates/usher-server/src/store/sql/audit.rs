//! The audit log and instance admins.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{Bind, SqlBuilder, SqlStore, map_write_err, state};
use crate::store::{
    ActorType, AdminStore, AuditAction, AuditEntry, AuditFilter, AuditStore, Outcome, Page, PendingAudit, Store,
    StoreResult,
};

const AUDIT_COLUMNS: &str =
    "id, at, actor_type, actor_id, via_actor, subject_id, action, outcome, reason, detail, client_ip, user_agent";

#[async_trait]
impl AuditStore for SqlStore {
    async fn append_audit(&self, e: &AuditEntry) -> StoreResult<()> {
        insert_entry(&self.pool, e).await
    }

    fn audited(&self, pending: Arc<PendingAudit>) -> Arc<dyn Store> {
        Arc::new(SqlStore { audit: Some(pending), ..self.clone() })
    }

    async fn list_audit(&self, filter: &AuditFilter, page: Page) -> StoreResult<(Vec<AuditEntry>, i64)> {
        let b = where_clause(filter);
        let total: i64 = {
            let count = SqlBuilder { sql: format!("SELECT COUNT(*) AS n{}", b.sql), binds: b.binds.clone() };
            count.query().fetch_one(&self.pool).await?.try_get("n")?
        };
        let mut b = b;
        b.sql = format!("SELECT {AUDIT_COLUMNS}{}", b.sql);
        b.push(" ORDER BY at DESC, id DESC LIMIT ").bind(Bind::Int(page.limit));
        b.push(" OFFSET ").bind(Bind::Int(page.offset));
        let rows = b.query().fetch_all(&self.pool).await?;
        Ok((rows.iter().map(entry_from_row).collect::<StoreResult<_>>()?, total))
    }

    async fn audit_after(&self, filter: &AuditFilter, after: Option<&str>, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let mut b = where_clause(filter);
        if let Some(after) = after {
            let row =
                sqlx::query("SELECT at FROM audit_log WHERE id = $1").bind(after).fetch_optional(&self.pool).await?;
            let at: i64 = match row {
                Some(row) => row.try_get("at")?,
                // The cursor entry was pruned meanwhile: nothing older than it is left to skip.
                None => i64::MIN,
            };
            b.push(" AND (at > ").bind(Bind::Int(at));
            b.push(" OR (at = ").bind(Bind::Int(at));
            b.push(" AND id > ").bind(Bind::Text(after.to_owned()));
            b.push("))");
        }
        b.sql = format!("SELECT {AUDIT_COLUMNS}{}", b.sql);
        b.push(" ORDER BY at, id LIMIT ").bind(Bind::Int(limit));
        let rows = b.query().fetch_all(&self.pool).await?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn prune_audit(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

/// Inserts one entry (alone, or inside the transaction of the change it records).
pub(super) async fn insert_entry<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    e: &AuditEntry,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&e.id)
    .bind(e.at)
    .bind(e.actor_type.as_str())
    .bind(e.actor_id.as_deref())
    .bind(e.via_actor.as_deref())
    .bind(e.subject_id.as_deref())
    .bind(e.action.as_str())
    .bind(e.outcome.as_str())
    .bind(e.reason.as_deref())
    .bind(e.detail.as_deref())
    .bind(&e.client_ip)
    .bind(&e.user_agent)
    .execute(executor)
    .await
    .map_err(map_write_err)?;
    Ok(())
}

fn where_clause(filter: &AuditFilter) -> SqlBuilder {
    let mut b = SqlBuilder::new(" FROM audit_log WHERE 1 = 1");
    let actor_type = filter.actor_type.map(|t| t.as_str().to_owned());
    let outcome = filter.outcome.map(|o| o.as_str().to_owned());
    for (column, value) in [
        ("actor_id", &filter.actor_id),
        ("actor_type", &actor_type),
        ("subject_id", &filter.subject_id),
        ("outcome", &outcome),
    ] {
        if let Some(v) = value {
            b.push(&format!(" AND {column} = ")).bind(Bind::Text(v.clone()));
        }
    }
    if let Some(user) = &filter.involving {
        b.push(" AND (actor_id = ").bind(Bind::Text(user.clone()));
        b.push(" OR subject_id = ").bind(Bind::Text(user.clone()));
        b.push(")");
    }
    if !filter.actions.is_empty() {
        let names: Vec<String> = filter.actions.iter().map(|a| a.as_str().to_owned()).collect();
        b.push(" AND action IN ").bind_list(&names);
    }
    if let Some(since) = filter.since {
        b.push(" AND at >= ").bind(Bind::Int(since));
    }
    if let Some(until) = filter.until {
        b.push(" AND at < ").bind(Bind::Int(until));
    }
    b
}

fn entry_from_row(row: &AnyRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor_type: state(row, "actor_type", ActorType::parse)?,
        actor_id: row.try_get("actor_id")?,
        via_actor: row.try_get("via_actor")?,
        subject_id: row.try_get("subject_id")?,
        action: state(row, "action", AuditAction::parse)?,
        outcome: state(row, "outcome", Outcome::parse)?,
        reason: row.try_get("reason")?,
        detail: row.try_get("detail")?,
        client_ip: row.try_get("client_ip")?,
        user_agent: row.try_get("user_agent")?,
    })
}

#[async_trait]
impl AdminStore for SqlStore {
    async fn add_admin(&self, user_id: &str, now: i64) -> StoreResult<bool> {
        let done = self.write_one(sqlx::query(
            "INSERT INTO instance_admins (user_id, created_at) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(now)).await?;
        Ok(done == 1)
    }

    async fn remove_admin(&self, user_id: &str) -> StoreResult<bool> {
        let done = self.write_one(sqlx::query("DELETE FROM instance_admins WHERE user_id = $1").bind(user_id)).await?;
        Ok(done == 1)
    }

    async fn is_admin(&self, user_id: &str) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM instance_admins WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    async fn list_admins(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT user_id, created_at FROM instance_admins ORDER BY created_at, user_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("user_id")?, r.try_get("created_at")?))).collect()
    }
}
