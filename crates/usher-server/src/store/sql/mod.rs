//! The [`Store`] over SQL, through sqlx's `Any` driver.
//!
//! Both backends accept the same SQL text here: `$N` placeholders (sqlx's SQLite driver maps them
//! by number), `ON CONFLICT`, and integers for booleans. What differs — connection settings and
//! migrations — is chosen in [`SqlStore::open`], so there is one implementation to read and one
//! contract suite proves it on both databases.

mod frontend;
mod rows;
mod users;

use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    AnyPool, Executor, Row,
    any::{AnyArguments, AnyConnectOptions, AnyPoolOptions},
    error::ErrorKind,
    query::Query,
};

use super::*;
use rows::{session_from_row, signing_key_from_row, template_from_row};

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// The SQL store; cheap to clone.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations/postgres");

impl SqlStore {
    /// Opens (creating if needed) the SQLite database file at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> StoreResult<Self> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::open(&url).await
    }

    /// Opens `postgres://…` or `sqlite://…` and runs the embedded migrations.
    pub async fn open(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            // WAL with synchronous=FULL: a commit is on disk before it is acknowledged, and
            // readers never block the (single) writer. Foreign keys make deletes cascade.
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
                            .await
                            .map(|_| ())
                    })
                })
                .connect_with(options)
                .await?,
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?,
        };
        match backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Self { pool, backend })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Maps a failed write to [`StoreError::Conflict`] when a unique constraint refused it.
fn map_write_err(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.kind() == ErrorKind::UniqueViolation
    {
        // PostgreSQL names the constraint (`users_username_lower_key`); SQLite names the
        // column in its message (`UNIQUE constraint failed: users.username_lower`).
        let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
        let field = if text.contains("email_lower") {
            UniqueField::EmailAddress
        } else if text.contains("phone_number") {
            UniqueField::PhoneNumber
        } else if text.contains("username_lower") {
            UniqueField::Username
        } else if text.contains("external_id") {
            UniqueField::ExternalId
        } else if text.contains("jwt_templates") {
            UniqueField::TemplateName
        } else {
            UniqueField::Other
        };
        return StoreError::Conflict(field);
    }
    StoreError::Database(err)
}

/// A value to bind into dynamically built SQL.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

/// Builds SQL with `$N` placeholders numbered as values are pushed. (sqlx's `QueryBuilder` for
/// `Any` writes `?`, which PostgreSQL does not accept.)
#[derive(Debug, Default)]
struct SqlBuilder {
    sql: String,
    binds: Vec<Bind>,
}

impl SqlBuilder {
    fn new(sql: &str) -> Self {
        Self { sql: sql.to_owned(), binds: Vec::new() }
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        self.sql.push('$');
        self.sql.push_str(&self.binds.len().to_string());
        self
    }

    /// Pushes `(… $a, $b …)` for a non-empty list of strings.
    fn bind_list(&mut self, values: &[String]) -> &mut Self {
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(Bind::Text(v.clone()));
        }
        self.push(")")
    }

    fn query(&self) -> Query<'_, sqlx::Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.sql);
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

fn flag(b: bool) -> i64 {
    i64::from(b)
}

