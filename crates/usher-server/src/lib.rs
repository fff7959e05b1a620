//! usher: self-hosted authentication and user management, wire-compatible with Clerk.
//!
//! The server speaks Clerk's Backend API (`/v1/…` with a secret key), mints RS256 session
//! tokens and JWT-template tokens, and publishes its keys as a JWKS, so Clerk's own SDKs work
//! against it. [`App::build`] opens the store and binds the listener; [`App::run`] serves until
//! the shutdown future resolves. `main.rs` only parses the command line ([`cli`]).
//!
//! Layout, from the edge inwards (a module only imports modules below it):
//! - [`router`]: the whole HTTP surface, [`api`] and [`pages`] side by side.
//! - [`api`]: the Backend API ([`api::backend`], one module per resource) and the Frontend API
//!   ([`api::frontend`]); [`pages`]: the hosted pages. Thin handlers over the flows.
//! - [`http`]: the HTTP edge both use: cookies, origin checks and CORS, per-IP limits, body
//!   extraction, `_method` tunnelling.
//! - [`flows`]: what a person does in a browser (sign in, sign up, sessions, account), with no
//!   HTTP types.
//! - [`tokens`]: signing keys, JWS encoding, session and template tokens, shortcodes;
//!   [`mail`]: the outbox worker, SMTP and the development mailbox.
//! - [`store`]: one trait per resource and their SQL implementation (SQLite, PostgreSQL).
//! - [`serve`]: the accept loop (connection caps, header and body timeouts); [`tls`]: HTTPS on
//!   it; [`proxies`]: the client address behind trusted proxies.
//! - [`validate`]: input rules; [`origins`]: the origin allowlist and redirect checks;
//!   [`wire`]: records in Clerk's Backend API shapes; [`html`]: escaping.
//! - [`password`], [`ids`], [`clock`], [`seal`], [`limits`]: hashing, randomness, time,
//!   sealing secrets at rest, rate-limit buckets.
//! - [`config`], [`cli`]: configuration and commands; [`state`], [`error`]: glue.

pub mod api;
pub mod assets;
pub mod clerk_scripts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod flows;
pub mod html;
pub mod http;
pub mod ids;
pub mod limits;
pub mod mail;
pub mod oauth_metadata;
pub mod origins;
pub mod pages;
pub mod password;
pub mod proxies;
pub mod router;
pub mod seal;
pub mod serve;
pub mod state;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
pub mod tokens;
pub mod validate;
// Operations: metrics and moving users in and out.
pub mod metrics;
pub mod transfer;
pub mod webhooks;
pub mod wire;

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};
use tokio::net::TcpListener;

use crate::{
    clock::{Clock, SystemClock},
    config::Config,
    mail::{
        dev::DevMailbox,
        smtp::{SmtpConfig, SmtpMailer},
    },
    origins::Origins,
    password::Passwords,
    state::{AppState, Inner},
    store::{SqlStore, Store},
    tokens::keys::{self, KeyRing},
};

/// A built server: a bound listener and its state.
pub struct App {
    listener: TcpListener,
    /// HTTPS on `listener` (`tls_cert`/`tls_key`); `None` serves plain HTTP.
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: AppState,
    /// `/metrics` on an address of its own (`metrics_listen`), if configured.
    metrics_listener: Option<TcpListener>,
}

