//! Spawning servers and databases, and a small JSON client for the Backend API.

use std::{net::SocketAddr, sync::Arc};

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};
use tokio::sync::oneshot;
use usher_server::{
    App,
    clock::ManualClock,
    config::{Config, Database, Secret},
    ids,
    state::AppState,
    store::{SqlStore, Store},
};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh database: a SQLite file in a temporary directory, or a PostgreSQL database that is
/// dropped when this guard is.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

fn pg_admin_url() -> String {
    std::env::var("USHER_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Whether PostgreSQL tests were switched off on purpose.
pub fn skip_postgres() -> bool {
    std::env::var("USHER_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

impl TestDb {
    pub async fn new(db: Db) -> Self {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("usher.db").display());
                Self { url, _dir: Some(dir), pg_name: None }
            }
            Db::Postgres => {
                let admin = pg_admin_url();
                let name = format!("usher_test_{}", ids::random_base62(12).to_lowercase());
                let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL must be reachable at {admin} (set USHER_SKIP_POSTGRES=1 to skip): {e}")
                });
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                Self { url: format!("{base}/{name}"), _dir: None, pg_name: Some(name) }
            }
        }
    }

    pub async fn store(&self) -> Arc<dyn Store> {
        Arc::new(SqlStore::open(&self.url).await.expect("open store"))
    }

    pub fn database(&self) -> Database {
        Database::from_url(self.url.split('?').next().unwrap_or(&self.url)).expect("database url")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
        let admin = pg_admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

/// A server running in this process on port 0, with a clock the test controls.
pub struct TestApp {
    pub url: String,
    pub secret: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    _db: TestDb,
    stop: Option<oneshot::Sender<()>>,
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

pub async fn spawn_app_with(db: Db, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(db).await;
    let secret = format!("sk_test_{}", ids::random_base62(40));
    let mut config = Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), db.database(), Secret::new(secret.clone()));
    config.password_hash_slots = 4;
    adjust(&mut config);
    let clock = Arc::new(ManualClock::new());
    let app = App::build_with_clock(config, clock.clone()).await.expect("build app");
    let url = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    TestApp { url, secret, http: reqwest::Client::new(), clock, state, _db: db, stop: Some(stop) }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// The URL of the server's database, for tests that reach into it.
    pub fn database_url(&self) -> &str {
        &self._db.url
    }

    /// Sends a Backend API request with the secret key; returns the status and JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.url)).bearer_auth(&self.secret);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// Creates a user with `email` and a password; returns its JSON.
    pub async fn create_user(&self, email: &str) -> Value {
        let (status, user) =
            self.post("/v1/users", json!({"email_address": [email], "password": "correct horse battery"})).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        user
    }

    /// Creates a user and an active session for it; returns (user id, session id).
    pub async fn user_with_session(&self, email: &str) -> (String, String) {
        let user = self.create_user(email).await;
        let id = user["id"].as_str().unwrap().to_owned();
        let (status, session) = self.post("/v1/sessions", json!({"user_id": id})).await;
        assert_eq!(status, StatusCode::OK, "{session}");
        (id, session["id"].as_str().unwrap().to_owned())
    }

    /// The public JWKS.
    pub async fn jwks(&self) -> Value {
        self.http.get(format!("{}/.well-known/jwks.json", self.url)).send().await.unwrap().json().await.unwrap()
    }
}

/// Splits a compact JWT into (header, claims) without verifying it.
pub fn decode(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let mut next = || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (next(), next())
}

/// Verifies an RS256 JWT against a JWKS the way an independent verifier would; returns the
/// claims, or `None` when no listed key verifies it.
pub fn verify_rs256(jwt: &str, jwks: &Value) -> Option<Value> {
    let (header, claims) = decode(jwt);
    if header["alg"] != "RS256" {
        return None;
    }
    let key = jwks["keys"].as_array()?.iter().find(|k| k["kid"] == header["kid"])?;
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str()?).ok()?;
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str()?).ok()?;
    let (signed, signature) = jwt.rsplit_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature).ok()?;
    Some(claims)
}

/// Asserts a Clerk error answer: the status, the first error's code, and the full shape.
pub fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["code"], code, "{body}");
    assert!(error["message"].is_string() && error["long_message"].is_string(), "{body}");
    assert!(body["clerk_trace_id"].is_string(), "{body}");
}