const SESSION_COLUMNS: &str = "id, user_id, client_id, status, actor, last_active_organization_id, last_active_at, expire_at, abandon_at, created_at, updated_at";
const TEMPLATE_COLUMNS: &str = "id, name, claims, lifetime, allowed_clock_skew, custom_signing_key, signing_algorithm, signing_key, created_at, updated_at";
const SIGN_IN_TOKEN_COLUMNS: &str = "id, user_id, token_hash, status, expire_at, created_at, updated_at";

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(&self.pool).await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        self.setting(key).await?.ok_or_else(|| StoreError::Corrupt(format!("setting {key} vanished")))
    }

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

    async fn create_user(&self, user: &UserRecord) -> StoreResult<()> {
        self.insert_user(user).await
    }

    async fn get_user(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        self.load_user(id).await
    }

    async fn list_users(&self, query: &UserQuery) -> StoreResult<Vec<UserRecord>> {
        self.query_users(query).await
    }

    async fn count_users(&self, filter: &UserFilter) -> StoreResult<i64> {
        self.count_matching_users(filter).await
    }

    async fn update_user(&self, id: &str, edit: UserEdit<'_>) -> StoreResult<Option<UserRecord>> {
        self.edit_user(id, edit).await
    }

    async fn delete_user(&self, id: &str) -> StoreResult<Option<UserRecord>> {
        let Some(user) = self.load_user(id).await? else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(Some(user))
    }

    async fn create_session(&self, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&s.id)
        .bind(&s.user_id)
        .bind(&s.client_id)
        .bind(&s.status)
        .bind(s.actor.as_ref().map(|a| a.to_string()))
        .bind(s.last_active_organization_id.as_deref())
        .bind(s.last_active_at)
        .bind(s.expire_at)
        .bind(s.abandon_at)
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
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
        for (column, value) in
            [("user_id", &filter.user_id), ("client_id", &filter.client_id), ("status", &filter.status)]
        {
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

    async fn end_session(&self, id: &str, status: &str, now: i64) -> StoreResult<Option<SessionRecord>> {
        sqlx::query(
            "UPDATE sessions SET status = $2, updated_at = $3 WHERE id = $1 AND status IN ('active', 'pending')",
        )
        .bind(id)
        .bind(status)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.get_session(id).await
    }

    async fn end_user_sessions(&self, user_id: &str, status: &str, now: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET status = $2, updated_at = $3 WHERE user_id = $1 AND status IN ('active', 'pending')",
        )
        .bind(user_id)
        .bind(status)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn create_template(&self, t: &TemplateRecord) -> StoreResult<()> {
        let sql =
            format!("INSERT INTO jwt_templates ({TEMPLATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        bind_template(sqlx::query(&sql), t).execute(&self.pool).await.map_err(map_write_err)?;
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
        let done = bind_template(sqlx::query(sql), t).execute(&self.pool).await.map_err(map_write_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_template(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM jwt_templates WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn touch_session(&self, id: &str, now: i64, abandon_at: i64) -> StoreResult<Option<SessionRecord>> {
        self.touch_session_row(id, now, abandon_at).await
    }

    async fn create_client(&self, client: &ClientRecord) -> StoreResult<()> {
        self.insert_client(client).await
    }

    async fn get_client(&self, id: &str) -> StoreResult<Option<ClientRecord>> {
        self.client_by_id(id).await
    }

    async fn save_client(&self, client: &ClientRecord) -> StoreResult<bool> {
        self.update_client(client).await
    }

    async fn save_attempt(&self, attempt: &AttemptRecord) -> StoreResult<()> {
        self.upsert_attempt(attempt).await
    }

    async fn get_attempt(&self, id: &str) -> StoreResult<Option<AttemptRecord>> {
        self.attempt_by_id(id).await
    }

    async fn issue_code(&self, code: &CodeRecord, mail: &MailRecord) -> StoreResult<()> {
        self.store_code_and_mail(code, mail).await
    }

    async fn get_code(&self, subject_id: &str) -> StoreResult<Option<CodeRecord>> {
        self.code_for(subject_id).await
    }

    async fn consume_code(&self, subject_id: &str, code_hash: &str) -> StoreResult<bool> {
        self.delete_code(subject_id, code_hash).await
    }

    async fn code_failed(&self, subject_id: &str) -> StoreResult<i64> {
        self.count_code_failure(subject_id).await
    }

    async fn enqueue_mail(&self, mail: &MailRecord) -> StoreResult<()> {
        self.queue_mail(mail).await
    }

    async fn due_mail(&self, now: i64, limit: i64) -> StoreResult<Vec<MailRecord>> {
        self.mail_due(now, limit).await
    }

    async fn claim_mail(&self, mail: &MailRecord, until: i64) -> StoreResult<bool> {
        self.take_mail(mail, until).await
    }

    async fn mail_sent(&self, id: &str, now: i64) -> StoreResult<()> {
        self.mark_mail_sent(id, now).await
    }

    async fn mail_failed(&self, id: &str, error: &str, retry_at: i64) -> StoreResult<()> {
        self.mark_mail_failed(id, error, retry_at).await
    }

    async fn add_email_address(&self, user_id: &str, email: &IdentifierRecord) -> StoreResult<()> {
        self.insert_email_address(user_id, email).await
    }

    async fn verify_email_address(&self, user_id: &str, id: &str, now: i64) -> StoreResult<bool> {
        self.mark_email_verified(user_id, id, now).await
    }

    async fn delete_email_address(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        self.remove_email_address(user_id, id).await
    }

    async fn create_sign_in_token(&self, t: &SignInTokenRecord) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO sign_in_tokens ({SIGN_IN_TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&t.id)
        .bind(&t.user_id)
        .bind(&t.token_hash)
        .bind(&t.status)
        .bind(t.expire_at)
        .bind(t.created_at)
        .bind(t.updated_at)
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(())
    }

    async fn accept_sign_in_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>> {
        let done = sqlx::query(
            "UPDATE sign_in_tokens SET status = 'accepted', updated_at = $2 \
             WHERE token_hash = $1 AND status = 'pending' AND expire_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query(&format!("SELECT {SIGN_IN_TOKEN_COLUMNS} FROM sign_in_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::sign_in_token_from_row).transpose()
    }

    async fn revoke_sign_in_token(&self, id: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>> {
        sqlx::query(
            "UPDATE sign_in_tokens SET status = 'revoked', updated_at = $2 WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(&format!("SELECT {SIGN_IN_TOKEN_COLUMNS} FROM sign_in_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::sign_in_token_from_row).transpose()
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