impl App {
    /// Opens the store, loads (or creates) the signing keys and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`App::build`] with a chosen clock (tests move time with [`clock::ManualClock`]).
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let sealer = Arc::new(seal::Sealer::new(config.secret_key.expose(), "outbox"));
        let webhook_sealer = Arc::new(seal::Sealer::new(config.secret_key.expose(), webhooks::SEAL_PURPOSE));
        let webhook_wakeup = Arc::new(tokio::sync::Notify::new());
        // The store writes each change's webhook event in the change's own transaction.
        let events = webhooks::Events {
            clock: clock.clone(),
            instance_id: webhooks::instance_id(config.secret_key.expose()),
            lockout_attempts: config.lockout_attempts,
            mail_sealer: sealer.clone(),
            payload_sealer: webhook_sealer.clone(),
            wake: webhook_wakeup.clone(),
            organization: api::backend::organizations::organization_event,
            membership: api::backend::organizations::membership_event,
            invitation: api::backend::invitations::invitation_event,
            role: api::backend::roles::role_event,
            permission: api::backend::roles::permission_event,
        };
        let store = SqlStore::open(&config.database.url()).await.context("opening the database")?;
        let store: Arc<dyn Store> = Arc::new(store.with_events(Arc::new(events)));
        let key_sealer = seal::Sealer::new(config.secret_key.expose(), keys::SEAL_PURPOSE);
        let keys =
            KeyRing::load(store.as_ref(), clock.now_ms(), key_sealer).await.context("loading the signing keys")?;
        // Read before binding, so a bad certificate stops the start before the port is taken.
        let tls =
            config.tls.as_ref().map(tls::TlsFiles::acceptor).transpose().context("loading the TLS certificate")?;
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let issuer =
            config.public_url.clone().unwrap_or_else(|| format!("{scheme}://{}", loopback_if_unspecified(addr)));
        let publishable_key = publishable_key(&issuer, config.production);
        let passwords =
            Passwords::new(config.password_min_length, config.password_max_length, config.password_hash_slots);
        let secret_key_digest = ids::sha256(config.secret_key.expose().as_bytes());
        let shared = match &config.redis_url {
            Some(url) => Some(
                limits::Shared::connect(url.expose(), &config.redis_prefix)
                    .await
                    .context("connecting to Redis (redis_url) for shared rate limits")?,
            ),
            None => None,
        };
        let limits = limits::Limits::new(config.backend_requests_per_10s, config.frontend_rate_limits, shared);
        let mut origins = Origins { exact: config.allowed_origins.clone(), localhost: config.allow_localhost_origins };
        origins.exact.extend(origins::parse_origin(&issuer));
        let (mailer, dev_mailbox): (Arc<dyn mail::Mailer>, _) = match &config.smtp {
            Some(smtp) => {
                let settings = SmtpConfig { url: smtp.url.expose().to_owned(), from: smtp.from.clone() };
                (Arc::new(SmtpMailer::new(settings)?), None)
            }
            None => {
                let mailbox = Arc::new(DevMailbox::new(clock.clone()));
                (mailbox.clone(), Some(mailbox))
            }
        };
        let mailer = Arc::new(mail::sealed::OpeningMailer { inner: mailer, sealer: sealer.clone() });
        let state = AppState::new(Inner {
            config,
            store,
            keys,
            passwords,
            clock,
            issuer,
            publishable_key,
            secret_key_digest,
            limits,
            origins,
            mail_wakeup: Default::default(),
            sealer,
            mailer,
            dev_mailbox,
            webhook_wakeup,
            webhook_sealer,
            metrics: Arc::new(metrics::Metrics::new()),
            oauth_metadata: Default::default(),
        });
        let metrics_listener = match state.config.metrics.listen {
            Some(addr) => {
                Some(TcpListener::bind(addr).await.with_context(|| format!("binding the metrics address {addr}"))?)
            }
            None => None,
        };
        Ok(Self { listener, tls, state, metrics_listener })
    }

    /// Whether the listener speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The address the server listens on (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The address `/metrics` is served on when it has one of its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The shared state (issuer, keys, store).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Self { listener, tls, state, metrics_listener } = self;
        let reloader = tokio::spawn(reload_keys(state.clone()));
        let outbox = tokio::spawn(mail::outbox::run(
            state.store.clone(),
            state.mailer.clone(),
            state.clock.clone(),
            state.mail_wakeup.clone(),
        ));
        let pruner = tokio::spawn(prune_limiters(state.clone()));
        let audit_pruner = tokio::spawn(prune_audit_log(state.clone()));
        let deliverer = Arc::new(
            webhooks::deliver::Deliverer::new(
                state.store.clone(),
                state.clock.clone(),
                state.webhook_sealer.clone(),
                state.config.webhooks.clone(),
            )
            .map_err(std::io::Error::other)?,
        );
        let webhooks = tokio::spawn(deliverer.run(state.webhook_wakeup.clone()));
        let edge = serve::Edge::from_config(&state.config, serve::raise_open_file_limit());
        // The metrics listener ends with the main one.
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics_server = metrics_listener.map(|l| {
            let edge = edge.clone();
            let app = router::metrics_router(state.clone());
            // Plain HTTP: the metrics listener is kept off the public ingress.
            tokio::spawn(serve::serve(l, None, app, edge, async move {
                let _ = metrics_stopped.await;
            }))
        });
        let result = serve::serve(listener, tls, router::router(state), edge, shutdown).await;
        drop(stop_metrics);
        if let Some(server) = metrics_server {
            let _ = server.await;
        }
        reloader.abort();
        outbox.abort();
        pruner.abort();
        audit_pruner.abort();
        webhooks.abort();
        result
    }
}

/// Re-reads the signing keys now and then, so rotations by another process (or node) and the
/// expiry of retired keys show up without a restart.
async fn reload_keys(state: AppState) {
    let mut tick = tokio::time::interval(state.config.key_reload_interval);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = state.keys.reload(state.store.as_ref(), state.now()).await {
            tracing::warn!(error = %e, "reloading signing keys failed; keeping the current ones");
        }
    }
}

/// Drops idle per-IP rate-limit buckets now and then.
async fn prune_limiters(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        state.limits.prune();
    }
}

/// Removes audit-log entries older than the retention period, at start and then hourly.
async fn prune_audit_log(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match flows::audit::prune(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "pruned audit-log entries past their retention"),
            Err(e) => tracing::warn!(error = %e.body().message, "pruning the audit log failed"),
        }
    }
}

fn loopback_if_unspecified(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(a) if a.ip().is_unspecified() => SocketAddr::from(([127, 0, 0, 1], a.port())),
        SocketAddr::V6(a) if a.ip().is_unspecified() => SocketAddr::from(([127, 0, 0, 1], a.port())),
        other => other,
    }
}

/// `pk_test_`/`pk_live_` + base64(`<host>$`), the format Clerk's SDKs decode the Frontend API
/// host from.
pub fn publishable_key(issuer: &str, production: bool) -> String {
    let host = issuer.split_once("://").map_or(issuer, |(_, rest)| rest).trim_end_matches('/');
    let prefix = if production { "pk_live_" } else { "pk_test_" };
    format!("{prefix}{}", STANDARD_NO_PAD.encode(format!("{host}$")))
}
