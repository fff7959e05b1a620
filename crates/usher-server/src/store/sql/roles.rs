//! Roles and permissions.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, flag, map_write_err, read_flag};
use crate::store::{Change, Page, PermissionRecord, RoleRecord, RoleStore, RoleView, StoreResult, TokenOrganization};

const PERMISSION_COLUMNS: &str = "id, permission_key, name, description, system, created_at, updated_at";
const ROLE_COLUMNS: &str = "id, role_key, name, description, created_at, updated_at";

#[async_trait]
impl RoleStore for SqlStore {
    async fn create_permission(&self, p: &PermissionRecord) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO organization_permissions ({PERMISSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&p.id)
        .bind(&p.key)
        .bind(&p.name)
        .bind(&p.description)
        .bind(flag(p.system))
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_write_err)?;
        self.emit(&mut tx, &[Change::PermissionCreated(p)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_permission(&self, id: &str) -> StoreResult<Option<PermissionRecord>> {
        let row = sqlx::query(&format!("SELECT {PERMISSION_COLUMNS} FROM organization_permissions WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(permission_from_row).transpose()
    }

    async fn list_permissions(&self, page: Page) -> StoreResult<(Vec<PermissionRecord>, i64)> {
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM organization_permissions")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let rows = sqlx::query(&format!(
            "SELECT {PERMISSION_COLUMNS} FROM organization_permissions ORDER BY system DESC, permission_key LIMIT $1 OFFSET $2"
        ))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows.iter().map(permission_from_row).collect::<StoreResult<_>>()?, total))
    }

