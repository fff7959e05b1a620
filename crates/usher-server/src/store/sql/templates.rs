//! JWT templates.

use async_trait::async_trait;
use sqlx::{
    Row,
    any::{AnyArguments, AnyRow},
    query::Query,
};

use super::{SqlStore, flag, json, read_flag};
use crate::store::{Page, StoreResult, TemplateRecord, TemplateStore};

const TEMPLATE_COLUMNS: &str = "id, name, claims, lifetime, allowed_clock_skew, custom_signing_key, signing_algorithm, signing_key, created_at, updated_at";

#[async_trait]
impl TemplateStore for SqlStore {
    async fn create_template(&self, t: &TemplateRecord) -> StoreResult<()> {
        let sql =
            format!("INSERT INTO jwt_templates ({TEMPLATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        self.write_one(bind_template(sqlx::query(&sql), t)).await?;
        Ok(())
    }

    async fn get_template(&self, id: &str) -> StoreResult<Option<TemplateRecord>> {
        self.template_where("id", id).await
    }

    async fn get_template_by_name(&self, name: &str) -> StoreResult<Option<TemplateRecord>> {
        self.template_where("name", name).await
    }

    async fn list_templates(&self, page: Page) -> StoreResult<(Vec<TemplateRecord>, i64)> {
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM jwt_templates").fetch_one(&self.pool).await?.try_get("n")?;
        let rows = sqlx::query(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM jwt_templates ORDER BY created_at, id LIMIT $1 OFFSET $2"
        ))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((rows.iter().map(template_from_row).collect::<StoreResult<_>>()?, total))
    }

    async fn update_template(&self, t: &TemplateRecord) -> StoreResult<bool> {
        // Same parameters as the insert; `created_at` is written back unchanged.
        let sql = "UPDATE jwt_templates SET name = $2, claims = $3, lifetime = $4, allowed_clock_skew = $5, \
                   custom_signing_key = $6, signing_algorithm = $7, signing_key = $8, created_at = $9, updated_at = $10 \
                   WHERE id = $1";
        let done = self.write_one(bind_template(sqlx::query(sql), t)).await?;
        Ok(done == 1)
    }

    async fn delete_template(&self, id: &str) -> StoreResult<bool> {
        let done = self.write_one(sqlx::query("DELETE FROM jwt_templates WHERE id = $1").bind(id)).await?;
        Ok(done == 1)
    }
}

/// Binds a template's fields in [`TEMPLATE_COLUMNS`] order.
fn bind_template<'q>(
    query: Query<'q, sqlx::Any, AnyArguments<'q>>,
    t: &'q TemplateRecord,
) -> Query<'q, sqlx::Any, AnyArguments<'q>> {
    query
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.claims.to_string())
        .bind(t.lifetime)
        .bind(t.allowed_clock_skew)
        .bind(flag(t.custom_signing_key))
        .bind(&t.signing_algorithm)
        .bind(t.signing_key.as_deref())
        .bind(t.created_at)
        .bind(t.updated_at)
}

impl SqlStore {
    async fn template_where(&self, column: &str, value: &str) -> StoreResult<Option<TemplateRecord>> {
        let row = sqlx::query(&format!("SELECT {TEMPLATE_COLUMNS} FROM jwt_templates WHERE {column} = $1"))
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(template_from_row).transpose()
    }
}

fn template_from_row(row: &AnyRow) -> StoreResult<TemplateRecord> {
    Ok(TemplateRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        claims: json(&row.try_get::<String, _>("claims")?)?,
        lifetime: row.try_get("lifetime")?,
        allowed_clock_skew: row.try_get("allowed_clock_skew")?,
        custom_signing_key: read_flag(row, "custom_signing_key")?,
        signing_algorithm: row.try_get("signing_algorithm")?,
        signing_key: row.try_get("signing_key")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
