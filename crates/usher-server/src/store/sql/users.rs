//! Users and their identifiers.

use std::collections::HashMap;

use sqlx::Row;

use super::{Bind, SqlBuilder, SqlStore, flag, map_write_err, rows};
use crate::store::{IdentifierRecord, StoreError, StoreResult, UserEdit, UserFilter, UserOrder, UserQuery, UserRecord};

/// Optimistic updates retry this often before giving up with [`StoreError::Contention`].
const UPDATE_ATTEMPTS: usize = 20;

impl SqlStore {
    pub(super) async fn insert_user(&self, u: &UserRecord) -> StoreResult<()> {
        // One transaction: a user is never visible without the identifiers it was created with,
        // and a conflicting identifier leaves nothing behind.
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO users ({}, username_lower) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)",
            rows::USER_COLUMNS
        ))
        .bind(&u.id)
        .bind(u.version)
        .bind(u.external_id.as_deref())
        .bind(u.username.as_deref())
        .bind(u.first_name.as_deref())
        .bind(u.last_name.as_deref())
        .bind(u.locale.as_deref())
        .bind(u.password_hash.as_deref())
        .bind(u.password_updated_at)
        .bind(serde_json::Value::Object(u.public_metadata.clone()).to_string())
        .bind(serde_json::Value::Object(u.private_metadata.clone()).to_string())
        .bind(serde_json::Value::Object(u.unsafe_metadata.clone()).to_string())
        .bind(u.primary_email_address_id.as_deref())
        .bind(u.primary_phone_number_id.as_deref())
        .bind(flag(u.banned))
        .bind(u.locked_until)
        .bind(u.failed_attempts)
        .bind(flag(u.delete_self_enabled))
        .bind(flag(u.create_organization_enabled))
        .bind(u.create_organizations_limit)
        .bind(u.legal_accepted_at)
        .bind(u.last_sign_in_at)
        .bind(u.last_active_at)
        .bind(u.created_at)
        .bind(u.updated_at)
        .bind(u.username.as_deref().map(str::to_lowercase))
        .execute(&mut *tx)
        .await
        .map_err(map_write_err)?;
        for e in &u.emails {
            insert_email(&mut *tx, &u.id, e).await?;
        }
        for p in &u.phones {
            sqlx::query(
                "INSERT INTO phone_numbers (id, user_id, phone_number, verified, strategy, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&p.id)
            .bind(&u.id)
            .bind(&p.value)
            .bind(flag(p.verified))
            .bind(&p.strategy)
            .bind(p.created_at)
            .bind(p.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(map_write_err)?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn load_user(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {} FROM users WHERE id = $1", rows::USER_COLUMNS))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut users = vec![rows::user_from_row(&row)?];
        self.attach_identifiers(&mut users).await?;
        Ok(users.pop())
    }

    pub(super) async fn query_users(&self, q: &UserQuery) -> StoreResult<Vec<UserRecord>> {
        let mut b = SqlBuilder::new(&format!("SELECT {} FROM users u WHERE 1 = 1", prefixed_user_columns()));
        push_filter(&mut b, &q.filter);
        let column = match q.order_by {
            UserOrder::CreatedAt => "u.created_at",
            UserOrder::UpdatedAt => "u.updated_at",
            UserOrder::FirstName => "LOWER(u.first_name)",
            UserOrder::LastName => "LOWER(u.last_name)",
            UserOrder::Username => "u.username_lower",
            UserOrder::LastActiveAt => "u.last_active_at",
            UserOrder::LastSignInAt => "u.last_sign_in_at",
            UserOrder::EmailAddress => {
                "(SELECT e.email_lower FROM email_addresses e WHERE e.id = u.primary_email_address_id)"
            }
            UserOrder::PhoneNumber => {
                "(SELECT p.phone_number FROM phone_numbers p WHERE p.id = u.primary_phone_number_id)"
            }
        };
        let dir = if q.descending { "DESC" } else { "ASC" };
        // Nulls last in both directions and on both databases (their defaults differ); the id
        // breaks ties so pages never overlap. Creation and update times are never null, and
        // leaving them bare lets the (created_at, id) index serve the default order.
        let nulls_last = if matches!(q.order_by, UserOrder::CreatedAt | UserOrder::UpdatedAt) {
            String::new()
        } else {
            format!("({column} IS NULL), ")
        };
        b.push(&format!(" ORDER BY {nulls_last}{column} {dir}, u.id {dir} LIMIT "));
        b.bind(Bind::Int(q.page.limit)).push(" OFFSET ").bind(Bind::Int(q.page.offset));
        let found = b.query().fetch_all(&self.pool).await?;
        let mut users = found.iter().map(rows::user_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.attach_identifiers(&mut users).await?;
        Ok(users)
    }

    pub(super) async fn count_matching_users(&self, filter: &UserFilter) -> StoreResult<i64> {
        let mut b = SqlBuilder::new("SELECT COUNT(*) AS n FROM users u WHERE 1 = 1");
        push_filter(&mut b, filter);
        Ok(b.query().fetch_one(&self.pool).await?.try_get("n")?)
    }

    pub(super) async fn edit_user(&self, id: &str, edit: UserEdit<'_>) -> StoreResult<Option<UserRecord>> {
        // Optimistic concurrency: write only if nobody else wrote since we read; otherwise read
        // again and re-apply the edit. Portable, and no lock is held across the edit.
        for _ in 0..UPDATE_ATTEMPTS {
            let Some(mut user) = self.load_user(id).await? else {
                return Ok(None);
            };
            let read_version = user.version;
            if !edit(&mut user) {
                return self.load_user(id).await;
            }
            user.version = read_version + 1;
            let done = sqlx::query(
                "UPDATE users SET version = $3, external_id = $4, username = $5, username_lower = $6, first_name = $7, \
                 last_name = $8, locale = $9, password_hash = $10, password_updated_at = $11, public_metadata = $12, \
                 private_metadata = $13, unsafe_metadata = $14, primary_email_address_id = $15, primary_phone_number_id = $16, \
                 banned = $17, locked_until = $18, failed_attempts = $19, delete_self_enabled = $20, \
                 create_organization_enabled = $21, create_organizations_limit = $22, legal_accepted_at = $23, \
                 last_sign_in_at = $24, last_active_at = $25, updated_at = $26 WHERE id = $1 AND version = $2",
            )
            .bind(id)
            .bind(read_version)
            .bind(user.version)
            .bind(user.external_id.as_deref())
            .bind(user.username.as_deref())
            .bind(user.username.as_deref().map(str::to_lowercase))
            .bind(user.first_name.as_deref())
            .bind(user.last_name.as_deref())
            .bind(user.locale.as_deref())
            .bind(user.password_hash.as_deref())
            .bind(user.password_updated_at)
            .bind(serde_json::Value::Object(user.public_metadata.clone()).to_string())
            .bind(serde_json::Value::Object(user.private_metadata.clone()).to_string())
            .bind(serde_json::Value::Object(user.unsafe_metadata.clone()).to_string())
            .bind(user.primary_email_address_id.as_deref())
            .bind(user.primary_phone_number_id.as_deref())
            .bind(flag(user.banned))
            .bind(user.locked_until)
            .bind(user.failed_attempts)
            .bind(flag(user.delete_self_enabled))
            .bind(flag(user.create_organization_enabled))
            .bind(user.create_organizations_limit)
            .bind(user.legal_accepted_at)
            .bind(user.last_sign_in_at)
            .bind(user.last_active_at)
            .bind(user.updated_at)
            .execute(&self.pool)
            .await
            .map_err(map_write_err)?;
            if done.rows_affected() == 1 {
                return Ok(Some(user));
            }
        }
        Err(StoreError::Contention(format!("user {id}")))
    }

    /// Loads the email addresses and phone numbers of `users` with one query per table.
    async fn attach_identifiers(&self, users: &mut [UserRecord]) -> StoreResult<()> {
        if users.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        let mut by_user: HashMap<String, (Vec<IdentifierRecord>, Vec<IdentifierRecord>)> = HashMap::new();
        for (table, column, is_email) in
            [("email_addresses", "email_address", true), ("phone_numbers", "phone_number", false)]
        {
            let mut b = SqlBuilder::new(&format!(
                "SELECT user_id, id, {column} AS value, verified, strategy, created_at, updated_at FROM {table} WHERE user_id IN "
            ));
            b.bind_list(&ids).push(" ORDER BY created_at, id");
            for row in b.query().fetch_all(&self.pool).await? {
                let (user_id, ident) = rows::identifier_from_row(&row)?;
                let entry = by_user.entry(user_id).or_default();
                if is_email { entry.0.push(ident) } else { entry.1.push(ident) }
            }
        }
        for user in users {
            if let Some((emails, phones)) = by_user.remove(&user.id) {
                user.emails = emails;
                user.phones = phones;
            }
        }
        Ok(())
    }
}

/// Inserts one email address of `user_id` (the lower-cased copy is what uniqueness is on).
pub(super) async fn insert_email<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: &str,
    e: &IdentifierRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO email_addresses (id, user_id, email_address, email_lower, verified, strategy, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&e.id)
    .bind(user_id)
    .bind(&e.value)
    .bind(e.value.to_lowercase())
    .bind(flag(e.verified))
    .bind(&e.strategy)
    .bind(e.created_at)
    .bind(e.updated_at)
    .execute(executor)
    .await
    .map_err(map_write_err)?;
    Ok(())
}

fn prefixed_user_columns() -> String {
    rows::USER_COLUMNS.split(',').map(|c| format!("u.{}", c.trim())).collect::<Vec<_>>().join(", ")
}

/// Escapes `%`, `_` and `\` so a user's search text matches literally in `LIKE … ESCAPE '\'`.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

fn lowered(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.to_lowercase()).collect()
}

fn push_filter(b: &mut SqlBuilder, f: &UserFilter) {
    if !f.email_address.is_empty() {
        b.push(" AND u.id IN (SELECT user_id FROM email_addresses WHERE email_lower IN ");
        b.bind_list(&lowered(&f.email_address)).push(")");
    }
    if !f.phone_number.is_empty() {
        b.push(" AND u.id IN (SELECT user_id FROM phone_numbers WHERE phone_number IN ");
        b.bind_list(&f.phone_number).push(")");
    }
    for (column, values) in [
        ("u.external_id", f.external_id.clone()),
        ("u.username_lower", lowered(&f.username)),
        ("u.id", f.user_id.clone()),
    ] {
        if !values.is_empty() {
            b.push(&format!(" AND {column} IN "));
            b.bind_list(&values);
        }
    }
    if !f.exclude_user_id.is_empty() {
        b.push(" AND u.id NOT IN ");
        b.bind_list(&f.exclude_user_id);
    }
    if let Some(q) = f.query.as_deref().filter(|q| !q.is_empty()) {
        let pattern = Bind::Text(like_pattern(q));
        b.push(" AND (");
        let columns =
            ["LOWER(u.id)", "u.username_lower", "LOWER(u.first_name)", "LOWER(u.last_name)", "LOWER(u.external_id)"];
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                b.push(" OR ");
            }
            b.push(&format!("{column} LIKE ")).bind(pattern.clone()).push(" ESCAPE '\\'");
        }
        b.push(" OR EXISTS (SELECT 1 FROM email_addresses e WHERE e.user_id = u.id AND e.email_lower LIKE ");
        b.bind(pattern.clone()).push(" ESCAPE '\\')");
        b.push(" OR EXISTS (SELECT 1 FROM phone_numbers p WHERE p.user_id = u.id AND p.phone_number LIKE ");
        b.bind(pattern).push(" ESCAPE '\\'))");
    }
    if let Some(banned) = f.banned {
        b.push(" AND u.banned = ").bind(Bind::Int(flag(banned)));
    }
    let ranges = [
        ("u.created_at <", f.created_at_before),
        ("u.created_at >", f.created_at_after),
        ("u.last_active_at <", f.last_active_at_before),
        ("u.last_active_at >", f.last_active_at_after),
        ("u.last_sign_in_at <", f.last_sign_in_at_before),
        ("u.last_sign_in_at >", f.last_sign_in_at_after),
    ];
    for (condition, value) in ranges {
        if let Some(v) = value {
            b.push(&format!(" AND {condition} ")).bind(Bind::Int(v));
        }
    }
}