    async fn update_permission(&self, p: &PermissionRecord) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE organization_permissions SET permission_key = $2, name = $3, description = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(&p.id)
        .bind(&p.key)
        .bind(&p.name)
        .bind(&p.description)
        .bind(p.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_write_err)?;
        if done.rows_affected() == 1 {
            self.emit(&mut tx, &[Change::PermissionUpdated(p)]).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_permission(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM organization_permissions WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 1 {
            self.emit(&mut tx, &[Change::PermissionDeleted(id)]).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_role(&self, r: &RoleRecord, permission_ids: &[String]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!("INSERT INTO organization_roles ({ROLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&r.id)
            .bind(&r.key)
            .bind(&r.name)
            .bind(&r.description)
            .bind(r.created_at)
            .bind(r.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(map_write_err)?;
        for permission in permission_ids {
            sqlx::query(
                "INSERT INTO organization_role_permissions (role_id, permission_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&r.id)
            .bind(permission)
            .execute(&mut *tx)
            .await
            .map_err(map_write_err)?;
        }
        self.emit_role(&mut tx, &r.id, |v| Change::RoleCreated(v)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_role(&self, id: &str) -> StoreResult<Option<RoleRecord>> {
        self.role_where("id", id).await
    }

    async fn get_role_by_key(&self, key: &str) -> StoreResult<Option<RoleRecord>> {
        self.role_where("role_key", key).await
    }

    async fn list_roles(&self, page: Page) -> StoreResult<(Vec<RoleRecord>, i64)> {
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM organization_roles").fetch_one(&self.pool).await?.try_get("n")?;
        let rows =
            sqlx::query(&format!("SELECT {ROLE_COLUMNS} FROM organization_roles ORDER BY role_key LIMIT $1 OFFSET $2"))
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.pool)
                .await?;
        Ok((rows.iter().map(role_from_row).collect::<StoreResult<_>>()?, total))
    }

    async fn update_role(&self, r: &RoleRecord, add: &[String], remove: &[String]) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE organization_roles SET role_key = $2, name = $3, description = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(&r.id)
        .bind(&r.key)
        .bind(&r.name)
        .bind(&r.description)
        .bind(r.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_write_err)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for permission_id in add {
            grant(&mut tx, &r.id, permission_id).await?;
        }
        for permission_id in remove {
            sqlx::query("DELETE FROM organization_role_permissions WHERE role_id = $1 AND permission_id = $2")
                .bind(&r.id)
                .bind(permission_id)
                .execute(&mut *tx)
                .await?;
        }
        self.emit_role(&mut tx, &r.id, |v| Change::RoleUpdated(v)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_role(&self, id: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "DELETE FROM organization_roles WHERE id = $1 AND NOT EXISTS \
             (SELECT 1 FROM organization_memberships m WHERE m.role = organization_roles.role_key)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            self.emit(&mut tx, &[Change::RoleDeleted(id)]).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn count_role_members(&self, key: &str) -> StoreResult<i64> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM organization_memberships WHERE role = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?)
    }

    async fn add_role_permission(&self, role_id: &str, permission_id: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        if grant(&mut tx, role_id, permission_id).await? {
            self.emit_role(&mut tx, role_id, |v| Change::RoleUpdated(v)).await?;
        }
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM organization_role_permissions WHERE role_id = $1 AND permission_id = $2",
        )
        .bind(role_id)
        .bind(permission_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.try_get::<i64, _>("n")? == 1)
    }

    async fn remove_role_permission(&self, role_id: &str, permission_id: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM organization_role_permissions WHERE role_id = $1 AND permission_id = $2")
            .bind(role_id)
            .bind(permission_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 1 {
            self.emit_role(&mut tx, role_id, |v| Change::RoleUpdated(v)).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    async fn role_permissions(&self, key: &str) -> StoreResult<Vec<PermissionRecord>> {
        let cols = PERMISSION_COLUMNS.split(',').map(|c| format!("p.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {cols} FROM organization_permissions p \
             JOIN organization_role_permissions rp ON rp.permission_id = p.id \
             JOIN organization_roles r ON r.id = rp.role_id WHERE r.role_key = $1 ORDER BY p.permission_key"
        ))
        .bind(key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(permission_from_row).collect()
    }

    async fn token_organization(&self, organization_id: &str, user_id: &str) -> StoreResult<Option<TokenOrganization>> {
        // One row per permission of the member's role (one row with no key for a role without
        // any, or a role key no role has).
        let rows = sqlx::query(
            "SELECT o.id AS id, o.slug AS slug, m.role AS role, p.permission_key AS permission_key \
             FROM organizations o \
             JOIN organization_memberships m ON m.organization_id = o.id AND m.user_id = $2 \
             LEFT JOIN organization_roles r ON r.role_key = m.role \
             LEFT JOIN organization_role_permissions rp ON rp.role_id = r.id \
             LEFT JOIN organization_permissions p ON p.id = rp.permission_id \
             WHERE o.id = $1 ORDER BY p.permission_key",
        )
        .bind(organization_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else { return Ok(None) };
        let mut permission_keys = Vec::new();
        for row in &rows {
            if let Some(key) = row.try_get::<Option<String>, _>("permission_key")? {
                permission_keys.push(key);
            }
        }
        Ok(Some(TokenOrganization {
            id: first.try_get("id")?,
            slug: first.try_get("slug")?,
            role: first.try_get("role")?,
            permission_keys,
        }))
    }
}

impl SqlStore {
    /// Emits `change` for the role `id` with its permissions as `tx` sees them now.
    async fn emit_role(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
        change: for<'v> fn(&'v RoleView) -> Change<'v>,
    ) -> StoreResult<()> {
        if self.events.is_none() {
            // Nothing to render; an audited write's entry is still written.
            return self.emit(tx, &[]).await;
        }
        let row = sqlx::query(&format!("SELECT {ROLE_COLUMNS} FROM organization_roles WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        let Some(role) = row.as_ref().map(role_from_row).transpose()? else { return Ok(()) };
        let cols = PERMISSION_COLUMNS.split(',').map(|c| format!("p.{}", c.trim())).collect::<Vec<_>>().join(", ");
        let permissions = sqlx::query(&format!(
            "SELECT {cols} FROM organization_permissions p \
             JOIN organization_role_permissions rp ON rp.permission_id = p.id WHERE rp.role_id = $1 ORDER BY p.permission_key"
        ))
        .bind(id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(permission_from_row)
        .collect::<StoreResult<_>>()?;
        let view = RoleView { role, permissions };
        self.emit(tx, &[change(&view)]).await
    }

    async fn role_where(&self, column: &str, value: &str) -> StoreResult<Option<RoleRecord>> {
        let row = sqlx::query(&format!("SELECT {ROLE_COLUMNS} FROM organization_roles WHERE {column} = $1"))
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(role_from_row).transpose()
    }
}

fn permission_from_row(row: &AnyRow) -> StoreResult<PermissionRecord> {
    Ok(PermissionRecord {
        id: row.try_get("id")?,
        key: row.try_get("permission_key")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        system: read_flag(row, "system")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn role_from_row(row: &AnyRow) -> StoreResult<RoleRecord> {
    Ok(RoleRecord {
        id: row.try_get("id")?,
        key: row.try_get("role_key")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Gives a role a permission inside `tx`; whether a row was added. Inserting from the join makes
/// a missing role or permission a no-op instead of a foreign-key error.
async fn grant(tx: &mut sqlx::Transaction<'_, sqlx::Any>, role_id: &str, permission_id: &str) -> StoreResult<bool> {
    let added = sqlx::query(
        "INSERT INTO organization_role_permissions (role_id, permission_id) \
         SELECT r.id, p.id FROM organization_roles r, organization_permissions p WHERE r.id = $1 AND p.id = $2 \
         ON CONFLICT DO NOTHING",
    )
    .bind(role_id)
    .bind(permission_id)
    .execute(&mut **tx)
    .await?;
    Ok(added.rows_affected() == 1)
}
