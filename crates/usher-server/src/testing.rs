//! A real server for tests in other crates (the SDK's, the examples'), behind the cargo feature
//! `testing`, so that every test binary starts it the same way.
//!
//! ```no_run
//! # async fn f() {
//! let server = usher_server::testing::start(|config| config.password_hash_slots = 4).await;
//! let jwks = reqwest::get(format!("{}/v1/jwks", server.url)).await;
//! server.clock.advance_ms(61_000); // minted tokens have expired
//! # let _ = jwks; }
//! ```
//!
//! `TEST_LOG=1` shows the server's logs (and the SDK's) in the test output; `RUST_LOG` picks
//! what, as for the binary.

use std::{net::SocketAddr, sync::Arc};

use tokio::sync::oneshot;
use tracing_subscriber::EnvFilter;

use crate::{
    App,
    clock::ManualClock,
    config::{Config, Database, Secret},
    ids,
    state::AppState,
};

/// A server running in this process on `127.0.0.1:0` with a fresh SQLite file and a clock the
/// test moves. Dropping it shuts the server down and deletes the file.
pub struct TestServer {
    /// The server's URL: its Backend API, Frontend API and issuer.
    pub url: String,
    /// The instance's secret key, `sk_test_…`.
    pub secret: String,
    /// The publishable key naming [`TestServer::url`]'s host.
    pub publishable: String,
    /// The server's state, for reaching into the store or the keys.
    pub state: AppState,
    /// The server's clock: it stands still until the test advances it.
    pub clock: Arc<ManualClock>,
    stop: Option<oneshot::Sender<()>>,
    // Declared last so that it is deleted after the shutdown was asked for.
    _dir: tempfile::TempDir,
}

/// Never the secret key.
impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url)
            .field("publishable", &self.publishable)
            .finish_non_exhaustive()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a server configured by [`Config::new`] and then `adjust`; panics if it cannot start
/// (a test cannot go on without it).
pub async fn start(adjust: impl FnOnce(&mut Config)) -> TestServer {
    init_logging();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let secret = format!("sk_test_{}", ids::random_base62(40));
    let mut config = Config::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Database::Sqlite(dir.path().join("usher.db")),
        Secret::new(secret.clone()),
    );
    adjust(&mut config);
    let clock = Arc::new(ManualClock::new());
    let app = App::build_with_clock(config, clock.clone()).await.expect("the test server builds");
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    TestServer {
        url: state.issuer.clone(),
        publishable: state.publishable_key.clone(),
        secret,
        state,
        clock,
        stop: Some(stop),
        _dir: dir,
    }
}

/// With `TEST_LOG=1`, logs go to the test's captured output (shown for failing tests, or all
/// with `--nocapture`). Installed once per test binary; later calls find it there.
fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some_and(|v| v == "1") {
        let filter = EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new("usher_server=debug,usher=debug,tower_http=debug"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}
