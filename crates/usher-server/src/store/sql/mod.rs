//! The [`Store`] over SQL, through sqlx's `Any` driver: one file per resource, each
//! implementing that resource's trait.
//!
//! Both backends accept the same SQL text here: `$N` placeholders (sqlx's SQLite driver maps them
//! by number), `ON CONFLICT`, and integers for booleans. What differs — connection settings and
//! migrations — is chosen in [`SqlStore::open`], so there is one implementation to read and one
//! contract suite proves it on both databases. The two migration sets differ only in the name of
//! the byte-string type and in blocks marked PostgreSQL-only (trigram search indexes; a test
//! below keeps them so).

mod attempts;
mod clients;
mod codes;
mod decoy_emails;
mod external_accounts;
mod factors;
mod keys;
mod organizations;
mod outbox;
mod passkeys;
mod roles;
mod sessions;
mod settings;
mod sign_in_tokens;
mod templates;
mod users;
mod webhooks;
// Operations.
mod gauges;
mod imports;
// Admin: the audit log and instance admins.
mod audit;

use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::{
    AnyPool, Executor, Row,
    any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyRow},
    error::ErrorKind,
    query::Query,
};

use super::{Store, StoreError, StoreResult, UniqueField};

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
    /// Renders the webhook events write methods emit; none, none written.
    events: super::webhooks::Renderer,
    /// The audit entry the next changing write appends in its transaction (an audited store).
    audit: Option<std::sync::Arc<super::PendingAudit>>,
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
        Ok(Self { pool, backend, events: None, audit: None })
    }

    /// This store, writing webhook events rendered by `renderer` with the changes they describe.
    pub fn with_events(mut self, renderer: std::sync::Arc<dyn super::webhooks::EventRenderer>) -> Self {
        self.events = Some(renderer);
        self
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

impl SqlStore {
    /// Runs one writing statement: on an audited store in a transaction that also appends the
    /// entry when the statement changed a row. How many rows it changed.
    async fn write_one<'q>(&self, query: Query<'q, sqlx::Any, AnyArguments<'q>>) -> StoreResult<u64> {
        if self.audit.is_none() {
            return Ok(query.execute(&self.pool).await.map_err(map_write_err)?.rows_affected());
        }
        let mut tx = self.pool.begin().await?;
        let rows = query.execute(&mut *tx).await.map_err(map_write_err)?.rows_affected();
        if rows > 0 {
            self.emit(&mut tx, &[]).await?;
        }
        tx.commit().await?;
        Ok(rows)
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
        } else if text.contains("external_accounts") {
            UniqueField::ExternalAccount
        } else if text.contains("organizations_slug") || text.contains("organizations.slug") {
            UniqueField::OrganizationSlug
        } else if text.contains("organization_memberships") {
            UniqueField::Membership
        } else if text.contains("role_key") {
            UniqueField::RoleKey
        } else if text.contains("permission_key") {
            UniqueField::PermissionKey
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
    /// Nullable values (bulk inserts of optional columns).
    OptText(Option<String>),
    OptInt(Option<i64>),
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
                Bind::OptText(s) => q.bind(s.as_deref()),
                Bind::OptInt(i) => q.bind(*i),
            };
        }
        q
    }
}

/// An integer column as a boolean.
fn flag(b: bool) -> i64 {
    i64::from(b)
}

fn read_flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

fn json(text: &str) -> StoreResult<Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored JSON: {e}")))
}

fn json_object(row: &AnyRow, column: &str) -> StoreResult<Map<String, Value>> {
    match json(&row.try_get::<String, _>(column)?)? {
        Value::Object(map) => Ok(map),
        _ => Err(StoreError::Corrupt(format!("{column} is not a JSON object"))),
    }
}

/// A state column, parsed into its enum (an unknown name is corrupt data, not a default).
fn state<T>(row: &AnyRow, column: &str, parse: impl FnOnce(&str) -> Option<T>) -> StoreResult<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{column} {text:?} is not a known state")))
}

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// What a PostgreSQL migration says once its marked PostgreSQL-only blocks are removed
    /// (`-- BEGIN POSTGRESQL ONLY` … `-- END POSTGRESQL ONLY`, for what SQLite has no form of,
    /// such as trigram indexes). A block must close, and the SQLite twin may have none.
    fn without_postgres_only(text: &str) -> String {
        let (mut out, mut inside) = (String::new(), false);
        for line in text.split_inclusive('\n') {
            match line.trim_end() {
                "-- BEGIN POSTGRESQL ONLY" => {
                    assert!(!inside, "nested PostgreSQL-only block");
                    inside = true;
                }
                "-- END POSTGRESQL ONLY" => {
                    assert!(inside, "a PostgreSQL-only block ends that never began");
                    inside = false;
                }
                _ if !inside => out.push_str(line),
                _ => {}
            }
        }
        assert!(!inside, "a PostgreSQL-only block is not closed");
        out
    }

    #[test]
    fn postgres_only_blocks_are_removed_whole_and_nothing_else() {
        let pg =
            "CREATE TABLE t (x BIGINT);\n-- BEGIN POSTGRESQL ONLY\nCREATE EXTENSION pg_trgm;\n-- END POSTGRESQL ONLY\n";
        assert_eq!(without_postgres_only(pg), "CREATE TABLE t (x BIGINT);\n");
        assert!(std::panic::catch_unwind(|| without_postgres_only("-- BEGIN POSTGRESQL ONLY\nX;\n")).is_err());
    }

    /// Both migration sets are written by hand; they must say the same but for the byte-string
    /// type and marked PostgreSQL-only blocks, so a change to one that is forgotten in the
    /// other fails here.
    #[test]
    fn migration_sets_differ_only_in_type_names() {
        let sqlite = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/migrations/sqlite")).unwrap();
        let mut names: Vec<_> = sqlite.map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert!(!names.is_empty());
        for name in names {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/migrations");
            let lite = std::fs::read_to_string(format!("{dir}/sqlite/{}", name.to_string_lossy())).unwrap();
            let pg = std::fs::read_to_string(format!("{dir}/postgres/{}", name.to_string_lossy()))
                .unwrap_or_else(|_| panic!("{name:?} has no PostgreSQL twin"));
            assert!(!lite.contains("POSTGRESQL ONLY"), "{name:?}: the SQLite set has no PostgreSQL-only blocks");
            assert_eq!(
                lite.replace("BLOB", "BYTEA"),
                without_postgres_only(&pg),
                "{name:?} differs beyond BLOB/BYTEA and PostgreSQL-only blocks"
            );
        }
        let pg_count =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/migrations/postgres")).unwrap().count();
        let lite_count =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/migrations/sqlite")).unwrap().count();
        assert_eq!(pg_count, lite_count, "a migration exists for one backend only");
    }
}
